//! [`HeadStack`]: a head made of plain layers (convolution, batch norm, ReLU, adaptive average
//! pooling, linear), the form in which a model hands pgl-burn a copy of its auxiliary head's
//! design ([`DecoupledModel::aux_head_like`](crate::DecoupledModel::aux_head_like)): the
//! contrastive term of `proj=aux` projects through one, as InfoPro's contrastive
//! `AuxClassifier` runs the same layers as its classifier.
//!
//! Flattening is implicit: a linear layer flattens a spatial input, and the head's output is
//! flattened.
//!
//! # Shapes
//! - features `[batch, C, h, w]` or `[batch, F]`; output `[batch, outputs]`.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::AdaptiveAvgPool2d;
use burn::nn::{BatchNorm, Linear, Relu};

use crate::activation::Activation;
use crate::kernels::{batch_norm_layer, conv2d_layer};

/// One layer of a [`HeadStack`].
// A head holds a handful of layers, built once: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum HeadLayer {
    /// 2-D convolution (spatial input).
    Conv(Conv2d),
    /// Batch normalisation, of channels (spatial input) or of features (flat input).
    Norm(BatchNorm),
    /// Rectified linear unit.
    Relu(Relu),
    /// Adaptive average pooling (spatial input).
    AvgPool(AdaptiveAvgPool2d),
    /// Fully connected layer (flattens a spatial input).
    Linear(Linear),
}

impl HeadLayer {
    /// Applies the layer.
    pub fn forward(&self, x: Activation) -> Activation {
        match self {
            HeadLayer::Conv(c) => Activation::Spatial(conv2d_layer(c, x.into_spatial())),
            HeadLayer::Norm(n) => match x {
                Activation::Flat(t) => Activation::Flat(batch_norm_layer(n, t)),
                Activation::Spatial(t) => Activation::Spatial(batch_norm_layer(n, t)),
            },
            HeadLayer::Relu(r) => match x {
                Activation::Flat(t) => Activation::Flat(r.forward(t)),
                Activation::Spatial(t) => Activation::Spatial(r.forward(t)),
            },
            HeadLayer::AvgPool(p) => Activation::Spatial(p.forward(x.into_spatial())),
            HeadLayer::Linear(l) => Activation::Flat(l.forward(x.into_flat())),
        }
    }
}

/// A head: its layers in order, features to `[batch, outputs]`.
#[derive(Module, Debug)]
pub struct HeadStack {
    layers: Vec<HeadLayer>,
}

impl HeadStack {
    /// A head of `layers` (parameters initialised lazily, like any Burn layer).
    pub fn new(layers: Vec<HeadLayer>) -> Self {
        Self { layers }
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[HeadLayer] {
        &self.layers
    }

    /// `[batch, outputs]` of `features`.
    pub fn forward(&self, features: Activation) -> burn::prelude::Tensor<2> {
        self.layers
            .iter()
            .fold(features, |x, layer| layer.forward(x))
            .into_flat()
    }
}
