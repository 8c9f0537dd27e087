//! VGG with batch normalisation for 32×32 inputs (Simonyan & Zisserman, "Very Deep
//! Convolutional Networks for Large-Scale Image Recognition", ICLR 2015; BN variant as used on
//! CIFAR by DGL, Belilovsky et al. 2020). Configurations A (VGG-11) and B (VGG-13); the
//! classifier of the CIFAR variant is global pooling and one linear layer on 512 features.
//! The split unit is one conv layer (with the max pool that follows it, if any).
//!
//! # Shapes
//! - input: `[batch, channels, 32, 32]` (at least 32×32: five 2×2 poolings)
//! - after the last pool: `[batch, 512, 1, 1]`; heads: `[batch, classes]`

use pgl_burn::burn::prelude::Device;

use crate::entry::{Backbone, ModelBuilder, ModelEntry, no_split_tables};
use crate::error::ModelError;
use crate::heads::AuxHead;
use crate::input::ModelInput;
use crate::layer::{conv_bn_relu, max_pool_2x2};
use crate::net::Block;
use crate::shape::FeatureShape;

/// Conv widths of VGG-11; `0` is a 2×2 max pool.
pub const VGG11: [usize; 13] = [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0];
/// Conv widths of VGG-13; `0` is a 2×2 max pool.
pub const VGG13: [usize; 15] = [
    64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0,
];

/// The `vgg11` entry of the model table.
pub const VGG11_BN: ModelEntry = entry("vgg11", "VGG-11 with BN, CIFAR classifier", &VGG11, vgg11);
/// The `vgg13` entry of the model table.
pub const VGG13_BN: ModelEntry = entry("vgg13", "VGG-13 with BN, CIFAR classifier", &VGG13, vgg13);

fn vgg11(input: ModelInput, device: &Device) -> Result<Backbone, ModelError> {
    backbone("vgg11", &VGG11, input, device)
}

fn vgg13(input: ModelInput, device: &Device) -> Result<Backbone, ModelError> {
    backbone("vgg13", &VGG13, input, device)
}

/// The table entry of a VGG configuration.
const fn entry(
    name: &'static str,
    description: &'static str,
    config: &[usize],
    build: ModelBuilder,
) -> ModelEntry {
    ModelEntry {
        name,
        description,
        default_head: AuxHead::MlpSr,
        units: conv_layers(config),
        infopro: no_split_tables,
        reference_input: [3, 32, 32],
        build,
        pytorch: None,
    }
}

/// Number of conv layers (split units) of a configuration.
pub const fn conv_layers(config: &[usize]) -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < config.len() {
        if config[i] > 0 {
            count += 1;
        }
        i += 1;
    }
    count
}

/// The blocks and classifier of the VGG of the given configuration (`name` for errors).
pub fn backbone(
    name: &str,
    config: &[usize],
    input: ModelInput,
    device: &Device,
) -> Result<Backbone, ModelError> {
    input.require_side(name, 32, "VGG has five 2x2 poolings")?;
    // Each conv layer is a block, with the pool that follows it if any.
    let convs: Vec<(usize, bool)> = config
        .iter()
        .enumerate()
        .filter(|&(_, &width)| width > 0)
        .map(|(i, &width)| (width, config.get(i + 1) == Some(&0)))
        .collect();
    let blocks = Block::chain(input.features(), convs.len(), |i, shape| {
        let (width, pooled) = convs[i];
        let (mut layers, output) = conv_bn_relu(shape, width, 1, device);
        if !pooled {
            return (layers, output);
        }
        layers.push(max_pool_2x2());
        let (channels, height, width) = output.spatial("max_pool_2x2");
        (
            layers,
            FeatureShape::Spatial {
                channels,
                height: height / 2,
                width: width / 2,
            },
        )
    });
    Ok(Backbone {
        blocks,
        classifier: AuxHead::ZeroConvOneFc,
    })
}
