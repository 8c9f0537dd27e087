//! A network of depthwise-separable convolutions with GELU — layers pgl's zoo does not have —
//! as a PGL model: each stage is a Burn module implementing [`Stage`], and [`StagedNet`]
//! makes the stages a [`DecoupledModel`](pgl_burn::DecoupledModel) the trainer, the
//! pipeline, checkpoints and export handle like any other.

#![deny(missing_docs)]

use pgl_burn::burn::module::Module;
use pgl_burn::burn::nn::conv::{Conv2d, Conv2dConfig};
use pgl_burn::burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use pgl_burn::burn::prelude::*;
use pgl_burn::burn::tensor::activation::gelu;
use pgl_burn::model::initialize_seeded;
use pgl_burn::{Activation, Stage, StagedNet};

/// A depthwise 3×3 convolution, a pointwise 1×1 convolution, BatchNorm and GELU; its head
/// averages the feature map and applies a linear layer.
#[derive(Module, Debug)]
pub struct SeparableStage {
    depthwise: Conv2d,
    pointwise: Conv2d,
    norm: BatchNorm,
    head: Linear,
}

impl SeparableStage {
    /// A stage from `input` to `output` channels whose head predicts `classes` classes.
    pub fn new(input: usize, output: usize, classes: usize, device: &Device) -> Self {
        Self {
            depthwise: Conv2dConfig::new([input, input], [3, 3])
                .with_groups(input)
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            pointwise: Conv2dConfig::new([input, output], [1, 1]).init(device),
            norm: BatchNormConfig::new(output).init(device),
            head: LinearConfig::new(output, classes).init(device),
        }
    }
}

impl Stage for SeparableStage {
    fn forward(&self, input: Activation) -> Activation {
        let x = self.depthwise.forward(input.into_spatial());
        let x = self.norm.forward(self.pointwise.forward(x));
        Activation::Spatial(gelu(x))
    }

    fn head(&self, features: Activation) -> Tensor<2> {
        let x = features.into_spatial();
        let [batch, channels, _, _] = x.dims();
        let pooled = x.mean_dim(3).mean_dim(2).reshape([batch, channels]);
        self.head.forward(pooled)
    }
}

/// The network: one stage per width step of `widths` (the first entry is the input's
/// channels), so `widths.len() - 1` decoupled modules, each predicting `classes` classes; its
/// initial weights are a function of `seed` alone ([`initialize_seeded`]: Burn draws them
/// lazily from a process-wide generator, so they are drawn here, at once).
pub fn separable_net(
    widths: &[usize],
    classes: usize,
    seed: u64,
    device: &Device,
) -> StagedNet<SeparableStage> {
    let stages = widths
        .windows(2)
        .map(|w| SeparableStage::new(w[0], w[1], classes, device))
        .collect();
    let net = StagedNet::new(stages);
    initialize_seeded(&net, device, seed);
    net
}
