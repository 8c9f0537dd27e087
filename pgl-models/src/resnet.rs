//! CIFAR ResNets (He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition",
//! CVPR 2016, section 4.2): a 3×3 stem conv to 16 channels, then three stages of `n` basic
//! blocks with 16, 32 and 64 channels (stride 2 at the first block of stages 2 and 3), global
//! average pooling and a linear classifier; depth = 6n + 2. Shortcuts are the paper's
//! option A (identity; subsampling and zero-padded channels where the shape changes), so the
//! parameter counts are the published ones: ResNet-32 0.46 M, ResNet-56 0.85 M,
//! ResNet-110 1.7 M.
//!
//! The split unit is the stem or one basic block (3n + 1 units). InfoPro's split tables
//! (Wang et al., "Revisiting Locally Supervised Learning", ICLR 2021, released code) give the
//! module boundaries for ResNet-32 and ResNet-110 with K = 2, 4, 8, 16 as `[stage, block]`
//! positions after which a module ends (stage 0 is the stem).
//!
//! # Shapes
//! - input: `[batch, 3, 32, 32]` (any size works; the classifier pools globally)
//! - stage outputs: `[batch, 16, 32, 32]`, `[batch, 32, 16, 16]`, `[batch, 64, 8, 8]`
//! - heads: `[batch, classes]`

use pgl_burn::burn::prelude::Device;
use pgl_burn::export::{BodyLayout, Reference};

use crate::entry::{Backbone, ModelEntry};
use crate::error::ModelError;
use crate::heads::AuxHead;
use crate::input::ModelInput;
use crate::layer::{Layer, conv_bn_relu};
use crate::net::Block;
pub use crate::residual::BasicBlock;

/// The `resnet32` entry of the model table.
pub const RESNET32: ModelEntry = ModelEntry {
    pytorch: Some(&PYTORCH32),
    ..entry::<32>("resnet32", "CIFAR ResNet-32 (He et al. 2016), n=5")
};

/// The PyTorch reference's ResNet-32 (`bench/gpu/torch_reference.py`): K = 16 (InfoPro's
/// split), one unit per module (the stem, then one residual block each), `1c2f` heads.
pub const PYTORCH32: Reference = Reference {
    model: "resnet32",
    aux_heads: &["1c2f"],
    modules: &[16],
    body: BodyLayout::Unit {
        stem: crate::cnn::CONV_BN_RELU,
    },
};
/// The `resnet56` entry of the model table.
pub const RESNET56: ModelEntry = entry::<56>("resnet56", "CIFAR ResNet-56, n=9");
/// The `resnet110` entry of the model table.
pub const RESNET110: ModelEntry = entry::<110>("resnet110", "CIFAR ResNet-110, n=18");

/// The table entry of the ResNet of depth `DEPTH`.
const fn entry<const DEPTH: usize>(name: &'static str, description: &'static str) -> ModelEntry {
    ModelEntry {
        name,
        description,
        default_head: AuxHead::OneConvTwoFc,
        units: units(DEPTH),
        infopro: |modules| infopro_split(DEPTH, modules),
        reference_input: [3, 32, 32],
        build: |input, device| backbone(DEPTH, input, device),
        pytorch: None,
    }
}

/// Split units of the ResNet of `depth`: the stem and `3n` basic blocks, `n = (depth − 2) / 6`.
pub const fn units(depth: usize) -> usize {
    3 * blocks_per_stage(depth) + 1
}

/// Basic blocks per stage, `n = (depth − 2) / 6`.
pub const fn blocks_per_stage(depth: usize) -> usize {
    (depth - 2) / 6
}

/// InfoPro's module boundaries `[stage, block]` for `depth` and `modules`, if published.
pub fn infopro_table(depth: usize, modules: usize) -> Option<&'static [[usize; 2]]> {
    const R32_2: &[[usize; 2]] = &[[2, 1]];
    const R32_4: &[[usize; 2]] = &[[1, 2], [2, 1], [3, 0]];
    const R32_8: &[[usize; 2]] = &[[1, 0], [1, 2], [1, 4], [2, 1], [2, 3], [3, 0], [3, 2]];
    const R32_16: &[[usize; 2]] = &[
        [0, 0],
        [1, 0],
        [1, 1],
        [1, 2],
        [1, 3],
        [1, 4],
        [2, 0],
        [2, 1],
        [2, 2],
        [2, 3],
        [2, 4],
        [3, 0],
        [3, 1],
        [3, 2],
        [3, 3],
    ];
    const R110_2: &[[usize; 2]] = &[[2, 8]];
    const R110_4: &[[usize; 2]] = &[[1, 11], [2, 7], [3, 3]];
    const R110_8: &[[usize; 2]] = &[[1, 4], [1, 11], [2, 0], [2, 7], [2, 14], [3, 3], [3, 10]];
    const R110_16: &[[usize; 2]] = &[
        [1, 1],
        [1, 4],
        [1, 7],
        [1, 10],
        [1, 13],
        [1, 16],
        [2, 1],
        [2, 4],
        [2, 7],
        [2, 11],
        [2, 15],
        [3, 1],
        [3, 5],
        [3, 9],
        [3, 13],
    ];
    match (depth, modules) {
        (32, 2) => Some(R32_2),
        (32, 4) => Some(R32_4),
        (32, 8) => Some(R32_8),
        (32, 16) => Some(R32_16),
        (110, 2) => Some(R110_2),
        (110, 4) => Some(R110_4),
        (110, 8) => Some(R110_8),
        (110, 16) => Some(R110_16),
        _ => None,
    }
}

/// Split points (unit indices where modules 2..K start) of an InfoPro table with `n` blocks
/// per stage.
pub fn infopro_points(table: &[[usize; 2]], n: usize) -> Vec<usize> {
    table
        .iter()
        .map(|&[stage, block]| {
            if stage == 0 {
                1
            } else {
                1 + (stage - 1) * n + block + 1
            }
        })
        .collect()
}

/// InfoPro's split points (unit indices where modules 2..K start) for `depth` and `modules`.
pub fn infopro_split(depth: usize, modules: usize) -> Option<Vec<usize>> {
    infopro_table(depth, modules).map(|table| infopro_points(table, blocks_per_stage(depth)))
}

/// The blocks (stem, then every basic block) and classifier of the CIFAR ResNet of `depth`.
pub fn backbone(depth: usize, input: ModelInput, device: &Device) -> Result<Backbone, ModelError> {
    let n = blocks_per_stage(depth);
    let blocks = Block::chain(input.features(), units(depth), |unit, shape| {
        if unit == 0 {
            return conv_bn_relu(shape, 16, 1, device);
        }
        let (stage, block) = ((unit - 1) / n, (unit - 1) % n);
        let stride = if stage > 0 && block == 0 { 2 } else { 1 };
        let (channels, planes) = (shape.channels(), 16 << stage);
        let block = Layer::Basic(BasicBlock::new(channels, planes, stride, device));
        (vec![block], shape.strided(planes, stride))
    });
    Ok(Backbone {
        blocks,
        classifier: AuxHead::ZeroConvOneFc,
    })
}
