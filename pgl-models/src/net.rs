//! [`DecoupledNet`]: a list of blocks cut into K [`Stage`]s, each with its head.
//!
//! The network is generic over its layer type: the zoo's [`Layer`] by default, or any Burn
//! module implementing [`NetLayer`] — e.g. a user's enum of the zoo's layers and their own.
//! [`DecoupledNet::map_layers`] turns a zoo network (built, seeded and headed by the
//! [`ModelCatalog`](crate::ModelCatalog)) into one of the user's layer type, where they can
//! then replace or insert layers of their own.

use pgl_burn::burn::module::Module;
use pgl_burn::burn::optim::GradientsParams;
use pgl_burn::burn::prelude::*;
use pgl_burn::burn::tensor::Gradients;
use pgl_burn::export::Reference;
use pgl_burn::model::split_into_groups;
use pgl_burn::{Activation, ConvInit, DecoupledModel, HeadStack};
use pgl_core::SplitPlan;

use crate::heads::{AuxHead, HeadSite, LaterBlock};
use crate::layer::Layer;
use crate::net_layer::NetLayer;
use crate::shape::FeatureShape;

/// One decoupled module: its body and its head (an auxiliary head, or the network's
/// classifier for the last stage).
#[derive(Module, Debug)]
pub struct Stage<L: NetLayer = Layer> {
    /// The module's layers, in order.
    pub body: Vec<L>,
    /// The head's layers: features → logits.
    pub head: Vec<L>,
    /// Where the module stands in the network: what a copy of the aux head's design
    /// ([`DecoupledModel::aux_head_like`]) is built at. Not saved with the weights.
    #[module(skip)]
    pub site: StageSite,
}

/// A stage's place in the network, kept to build copies of its head's design: the owned
/// form of a [`HeadSite`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageSite {
    /// Index k of the module.
    pub module: usize,
    /// Number of modules K.
    pub modules: usize,
    /// Index of the module's last block in the network.
    pub last_block: usize,
    /// The blocks after the module.
    pub later: Vec<LaterBlock>,
}

impl StageSite {
    /// The [`HeadSite`] of this stage for a head on `features`.
    pub fn at(&self, features: FeatureShape) -> HeadSite<'_> {
        HeadSite {
            features,
            module: self.module,
            modules: self.modules,
            last_block: self.last_block,
            later: &self.later,
        }
    }
}

/// A network of K stages of layers `L` (the zoo's [`Layer`] unless said otherwise); the zoo's
/// implementation of [`DecoupledModel`].
#[derive(Module, Debug)]
pub struct DecoupledNet<L: NetLayer = Layer> {
    /// The K stages, in order.
    pub stages: Vec<Stage<L>>,
    /// The design of the auxiliary heads (`None` when the net was cut with a head builder of
    /// its own): what [`DecoupledModel::aux_head_like`] copies. Not saved with the weights.
    #[module(skip)]
    pub aux_head: Option<AuxHead>,
    /// How the convolutions were initialised ([`DecoupledModel::conv_init`]). Not saved.
    #[module(skip)]
    pub conv_init: ConvInit,
    /// The PyTorch reference's version of this network, from its zoo entry
    /// ([`DecoupledModel::pytorch_reference`]). Not saved.
    #[module(skip)]
    pub pytorch: Option<&'static Reference>,
}

/// One block of a network before splitting: its layers and its output shape.
#[derive(Debug)]
pub struct Block<L = Layer> {
    /// The layers.
    pub layers: Vec<L>,
    /// Output shape of the block.
    pub output: FeatureShape,
}

impl<L> Block<L> {
    /// `count` blocks in a chain: block `i` is made by `block(i, shape)` on the output shape
    /// of block `i − 1` (`input` for the first), which returns its layers and output shape.
    pub fn chain(
        input: FeatureShape,
        count: usize,
        mut block: impl FnMut(usize, FeatureShape) -> (Vec<L>, FeatureShape),
    ) -> Vec<Self> {
        let mut shape = input;
        (0..count)
            .map(|i| {
                let (layers, output) = block(i, shape);
                shape = output;
                Block { layers, output }
            })
            .collect()
    }
}

impl<L: NetLayer> DecoupledNet<L> {
    /// Cuts `blocks` into modules as `plan` says and gives every module a head built by
    /// `head(output_shape_of_the_module, is_last_module)`.
    ///
    /// # Panics
    /// When `plan` does not split exactly `blocks.len()` blocks (a programming error).
    pub fn from_blocks(
        blocks: Vec<Block<L>>,
        plan: &SplitPlan,
        mut head: impl FnMut(FeatureShape, bool) -> Vec<L>,
    ) -> Self {
        Self::try_from_blocks(blocks, plan, |features, last| {
            Ok::<_, std::convert::Infallible>(head(features, last))
        })
        .unwrap_or_else(|never| match never {})
    }

    /// Like [`from_blocks`](Self::from_blocks) with a head builder that can fail.
    pub fn try_from_blocks<E>(
        blocks: Vec<Block<L>>,
        plan: &SplitPlan,
        mut head: impl FnMut(FeatureShape, bool) -> Result<Vec<L>, E>,
    ) -> Result<Self, E> {
        Self::try_from_blocks_at(blocks, plan, |site| head(site.features, site.is_last()))
    }

