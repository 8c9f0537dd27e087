//! `mlp-sr`: DGL's spatially reduced MLP head (Belilovsky, Eickenberg & Oyallon, "Decoupled
//! Greedy Learning of CNNs", ICML 2020): average pool to ⌈H/4⌉×⌈W/4⌉ → 3 × (conv1×1 C→C → BN
//! → ReLU) → average pool 2×2 → 3 × (linear 4C→4C → BN → ReLU) → linear.

use pgl_burn::burn::nn::conv::Conv2dConfig;
use pgl_burn::burn::nn::pool::AdaptiveAvgPool2dConfig;
use pgl_burn::burn::nn::{BatchNormConfig, LinearConfig, Relu};
use pgl_burn::burn::prelude::Device;

use super::aux_head::{AuxHead, HeadLayers};
use crate::layer::{Flatten, Layer};
use crate::shape::FeatureShape;

/// The `mlp-sr` head.
pub const HEAD: AuxHead = AuxHead::new("mlp-sr", DESIGN, ORIGIN, build);

const DESIGN: &str = "average pool to H/4 x W/4 -> 3 x (conv1x1, BN, ReLU) -> average pool 2x2 -> 3 x (linear 4C, BN, ReLU) -> linear";
const ORIGIN: &str = "DGL's MLP-SR (Belilovsky et al., ICML 2020)";

fn build(features: FeatureShape, classes: usize, device: &Device) -> HeadLayers {
    let (channels, height, width) = HEAD.spatial(features)?;
    let pool = |h: usize, w: usize| Layer::AvgPool(AdaptiveAvgPool2dConfig::new([h, w]).init());
    let mut layers = vec![pool(height.div_ceil(4), width.div_ceil(4))];
    for _ in 0..3 {
        layers.push(Layer::Conv(
            Conv2dConfig::new([channels, channels], [1, 1])
                .with_bias(false)
                .init(device),
        ));
        layers.push(Layer::Norm(BatchNormConfig::new(channels).init(device)));
        layers.push(Layer::Relu(Relu::new()));
    }
    layers.push(pool(2, 2));
    layers.push(Layer::Flatten(Flatten));
    let hidden = 4 * channels;
    for _ in 0..3 {
        layers.push(Layer::Linear(
            LinearConfig::new(hidden, hidden).init(device),
        ));
        layers.push(Layer::Norm(BatchNormConfig::new(hidden).init(device)));
        layers.push(Layer::Relu(Relu::new()));
    }
    layers.push(Layer::Linear(
        LinearConfig::new(hidden, classes).init(device),
    ));
    Ok(layers)
}
