//! [`Layer`]: the building blocks of zoo models, and helpers that stack them.

use pgl_burn::burn::module::Module;
use pgl_burn::burn::nn::conv::Conv2d;
use pgl_burn::burn::nn::pool::{
    AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig,
};
use pgl_burn::burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, Relu};
use pgl_burn::burn::prelude::*;
use pgl_burn::kernels::{batch_norm_layer, conv2d_layer};
use pgl_burn::{Activation, HeadLayer};

use crate::residual::{BasicBlock, conv3x3};
pub use crate::shape::FeatureShape;

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
    Basic(BasicBlock),
}

impl Layer {
    /// Applies the layer.
    pub fn forward(&self, x: Activation) -> Activation {
        match self {
            Layer::Linear(l) => Activation::Flat(l.forward(x.into_flat())),
            Layer::Conv(c) => Activation::Spatial(conv2d_layer(c, x.into_spatial())),
            Layer::Norm(n) => match x {
                Activation::Flat(t) => Activation::Flat(batch_norm_layer(n, t)),
                Activation::Spatial(t) => Activation::Spatial(batch_norm_layer(n, t)),
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

impl Layer {
    /// The layer as a [`HeadLayer`] (what a copy of a head is made of): `Some(None)` for a
    /// flattening (implicit there), `None` for layers a [`HeadLayer`] cannot be (max pooling,
    /// residual blocks).
    pub fn into_head_layer(self) -> Option<Option<HeadLayer>> {
        match self {
            Layer::Linear(l) => Some(Some(HeadLayer::Linear(l))),
            Layer::Conv(c) => Some(Some(HeadLayer::Conv(c))),
            Layer::Norm(n) => Some(Some(HeadLayer::Norm(n))),
            Layer::Relu(r) => Some(Some(HeadLayer::Relu(r))),
            Layer::AvgPool(p) => Some(Some(HeadLayer::AvgPool(p))),
            Layer::Flatten(_) => Some(None),
            Layer::MaxPool(_) | Layer::Basic(_) => None,
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
    let (channels, _, _) = input.spatial("conv_bn_relu");
    let layers = vec![
        Layer::Conv(conv3x3(channels, out_channels, stride, device)),
        Layer::Norm(BatchNormConfig::new(out_channels).init(device)),
        Layer::Relu(Relu::new()),
    ];
    (layers, input.strided(out_channels, stride))
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
