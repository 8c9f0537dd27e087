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
use pgl_core::SplitPlan;

use crate::heads::AuxHead;
use crate::layer::{FeatureShape, conv_bn_relu, max_pool_2x2};
use crate::net::{Block, DecoupledNet};
use crate::{ModelError, ModelInput};

/// Conv widths of VGG-11; `0` is a 2×2 max pool.
pub const VGG11: [usize; 13] = [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0];
/// Conv widths of VGG-13; `0` is a 2×2 max pool.
pub const VGG13: [usize; 15] = [
    64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0,
];

/// Number of conv layers (split units) of a configuration.
pub fn conv_layers(config: &[usize]) -> usize {
    config.iter().filter(|&&c| c > 0).count()
}

/// VGG of the given configuration cut evenly into `modules` modules.
pub fn vgg(
    name: &str,
    config: &[usize],
    input: ModelInput,
    modules: usize,
    head: AuxHead,
    device: &Device,
) -> Result<DecoupledNet, ModelError> {
    if input.height < 32 || input.width < 32 {
        return Err(ModelError::Input {
            model: name.to_string(),
            input: [input.channels, input.height, input.width],
            reason: "VGG needs at least 32x32 images (five 2x2 poolings)".to_string(),
        });
    }
    let plan =
        SplitPlan::even(conv_layers(config), modules).map_err(|source| ModelError::Split {
            model: name.to_string(),
            source,
        })?;
    let mut shape = FeatureShape::Spatial {
        channels: input.channels,
        height: input.height,
        width: input.width,
    };
    let mut blocks: Vec<Block> = Vec::new();
    for &width in config {
        if width == 0 {
            let last = blocks.last_mut().expect("a pool follows a conv");
            last.layers.push(max_pool_2x2());
            if let FeatureShape::Spatial {
                channels,
                height,
                width,
            } = shape
            {
                shape = FeatureShape::Spatial {
                    channels,
                    height: height / 2,
                    width: width / 2,
                };
            }
            last.output = shape;
        } else {
            let (layers, output) = conv_bn_relu(shape, width, 1, device);
            shape = output;
            blocks.push(Block { layers, output });
        }
    }
    DecoupledNet::try_from_blocks(blocks, &plan, |features, last| {
        if last {
            AuxHead::ZeroConvOneFc.build(features, input.classes, device)
        } else {
            head.build(features, input.classes, device)
        }
    })
}