    /// Like [`try_from_blocks`](Self::try_from_blocks) with a head builder that sees each
    /// head's [`HeadSite`]: the module's place and the blocks after it (what AugLocal's heads
    /// copy).
    pub fn try_from_blocks_at<E>(
        blocks: Vec<Block<L>>,
        plan: &SplitPlan,
        mut head: impl FnMut(&HeadSite<'_>) -> Result<Vec<L>, E>,
    ) -> Result<Self, E> {
        assert_eq!(
            plan.layers(),
            blocks.len(),
            "split plan and block count differ"
        );
        let later: Vec<LaterBlock> = blocks.iter().map(Block::as_later).collect();
        let ranges = plan.modules();
        let modules = ranges.len();
        let mut blocks = blocks.into_iter();
        let mut stages = Vec::with_capacity(modules);
        for (module, range) in ranges.into_iter().enumerate() {
            let mut body = Vec::new();
            for block in blocks.by_ref().take(range.len()) {
                body.extend(block.layers);
            }
            assert!(
                !range.is_empty(),
                "module {module} of the split plan is empty"
            );
            let last_block = range.end - 1;
            let site = HeadSite {
                features: later[last_block].output,
                module,
                modules,
                last_block,
                later: &later[range.end..],
            };
            stages.push(Stage {
                body,
                head: head(&site)?,
                site: StageSite {
                    module,
                    modules,
                    last_block,
                    later: site.later.to_vec(),
                },
            });
        }
        Ok(Self {
            stages,
            aux_head: None,
            conv_init: ConvInit::Default,
            pytorch: None,
        })
    }

    /// The same network with every layer, of the bodies and of the heads, passed through
    /// `convert` in order (module by module, body before head): how a zoo network becomes
    /// one of a user's layer type `T`, e.g. `net.map_layers(MyLayer::Zoo)`, after which the
    /// user can insert or replace layers of their own in `stages[k].body`. Weights, the head
    /// sites, the aux head design and the convolution initialisation carry over; the PyTorch
    /// reference does not (its names describe the zoo's layers, not the user's):
    /// [`DecoupledModel::pytorch_reference`] is `None` for the result.
    pub fn map_layers<T: NetLayer>(self, mut convert: impl FnMut(L) -> T) -> DecoupledNet<T> {
        let stages = self
            .stages
            .into_iter()
            .map(|stage| Stage {
                body: stage.body.into_iter().map(&mut convert).collect(),
                head: stage.head.into_iter().map(&mut convert).collect(),
                site: stage.site,
            })
            .collect();
        DecoupledNet {
            stages,
            aux_head: self.aux_head,
            conv_init: self.conv_init,
            pytorch: None,
        }
    }
}

impl<L: NetLayer> Block<L> {
    /// What a head after an earlier module knows of this block.
    fn as_later(&self) -> LaterBlock {
        LaterBlock {
            output: self.output,
            residual: self.layers.iter().any(NetLayer::is_residual),
        }
    }
}

fn run<L: NetLayer>(layers: &[L], input: Activation) -> Activation {
    layers.iter().fold(input, |x, layer| layer.forward(x))
}

impl<L: NetLayer> DecoupledModel for DecoupledNet<L> {
    fn num_modules(&self) -> usize {
        self.stages.len()
    }

    fn forward_module(&self, k: usize, input: Activation) -> Activation {
        run(&self.stages[k].body, input)
    }

    fn head(&self, k: usize, features: Activation) -> Tensor<2> {
        run(&self.stages[k].head, features).into_flat()
    }

    fn module_grads(&self, k: usize, grads: &mut Gradients) -> GradientsParams {
        GradientsParams::from_module(grads, &self.stages[k])
    }

    fn module_num_params(&self, k: usize) -> usize {
        self.stages[k].num_params()
    }

    fn aux_head_like(
        &self,
        k: usize,
        features: &[usize],
        outputs: usize,
        device: &Device,
    ) -> Option<HeadStack> {
        let shape = match *features {
            [channels, height, width] => FeatureShape::Spatial {
                channels,
                height,
                width,
            },
            [features] => FeatureShape::Flat(features),
            _ => return None,
        };
        let mut stack = Vec::new();
        let site = self.stages.get(k)?.site.at(shape);
        for layer in self.aux_head?.build_at(&site, outputs, device).ok()? {
            stack.extend(layer.into_head_layer()?);
        }
        Some(HeadStack::new(stack))
    }

    fn conv_init(&self) -> ConvInit {
        self.conv_init
    }

    fn pytorch_reference(&self) -> Option<&'static Reference> {
        self.pytorch
    }

    fn into_groups(self, sizes: &[usize]) -> Vec<Self> {
        assert_eq!(
            sizes.iter().sum::<usize>(),
            self.stages.len(),
            "group sizes must cover every module"
        );
        split_into_groups(self.stages, sizes)
            .into_iter()
            .map(|stages| Self {
                stages,
                aux_head: self.aux_head,
                conv_init: self.conv_init,
                pytorch: self.pytorch,
            })
            .collect()
    }

    fn from_groups(groups: Vec<Self>) -> Self {
        let (aux_head, conv_init, pytorch) =
            groups.first().map_or((None, ConvInit::Default, None), |g| {
                (g.aux_head, g.conv_init, g.pytorch)
            });
        Self {
            stages: groups.into_iter().flat_map(|g| g.stages).collect(),
            aux_head,
            conv_init,
            pytorch,
        }
    }
}
