//! [`BasicBlock`]: the residual basic block of the CIFAR ResNets (He et al. 2016), with the
//! paper's option-A shortcut or, where the shape changes, option B ([`Downsample`]: 1×1
//! convolution + batch norm, as InfoPro's `BasicBlock.downsample`).
//!
//! # Shapes
//! - input: `[batch, in_channels, h, w]`
//! - output: `[batch, out_channels, ⌈h/stride⌉, ⌈w/stride⌉]`

use pgl_burn::burn;
use pgl_burn::burn::module::Module;
use pgl_burn::burn::nn::conv::{Conv2d, Conv2dConfig};
use pgl_burn::burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d, Relu};
use pgl_burn::burn::prelude::*;
use pgl_burn::kernels::{batch_norm_layer, conv2d_layer};

/// The option-B shortcut of a block whose shape changes: a 1×1 convolution with the block's
/// stride, no bias, then a batch norm (PyTorch: `downsample.0`, `downsample.1`).
#[derive(Module, Debug)]
pub struct Downsample {
    conv: Conv2d,
    norm: BatchNorm,
}

/// A basic residual block: two 3×3 conv + BN, identity (option A) or projection (option B)
/// shortcut, ReLU after the sum.
#[derive(Module, Debug)]
pub struct BasicBlock {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    relu: Relu,
    /// The option-B shortcut, where the block has one (`None`: option A).
    downsample: Option<Downsample>,
    /// Stride of the block (2 where it halves the feature map).
    stride: usize,
    /// Zero channels added on each side of the shortcut where the width doubles.
    pad_channels: usize,
}

/// A 3×3 convolution without bias and with "same" padding.
pub fn conv3x3(input: usize, output: usize, stride: usize, device: &Device) -> Conv2d {
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
            downsample: None,
            stride,
            pad_channels: (output - input) / 2,
        }
    }

    /// Whether the block changes the shape (stride > 1 or more channels): where options A and
    /// B differ.
    pub fn changes_shape(&self) -> bool {
        // conv1's weight is `[output, input, 3, 3]`.
        let [output, input, _, _] = self.conv1.weight.lazy_shape().dims::<4>();
        self.stride > 1 || output != input
    }

    /// The same block with an option-B shortcut (1×1 convolution + batch norm) where it
    /// changes shape; unchanged otherwise. Parameters are initialised lazily, like the rest.
    pub fn with_option_b(self, device: &Device) -> Self {
        if !self.changes_shape() {
            return self;
        }
        // conv1's weight is `[output, input, 3, 3]`.
        let [output, input, _, _] = self.conv1.weight.lazy_shape().dims::<4>();
        let conv = Conv2dConfig::new([input, output], [1, 1])
            .with_stride([self.stride, self.stride])
            .with_bias(false)
            .init(device);
        let downsample = Downsample {
            conv,
            norm: BatchNormConfig::new(output).init(device),
        };
        Self {
            downsample: Some(downsample),
            ..self
        }
    }

    /// `relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let out = self.relu.forward(batch_norm_layer(
            &self.bn1,
            conv2d_layer(&self.conv1, x.clone()),
        ));
        let out = batch_norm_layer(&self.bn2, conv2d_layer(&self.conv2, out));
        if let Some(d) = &self.downsample {
            let shortcut = batch_norm_layer(&d.norm, conv2d_layer(&d.conv, x));
            return self.relu.forward(out + shortcut);
        }
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
