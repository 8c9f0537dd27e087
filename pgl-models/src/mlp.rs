//! A multi-layer perceptron for pgl: 8 hidden blocks `linear → batch norm → ReLU` of width
//! 256, cut into K ≤ 8 modules; the classifier is one linear layer, and so is the default
//! auxiliary head (`0c1f` on flat features).
//!
//! # Shapes
//! - input: `[batch, channels, height, width]` (flattened by the first block)
//! - every module's output: `[batch, 256]`
//! - every head's output: `[batch, classes]`

use pgl_burn::burn::prelude::Device;
use pgl_core::SplitPlan;

use crate::heads::AuxHead;
use crate::layer::{FeatureShape, linear_bn_relu, linear_head};
use crate::net::{Block, DecoupledNet};
use crate::{ModelError, ModelInput};

/// Hidden blocks of the MLP (the largest K).
pub const MLP_BLOCKS: usize = 8;
/// Width of every hidden block.
pub const MLP_WIDTH: usize = 256;

/// The MLP cut evenly into `modules` modules.
pub fn mlp(
    input: ModelInput,
    modules: usize,
    head: AuxHead,
    device: &Device,
) -> Result<DecoupledNet, ModelError> {
    let plan = SplitPlan::even(MLP_BLOCKS, modules).map_err(|source| ModelError::Split {
        model: "mlp".to_string(),
        source,
    })?;
    let mut shape = FeatureShape::Spatial {
        channels: input.channels,
        height: input.height,
        width: input.width,
    };
    let blocks = (0..MLP_BLOCKS)
        .map(|_| {
            let (layers, output) = linear_bn_relu(shape, MLP_WIDTH, device);
            shape = output;
            Block { layers, output }
        })
        .collect();
    DecoupledNet::try_from_blocks(blocks, &plan, |features, last| {
        if last {
            Ok(linear_head(features, input.classes, device))
        } else {
            head.build(features, input.classes, device)
        }
    })
}
