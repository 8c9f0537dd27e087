//! [`Layer`]: the building blocks of zoo models, and [`FeatureShape`] to chain them.

use pgl_burn::Activation;
use pgl_burn::burn::module::Module;
use pgl_burn::burn::nn::conv::{Conv2d, Conv2dConfig};
use pgl_burn::burn::nn::pool::{
    AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig,
};
use pgl_burn::burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d, Relu};
use pgl_burn::burn::prelude::*;

/// Flattens `[b, c, h, w]` into `[b, c*h*w]`; a flat input passes through.
#[derive(Module, Debug, Default)]
pub struct Flatten;

/// One layer of a zoo model.
// A model holds a few dozen layers, built once: the size of the largest variant
// (a residual block) does not matter, and Burn's derive works on plain values.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Layer {
    /// Fully connected layer on flat activations.
    Linear(Linear),
    /// 2-D convolution on spatial activations.
    Conv(Conv2d),
    /// Batch normalisation (of features when flat, of channels when spatial).
    Norm(BatchNorm),
    /// Rectified linear unit.
    Relu(Relu),
    /// Max pooling.
    MaxPool(MaxPool2d),
    /// Adaptive average pooling to a fixed output size.
    AvgPool(AdaptiveAvgPool2d),
    /// Flattening of spatial activations.
    Flatten(Flatten),
    /// A residual basic block (ResNet).
    Basic(crate::resnet::BasicBlock),
}

impl Layer {
    /// Applies the layer.
    pub fn forward(&self, x: Activation) -> Activation {
        match self {
            Layer::Linear(l) => Activation::Flat(l.forward(x.into_flat())),
            Layer::Conv(c) => Activation::Spatial(c.forward(x.into_spatial())),
            Layer::Norm(n) => match x {
                Activation::Flat(t) => Activation::Flat(n.forward(t)),
                Activation::Spatial(t) => Activation::Spatial(n.forward(t)),
            },
            Layer::Relu(r) => match x {
                Activation::Flat(t) => Activation::Flat(r.forward(t)),
                Activation::Spatial(t) => Activation::Spatial(r.forward(t)),
            },
            Layer::MaxPool(p) => Activation::Spatial(p.forward(x.into_spatial())),
            Layer::AvgPool(p) => Activation::Spatial(p.forward(x.into_spatial())),
            Layer::Flatten(_) => Activation::Flat(x.into_flat()),
            Layer::Basic(b) => Activation::Spatial(b.forward(x.into_spatial())),
        }
    }
}

/// Shape of the activation between layers (batch dimension left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureShape {
    /// `features`.
    Flat(usize),
    /// `channels × height × width`.
    Spatial {
        /// Channels.
        channels: usize,
        /// Height.
        height: usize,
        /// Width.
        width: usize,
    },
}

impl FeatureShape {
    /// Number of values per sample.
    pub fn numel(self) -> usize {
        match self {
            FeatureShape::Flat(n) => n,
            FeatureShape::Spatial {
                channels,
                height,
                width,
            } => channels * height * width,
        }
    }

    /// Number of channels (features when flat).
    pub fn channels(self) -> usize {
        match self {
            FeatureShape::Flat(n) => n,
            FeatureShape::Spatial { channels, .. } => channels,
        }
    }
}

/// `conv3x3(stride) → batch norm → ReLU`, with "same" padding; returns the layers and the
/// output shape.
pub fn conv_bn_relu(
    input: FeatureShape,
    out_channels: usize,
    stride: usize,
    device: &Device,
) -> (Vec<Layer>, FeatureShape) {
    let FeatureShape::Spatial {
        channels,
        height,
        width,
    } = input
    else {
        panic!("conv_bn_relu needs a spatial input, got {input:?}");
    };
    let conv = Conv2dConfig::new([channels, out_channels], [3, 3])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .with_bias(false)
        .init(device);
    let layers = vec![
        Layer::Conv(conv),
        Layer::Norm(BatchNormConfig::new(out_channels).init(device)),
        Layer::Relu(Relu::new()),
    ];
    let out = FeatureShape::Spatial {
        channels: out_channels,
        height: height.div_ceil(stride),
        width: width.div_ceil(stride),
    };
    (layers, out)
}

/// `linear → batch norm → ReLU`; returns the layers and the output shape.
pub fn linear_bn_relu(
    input: FeatureShape,
    out_features: usize,
    device: &Device,
) -> (Vec<Layer>, FeatureShape) {
    let mut layers = Vec::new();
    if matches!(input, FeatureShape::Spatial { .. }) {
        layers.push(Layer::Flatten(Flatten));
    }
    layers.push(Layer::Linear(
        LinearConfig::new(input.numel(), out_features).init(device),
    ));
    layers.push(Layer::Norm(BatchNormConfig::new(out_features).init(device)));
    layers.push(Layer::Relu(Relu::new()));
    (layers, FeatureShape::Flat(out_features))
}

/// A linear classifier head: (flatten →) linear to `classes` logits.
pub fn linear_head(input: FeatureShape, classes: usize, device: &Device) -> Vec<Layer> {
    let mut layers = Vec::new();
    if matches!(input, FeatureShape::Spatial { .. }) {
        layers.push(Layer::Flatten(Flatten));
    }
    layers.push(Layer::Linear(
        LinearConfig::new(input.numel(), classes).init(device),
    ));
    layers
}

/// Adaptive average pooling to `size × size` followed by a linear classifier.
pub fn pooled_linear_head(
    input: FeatureShape,
    size: usize,
    classes: usize,
    device: &Device,
) -> Vec<Layer> {
    let channels = input.channels();
    let mut layers = vec![Layer::AvgPool(
        AdaptiveAvgPool2dConfig::new([size, size]).init(),
    )];
    layers.extend(linear_head(
        FeatureShape::Spatial {
            channels,
            height: size,
            width: size,
        },
        classes,
        device,
    ));
    layers
}

/// 2×2 max pooling with stride 2.
pub fn max_pool_2x2() -> Layer {
    Layer::MaxPool(MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init())
}
