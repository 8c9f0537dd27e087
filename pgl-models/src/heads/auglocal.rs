//! `aug1`, `aug3`, `aug5`: AugLocal's augmented auxiliary networks (Ma et al., "Scaling
//! Supervised Local Learning with Augmented Auxiliary Networks", ICLR 2024). The head of
//! module k is a small copy of the network after it: `d_k` fresh blocks shaped like blocks
//! sampled uniformly from the later blocks (the last block always among them), then global
//! average pooling (+ batch norm when `d_k ≤ 1`) and a linear classifier. The depth shrinks
//! towards the top ("pyramidal depth", coefficient 0.5): `d_k = max(1, round(d·(1 − k·c/(K−2))
//! + k·c/(K−2)))`, rounded half to even as AugLocal's Python does.
//!
//! A copied block is built like the original: a residual basic block (with a 1×1
//! convolution + batch norm shortcut where the shape changes, as AugLocal's copies) where the
//! network has one, `conv3×3 → BN → ReLU` for a plain convolutional block, `linear → BN →
//! ReLU` for a flat one. A copy halves the feature map (stride 2) while it is larger than the
//! sampled block's output, one halving per copy, as AugLocal carries its pending poolings.
//! A local objective's projection head (`proj=aux`) copies the same blocks as its module's
//! head (each stage keeps its site); where those are residual blocks it is refused — a
//! projection head holds plain layers only — and `proj=mlp` is the way out. Built away from any
//! network (`AuxHead::build`, no later blocks) the head is pooling, batch norm and the
//! linear layer.

use pgl_burn::burn::nn::pool::AdaptiveAvgPool2dConfig;
use pgl_burn::burn::nn::{BatchNormConfig, LinearConfig};
use pgl_burn::burn::prelude::Device;

use super::aux_head::{AuxHead, HeadLayers, HeadSite, LaterBlock};
use crate::layer::{Flatten, Layer, conv_bn_relu, linear_bn_relu};
use crate::residual::BasicBlock;
use crate::shape::FeatureShape;

/// `aug1`: one copied block (AugLocal's depth 1).
pub const AUG1: AuxHead = AuxHead::at_site("aug1", DESIGN1, ORIGIN, build::<1>);
/// `aug3`: up to three copied blocks, fewer towards the top (AugLocal's depth 3, pyramid 0.5).
pub const AUG3: AuxHead = AuxHead::at_site("aug3", DESIGN3, ORIGIN, build::<3>);
/// `aug5`: up to five copied blocks, fewer towards the top (AugLocal's depth 5, pyramid 0.5).
pub const AUG5: AuxHead = AuxHead::at_site("aug5", DESIGN5, ORIGIN, build::<5>);

const DESIGN1: &str = "a copy of the last block -> global pool -> BN -> linear";
const DESIGN3: &str =
    "copies of 3 later blocks sampled uniformly (fewer near the top) -> global pool -> linear";
const DESIGN5: &str =
    "copies of 5 later blocks sampled uniformly (fewer near the top) -> global pool -> linear";
const ORIGIN: &str = "AugLocal (Ma et al., ICLR 2024)";

/// AugLocal's pyramid coefficient in all its published runs.
const PYRAMID: f64 = 0.5;

/// The depth of module `module`'s head among `modules` modules for a nominal `depth`.
pub fn pyramid_depth(depth: usize, module: usize, modules: usize) -> usize {
    if modules <= 2 {
        return depth.max(1);
    }
    let t = module as f64 * PYRAMID / (modules - 2) as f64;
    let d = depth as f64 * (1.0 - t) + t;
    (d.round_ties_even() as usize).max(1)
}

/// Indices into `site.later` of the blocks a head of `depth` copies: all of them when there
/// are no more than `depth`, else `depth` spread uniformly, the last one always included.
pub fn sampled_blocks(site: &HeadSite<'_>, depth: usize) -> Vec<usize> {
    let later = site.later.len();
    if depth >= later {
        return (0..later).collect();
    }
    let first = site.last_block as f64;
    let step = later as f64 / depth as f64;
    (1..=depth)
        .map(|i| {
            let global = (first + step * i as f64).round_ties_even() as usize;
            global.saturating_sub(site.last_block + 1).min(later - 1)
        })
        .collect()
}

fn build<const DEPTH: usize>(site: &HeadSite<'_>, classes: usize, device: &Device) -> HeadLayers {
    let depth = if site.later.is_empty() {
        0
    } else {
        pyramid_depth(DEPTH, site.module, site.modules)
    };
    let mut layers = Vec::new();
    let mut shape = site.features;
    for index in sampled_blocks(site, depth) {
        let (copy, output) = copy_block(shape, site.later[index], device);
        layers.extend(copy);
        shape = output;
    }
    if let FeatureShape::Spatial { .. } = shape {
        layers.push(Layer::AvgPool(AdaptiveAvgPool2dConfig::new([1, 1]).init()));
        layers.push(Layer::Flatten(Flatten));
    }
    let features = shape.channels();
    if depth <= 1 {
        layers.push(Layer::Norm(BatchNormConfig::new(features).init(device)));
    }
    layers.push(Layer::Linear(
        LinearConfig::new(features, classes).init(device),
    ));
    Ok(layers)
}

/// A fresh block on `input` shaped like `like`, and its output shape.
fn copy_block(
    input: FeatureShape,
    like: LaterBlock,
    device: &Device,
) -> (Vec<Layer>, FeatureShape) {
    let (
        FeatureShape::Spatial { height, .. },
        FeatureShape::Spatial {
            channels,
            height: target,
            ..
        },
    ) = (input, like.output)
    else {
        return linear_bn_relu(input, like.output.channels(), device);
    };
    let stride = if height > target { 2 } else { 1 };
    if !like.residual || channels < input.channels() {
        return conv_bn_relu(input, channels, stride, device);
    }
    let block = BasicBlock::new(input.channels(), channels, stride, device).with_option_b(device);
    (vec![Layer::Basic(block)], input.strided(channels, stride))
}
