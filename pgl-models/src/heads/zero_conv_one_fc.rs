//! `0c1f`: global average pool → linear; InfoPro's "greedy SL" head (Wang et al., ICLR
//! 2021). On flat (MLP) features it is a single linear layer, the only head that applies there.

use pgl_burn::burn::nn::pool::AdaptiveAvgPool2dConfig;
use pgl_burn::burn::prelude::Device;

use super::aux_head::{AuxHead, HeadLayers};
use crate::layer::{Layer, linear_head};
use crate::shape::FeatureShape;

/// The `0c1f` head.
pub const HEAD: AuxHead = AuxHead::new("0c1f", DESIGN, ORIGIN, build);

const DESIGN: &str = "global average pool -> linear";
const ORIGIN: &str = "InfoPro's \"greedy SL\" head";

fn build(features: FeatureShape, classes: usize, device: &Device) -> HeadLayers {
    let FeatureShape::Spatial { channels, .. } = features else {
        return Ok(linear_head(features, classes, device));
    };
    let mut layers = vec![Layer::AvgPool(AdaptiveAvgPool2dConfig::new([1, 1]).init())];
    layers.extend(linear_head(
        FeatureShape::Spatial {
            channels,
            height: 1,
            width: 1,
        },
        classes,
        device,
    ));
    Ok(layers)
}
