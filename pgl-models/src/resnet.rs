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

use pgl_burn::burn;
use pgl_burn::burn::module::Module;
use pgl_burn::burn::nn::conv::{Conv2d, Conv2dConfig};
use pgl_burn::burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d, Relu};
use pgl_burn::burn::prelude::*;
use pgl_core::SplitPlan;

use crate::heads::AuxHead;
use crate::layer::{FeatureShape, Layer, conv_bn_relu};
use crate::net::{Block, DecoupledNet};
use crate::{ModelError, ModelInput, SplitKind};

/// A basic residual block: two 3×3 conv + BN, identity (option A) shortcut, ReLU after the sum.
#[derive(Module, Debug)]
pub struct BasicBlock {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    relu: Relu,
    /// Stride of the block (2 where it halves the feature map).
    stride: usize,
    /// Zero channels added on each side of the shortcut where the width doubles.
    pad_channels: usize,
}

fn conv3x3(input: usize, output: usize, stride: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([input, output], [3, 3])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(false)
        .init(device)
}

impl BasicBlock {
    /// A block from `input` to `output` channels with the given stride.
    pub fn new(input: usize, output: usize, stride: usize, device: &Device) -> Self {
        Self {
            conv1: conv3x3(input, output, stride, device),
            bn1: BatchNormConfig::new(output).init(device),
            conv2: conv3x3(output, output, 1, device),
            bn2: BatchNormConfig::new(output).init(device),
            relu: Relu::new(),
            stride,
            pad_channels: (output - input) / 2,
        }
    }

    /// `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let out = self
            .relu
            .forward(self.bn1.forward(self.conv1.forward(x.clone())));
        let out = self.bn2.forward(self.conv2.forward(out));
        let mut shortcut = x;
        if self.stride > 1 {
            let s = self.stride as isize;
            shortcut = shortcut.slice(s![.., .., 0..;s, 0..;s]);
        }
        if self.pad_channels > 0 {
            let [b, _, h, w] = shortcut.dims();
            let zeros = Tensor::<4>::zeros([b, self.pad_channels, h, w], &shortcut.device());
            shortcut = Tensor::cat(vec![zeros.clone(), shortcut, zeros], 1);
        }
        self.relu.forward(out + shortcut)
    }
}

/// Depths with a preset.
pub const RESNET_DEPTHS: [usize; 3] = [32, 56, 110];

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

/// The `K` values with an InfoPro table for `depth`.
pub fn infopro_modules(depth: usize) -> Vec<usize> {
    [2, 4, 8, 16]
        .into_iter()
        .filter(|&k| infopro_table(depth, k).is_some())
        .collect()
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

/// The CIFAR ResNet of `depth` (32, 56 or 110) cut into `modules` modules.
pub fn resnet(
    depth: usize,
    input: ModelInput,
    modules: usize,
    split: SplitKind,
    head: AuxHead,
    device: &Device,
) -> Result<DecoupledNet, ModelError> {
    let name = format!("resnet{depth}");
    let n = (depth - 2) / 6;
    let units = 3 * n + 1;
    let split_error = |source| ModelError::Split {
        model: name.clone(),
        source,
    };
    let plan = match split {
        SplitKind::Even => SplitPlan::even(units, modules).map_err(split_error)?,
        SplitKind::InfoPro if modules == 1 => SplitPlan::even(units, 1).map_err(split_error)?,
        SplitKind::InfoPro => {
            let table =
                infopro_table(depth, modules).ok_or_else(|| ModelError::NoInfoProTable {
                    model: name.clone(),
                    modules,
                    available: infopro_modules(depth)
                        .iter()
                        .map(|k| k.to_string())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
            SplitPlan::from_points(units, &infopro_points(table, n)).map_err(split_error)?
        }
    };
    let mut blocks = Vec::with_capacity(units);
    let stem_input = FeatureShape::Spatial {
        channels: input.channels,
        height: input.height,
        width: input.width,
    };
    let (stem, mut shape) = conv_bn_relu(stem_input, 16, 1, device);
    blocks.push(Block {
        layers: stem,
        output: shape,
    });
    for (stage, planes) in [16usize, 32, 64].into_iter().enumerate() {
        for b in 0..n {
            let stride = if stage > 0 && b == 0 { 2 } else { 1 };
            let FeatureShape::Spatial {
                channels,
                height,
                width,
            } = shape
            else {
                unreachable!("ResNet features are spatial")
            };
            shape = FeatureShape::Spatial {
                channels: planes,
                height: height.div_ceil(stride),
                width: width.div_ceil(stride),
            };
            blocks.push(Block {
                layers: vec![Layer::Basic(BasicBlock::new(
                    channels, planes, stride, device,
                ))],
                output: shape,
            });
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
