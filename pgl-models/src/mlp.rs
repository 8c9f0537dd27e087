//! A multi-layer perceptron for pgl: 8 hidden blocks `linear → batch norm → ReLU` of width
//! 256, cut into K ≤ 8 modules; the classifier is one linear layer, and so is the default
//! auxiliary head (`0c1f` on flat features).
//!
//! # Shapes
//! - input: `[batch, channels, height, width]` (flattened by the first block)
//! - every module's output: `[batch, 256]`
//! - every head's output: `[batch, classes]`

use pgl_burn::burn::prelude::Device;

use crate::entry::{Backbone, ModelEntry, no_split_tables};
use crate::error::ModelError;
use crate::heads::AuxHead;
use crate::input::ModelInput;
use crate::layer::linear_bn_relu;
use crate::net::Block;

/// Hidden blocks of the MLP (the largest K).
pub const MLP_BLOCKS: usize = 8;
/// Width of every hidden block.
pub const MLP_WIDTH: usize = 256;

/// The `mlp` entry of the model table.
pub const MLP: ModelEntry = ModelEntry {
    name: "mlp",
    description: "8 x (linear 256, BN, ReLU)",
    default_head: AuxHead::ZeroConvOneFc,
    units: MLP_BLOCKS,
    infopro: no_split_tables,
    reference_input: [1, 28, 28],
    build: backbone,
    pytorch: None,
};

/// The MLP's blocks and classifier for `input`.
pub fn backbone(input: ModelInput, device: &Device) -> Result<Backbone, ModelError> {
    let blocks = Block::chain(input.features(), MLP_BLOCKS, |_, shape| {
        linear_bn_relu(shape, MLP_WIDTH, device)
    });
    // On flat features `0c1f` is one linear layer: the MLP's classifier.
    Ok(Backbone {
        blocks,
        classifier: AuxHead::ZeroConvOneFc,
    })
}
