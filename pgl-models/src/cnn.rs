//! A small CNN for 28×28 (MNIST) and 8×8 (digits) images: 8 blocks
//! `conv3×3 → batch norm → ReLU` with widths 16, 16, 32, 32, 64, 64, 64, 64 and stride 2 at
//! blocks 2, 4 and 7 while the feature map is larger than 4×4; cut into K ≤ 8 modules.
//! The classifier is adaptive average pooling to 2×2 and one linear layer. The default
//! auxiliary head is InfoPro's `1c2f` (one conv block, two linear layers): with the default
//! local objective it closed the most of the local→end-to-end gap in the guidance study
//! (`docs/results/guidance/README.md`, sixth session). `pool2-1f` (the classifier's design)
//! is the cheap alternative: the study's runs with it took 2.5–4× less wall time.
//!
//! # Shapes
//! - input: `[batch, channels, height, width]`
//! - 28×28 input: module outputs `[batch, C, 28|14|7|4, ..]`; 8×8 input: `[batch, C, 8|4, ..]`
//! - every head's output: `[batch, classes]`

use pgl_burn::burn::prelude::Device;
use pgl_burn::export::{BodyLayout, Reference};

use crate::entry::{Backbone, ModelEntry, no_split_tables};
use crate::error::ModelError;
use crate::heads::AuxHead;
use crate::input::ModelInput;
use crate::layer::conv_bn_relu;
use crate::net::Block;
use crate::shape::FeatureShape;

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

/// The `cnn` entry of the model table.
pub const CNN: ModelEntry = ModelEntry {
    name: "cnn",
    description: "8 x (conv3x3, BN, ReLU), widths 16-64",
    default_head: AuxHead::OneConvTwoFc,
    units: CNN_BLOCKS.len(),
    infopro: no_split_tables,
    reference_input: [1, 28, 28],
    build: backbone,
    pytorch: Some(&PYTORCH),
};

/// The PyTorch reference's CNN (`bench/gpu/torch_reference.py`): K = 1, 2, 4 or 8 modules,
/// each an `nn.Sequential` of conv-BN-ReLU blocks, with `1c2f` (the default) or `pool2-1f`
/// heads.
pub const PYTORCH: Reference = Reference {
    model: "cnn",
    aux_heads: &["1c2f", "pool2-1f"],
    modules: &[1, 2, 4, 8],
    body: BodyLayout::Blocks(CONV_BN_RELU),
};

/// The layer kinds of a conv-BN-ReLU block, as the reference's names follow them.
pub(crate) const CONV_BN_RELU: &[&str] = &["Conv", "Norm", "Relu"];

/// The CNN's blocks and classifier for `input` (at least 4×4).
pub fn backbone(input: ModelInput, device: &Device) -> Result<Backbone, ModelError> {
    input.require_side("cnn", 4, "the feature map is kept at 4x4 or more")?;
    let blocks = Block::chain(input.features(), CNN_BLOCKS.len(), |i, shape| {
        let (channels, wants_stride) = CNN_BLOCKS[i];
        let large =
            matches!(shape, FeatureShape::Spatial { height, width, .. } if height > 4 && width > 4);
        let stride = if wants_stride && large { 2 } else { 1 };
        conv_bn_relu(shape, channels, stride, device)
    });
    Ok(Backbone {
        blocks,
        classifier: AuxHead::Pool2OneFc,
    })
}
