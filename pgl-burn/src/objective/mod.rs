//! The tensor side of local objectives ([`pgl_core::objective`]): the extra heads an objective
//! needs ([`ObjectiveHeads`]: a [`Decoder`] and/or a [`Projection`] per module) and the loss of
//! one module in a local step ([`module_loss`]), one file per term:
//!
//! - [`ce`]: the head's cross-entropy (`ce`, DGL; InfoPro's `class=ce` term),
//! - [`infopro`]: InfoPro's decoder and reconstruction loss (mean squared error),
//! - [`supcon`]: the projection head and the supervised contrastive loss.
//!
//! Module k's loss is `w_rec · reconstruction + w_cls · cross-entropy + w_con · contrastive`
//! with the weights the objective gives module k of K; a term of weight 0 is not computed, and
//! weights that are cross-entropy alone compute exactly the cross-entropy (no multiplication),
//! so `ce` runs are bit-identical to runs before objectives existed.
//!
//! **Extra heads belong to their module**: module k's optimizer steps them with module k's
//! parameters (Burn's `ModuleOptimizer` keeps its state per parameter, so the same optimizer
//! serves both, and its checkpoint file holds the heads' state too), checkpoints save them
//! (`objective.bpk`), and the pipeline hands each worker the heads of its modules. They are
//! initialised from `(seed, "objective heads", k)` alone ([`crate::model::derive_seed`]).
//! Global steps do not use them: a global step's loss is the classifier's (plus `aux_weight`
//! times the aux heads' cross-entropy), whatever the local objective.

pub mod ce;
pub mod infopro;
pub mod supcon;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLoss;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::Gradients;
use pgl_core::objective::{LocalObjective, ObjectiveWeights};

use crate::activation::Activation;
use crate::model::{DecoupledModel, derive_seed, initialize_seeded};

pub use infopro::Decoder;
pub use supcon::Projection;

/// Salt of the extra heads' seeds ([`derive_seed`]).
pub const HEADS_SALT: u64 = u64::from_le_bytes(*b"pgl:objh");

/// The extra heads of one module: those its weights use.
#[derive(Module, Debug)]
pub struct ModuleHeads {
    /// Reconstructs the input image (when the reconstruction weight is `> 0`).
    pub decoder: Option<Decoder>,
    /// Projects the module's output for the contrastive term (when its weight is `> 0`).
    pub projection: Option<Projection>,
}

impl ModuleHeads {
    fn empty() -> Self {
        Self {
            decoder: None,
            projection: None,
        }
    }
}

/// The extra heads of every module of a network (or of a pipeline group), in module order;
/// empty when the objective needs none (`ce`).
#[derive(Module, Debug)]
pub struct ObjectiveHeads {
    modules: Vec<ModuleHeads>,
}

impl ObjectiveHeads {
    /// No extra heads.
    pub fn none() -> Self {
        Self {
            modules: Vec::new(),
        }
    }

    /// The heads `objective` needs for `model`, whose input images have shape `image`
    /// (`[channels, height, width]`), on `device`; module k's are initialised from
    /// `(seed, HEADS_SALT, k)`. Each module's output shape is found by one forward pass of a
    /// zero image in evaluation mode (no BatchNorm statistic changes). Empty when no module's
    /// weights use a decoder or a projection.
    pub fn build<M: DecoupledModel>(
        objective: &dyn LocalObjective,
        model: &M,
        image: [usize; 3],
        seed: u64,
        device: &Device,
    ) -> Self {
        let modules = model.num_modules();
        if !Self::needed(objective, modules) {
            return Self::none();
        }
        let weights: Vec<ObjectiveWeights> = (0..modules)
            .map(|k| objective.weights(k, modules))
            .collect();
        let shapes = output_shapes(model, image, device);
        let dim = objective.extra_heads().projection.unwrap_or(0);
        let heads = weights
            .iter()
            .zip(&shapes)
            .enumerate()
            .map(|(k, (w, shape))| {
                let heads = ModuleHeads {
                    decoder: (w.reconstruction > 0.0).then(|| Decoder::new(shape, image, device)),
                    projection: (w.contrastive > 0.0)
                        .then(|| Projection::new(Projection::input_size(shape), dim, device)),
                };
                initialize_seeded(&heads, device, derive_seed(seed, HEADS_SALT, k as u64));
                heads
            })
            .collect();
        Self { modules: heads }
    }

    /// Whether `objective` needs any extra head for a network of `modules` modules: whether
    /// some module's reconstruction or contrastive weight is `> 0`.
    pub fn needed(objective: &dyn LocalObjective, modules: usize) -> bool {
        !objective.is_plain_ce()
            && (0..modules).any(|k| {
                let w = objective.weights(k, modules);
                w.reconstruction > 0.0 || w.contrastive > 0.0
            })
    }

