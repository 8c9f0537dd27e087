//! `1c2f`: InfoPro's auxiliary head (Wang et al., "Revisiting Locally Supervised Learning",
//! ICLR 2021): conv3×3 C→2C stride 2 (C→C stride 1 from 64 channels on) → BN → ReLU → global
//! average pool → linear 128 → ReLU → linear.

use pgl_burn::burn::nn::pool::AdaptiveAvgPool2dConfig;
use pgl_burn::burn::nn::{BatchNormConfig, LinearConfig, Relu};
use pgl_burn::burn::prelude::Device;

use super::aux_head::{AuxHead, HeadLayers};
use crate::layer::{Flatten, Layer};
use crate::residual::conv3x3;
use crate::shape::FeatureShape;

/// The `1c2f` head.
pub const HEAD: AuxHead = AuxHead::new("1c2f", DESIGN, ORIGIN, build);

const DESIGN: &str = "conv3x3 C->2C stride 2 (C->C stride 1 from 64 channels) -> BN -> ReLU -> global pool -> linear 128 -> ReLU -> linear";
const ORIGIN: &str = "InfoPro (Wang et al., ICLR 2021)";

fn build(features: FeatureShape, classes: usize, device: &Device) -> HeadLayers {
    let (channels, _, _) = HEAD.spatial(features)?;
    let (out, stride) = if channels < 64 {
        (2 * channels, 2)
    } else {
        (channels, 1)
    };
    Ok(vec![
        Layer::Conv(conv3x3(channels, out, stride, device)),
        Layer::Norm(BatchNormConfig::new(out).init(device)),
        Layer::Relu(Relu::new()),
        Layer::AvgPool(AdaptiveAvgPool2dConfig::new([1, 1]).init()),
        Layer::Flatten(Flatten),
        Layer::Linear(LinearConfig::new(out, 128).init(device)),
        Layer::Relu(Relu::new()),
        Layer::Linear(LinearConfig::new(128, classes).init(device)),
    ])
}
