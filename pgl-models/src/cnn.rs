//! A small CNN for 28×28 (MNIST) and 8×8 (digits) images: 8 blocks
//! `conv3×3 → batch norm → ReLU` with widths 16, 16, 32, 32, 64, 64, 64, 64 and stride 2 at
//! blocks 2, 4 and 7 while the feature map is larger than 4×4; cut into K ≤ 8 modules.
//! The classifier is adaptive average pooling to 2×2 and one linear layer, and so is the
//! default auxiliary head (`pool2-1f`): a cheap head in the spirit of InfoPro's `0c1f` that
//! keeps coarse spatial layout.
//!
//! # Shapes
//! - input: `[batch, channels, height, width]`
//! - 28×28 input: module outputs `[batch, C, 28|14|7|4, ..]`; 8×8 input: `[batch, C, 8|4, ..]`
//! - every head's output: `[batch, classes]`

use pgl_burn::burn::prelude::Device;
use pgl_core::SplitPlan;

use crate::heads::AuxHead;
use crate::layer::{FeatureShape, conv_bn_relu, pooled_linear_head};
use crate::net::{Block, DecoupledNet};
use crate::{ModelError, ModelInput};

/// `(output channels, wants stride 2)` of every block.
pub const CNN_BLOCKS: [(usize, bool); 8] = [
    (16, false),
    (16, true),
    (32, false),
    (32, true),
    (64, false),
    (64, false),
    (64, true),
    (64, false),
];

/// The CNN cut evenly into `modules` modules.
pub fn cnn(
    input: ModelInput,
    modules: usize,
    head: AuxHead,
    device: &Device,
) -> Result<DecoupledNet, ModelError> {
    if input.height < 4 || input.width < 4 {
        return Err(ModelError::Input {
            model: "cnn".to_string(),
            input: [input.channels, input.height, input.width],
            reason: "images must be at least 4x4".to_string(),
        });
    }
    let plan = SplitPlan::even(CNN_BLOCKS.len(), modules).map_err(|source| ModelError::Split {
        model: "cnn".to_string(),
        source,
    })?;
    let mut shape = FeatureShape::Spatial {
        channels: input.channels,
        height: input.height,
        width: input.width,
    };
    let blocks = CNN_BLOCKS
        .iter()
        .map(|&(channels, wants_stride)| {
            let large = matches!(shape, FeatureShape::Spatial { height, width, .. } if height > 4 && width > 4);
            let stride = if wants_stride && large { 2 } else { 1 };
            let (layers, output) = conv_bn_relu(shape, channels, stride, device);
            shape = output;
            Block { layers, output }
        })
        .collect();
    DecoupledNet::try_from_blocks(blocks, &plan, |features, last| {
        if last {
            Ok(pooled_linear_head(features, 2, input.classes, device))
        } else {
            head.build(features, input.classes, device)
        }
    })
}