    /// Whether there are no extra heads at all.
    pub fn is_empty(&self) -> bool {
        self.modules.is_empty()
    }

    /// Whether some module has a decoder (its loss needs the input images).
    pub fn needs_images(&self) -> bool {
        self.modules.iter().any(|m| m.decoder.is_some())
    }

    /// The heads of module `k` of this network or group, if any.
    pub fn module(&self, k: usize) -> Option<&ModuleHeads> {
        self.modules.get(k)
    }

    /// Splits the heads like [`DecoupledModel::into_groups`]: consecutive groups of `sizes[i]`
    /// modules (no heads: every group empty).
    pub fn into_groups(self, sizes: &[usize]) -> Vec<Self> {
        if self.modules.is_empty() {
            return sizes.iter().map(|_| Self::none()).collect();
        }
        let mut modules = self.modules.into_iter();
        sizes
            .iter()
            .map(|&n| Self {
                modules: modules.by_ref().take(n).collect(),
            })
            .collect()
    }

    /// The inverse of [`into_groups`](Self::into_groups).
    pub fn from_groups(groups: Vec<Self>) -> Self {
        Self {
            modules: groups.into_iter().flat_map(|g| g.modules).collect(),
        }
    }

    /// Steps module `k`'s heads with `optimizer` on their gradients in `grads` (removed from
    /// it); nothing when module k has no heads.
    pub(crate) fn step(
        &mut self,
        k: usize,
        optimizer: &mut ModuleOptimizer,
        lr: f64,
        grads: &mut Gradients,
    ) {
        let Some(slot) = self.modules.get_mut(k) else {
            return;
        };
        if slot.decoder.is_none() && slot.projection.is_none() {
            return;
        }
        let heads = std::mem::replace(slot, ModuleHeads::empty());
        let head_grads = GradientsParams::from_module(grads, &heads);
        *slot = optimizer.step(lr, heads, head_grads);
    }
}

/// The output shape (without the batch dimension) of every module of `model` for images of
/// shape `image`.
fn output_shapes<M: DecoupledModel>(
    model: &M,
    image: [usize; 3],
    device: &Device,
) -> Vec<Vec<usize>> {
    let model = model.valid();
    let device = device.clone().inner();
    let [c, h, w] = image;
    let mut x = Activation::Spatial(Tensor::<4>::zeros([1, c, h, w], &device));
    (0..model.num_modules())
        .map(|k| {
            x = model.forward_module(k, x.clone());
            x.dims()[1..].to_vec()
        })
        .collect()
}

/// What module losses compare against: the labels and, when a decoder needs them, the input
/// images of the batch.
#[derive(Clone, Copy)]
pub struct LocalTargets<'a> {
    /// Class labels `[batch]`.
    pub labels: &'a Tensor<1, Int>,
    /// The network's input images (`None` when no module has a decoder).
    pub images: Option<&'a Activation>,
}

/// The local loss of module `k` (0-based within `model`, which may be a pipeline group) on its
/// output `features`: the terms `weights` asks for, with module k's extra heads `heads`.
///
/// # Panics
/// When the weights use a head that `heads` lacks, or reconstruction without `targets.images`
/// (the trainer builds the heads from the same weights).
#[allow(clippy::too_many_arguments)]
pub fn module_loss<M: DecoupledModel>(
    model: &M,
    heads: Option<&ModuleHeads>,
    k: usize,
    weights: ObjectiveWeights,
    temperature: f64,
    features: Activation,
    targets: LocalTargets<'_>,
    loss_fn: &CrossEntropyLoss,
) -> Tensor<1> {
    if weights.is_ce() {
        return ce::classification_term(model, k, features, targets.labels, loss_fn);
    }
    let mut total: Option<Tensor<1>> = None;
    let mut add = |term: Tensor<1>, weight: f64| {
        let term = term * weight;
        total = Some(match total.take() {
            Some(sum) => sum + term,
            None => term,
        });
    };
    if weights.reconstruction > 0.0 {
        let decoder = heads
            .and_then(|h| h.decoder.as_ref())
            .expect("a decoder for a module with a reconstruction weight");
        let images = targets.images.expect("input images for the reconstruction");
        add(
            infopro::reconstruction_term(decoder, features.clone(), images),
            weights.reconstruction,
        );
    }
    if weights.classification > 0.0 {
        let term = ce::classification_term(model, k, features.clone(), targets.labels, loss_fn);
        add(term, weights.classification);
    }
    if weights.contrastive > 0.0 {
        let projection = heads
            .and_then(|h| h.projection.as_ref())
            .expect("a projection head for a module with a contrastive weight");
        let term = supcon::contrastive_term(projection, features, targets.labels, temperature);
        add(term, weights.contrastive);
    }
    total.expect("valid weights have a term > 0")
}
