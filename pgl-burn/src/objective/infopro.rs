//! InfoPro's reconstruction term: a small [`Decoder`] per module that reconstructs the input
//! image from the module's output, and its loss ([`ReconstructionTarget`]): InfoPro's binary
//! cross-entropy ([`bce_with_logits`]) or the mean squared error ([`reconstruction_loss`]).
//!
//! The decoder follows `Decoder` in InfoPro's `Experiments on CIFAR-SVHN-STL10/networks/
//! auxiliary_nets.py` (`blackfeather-wang/InfoPro-Pytorch`, lines 7–36): bilinear upsampling of
//! the features to the image's size (corners aligned), then `conv3x3(C → 12) → BatchNorm →
//! ReLU → conv3x3(12 → image channels)`. With `recon=bce` (the default) its output goes through
//! InfoPro's final sigmoid and is compared by binary cross-entropy with the image de-normalised
//! to `[0, 1]` (`x · std + mean`, what InfoPro's `_image_restore` computes in
//! `networks/resnet.py`, lines 164–166); the sigmoid is fused into the loss
//! ([`bce_with_logits`]). With `recon=mse` (pgl's reconstruction before issue 22) the output,
//! without sigmoid, is compared by mean squared error with the normalised image. A module with
//! flat output (an MLP) gets a single linear layer to the flattened image instead of the
//! convolutions.
//!
//! # Shapes
//! - features `[batch, C, h, w]` (spatial) or `[batch, F]` (flat)
//! - images `[batch, c, H, W]`; the reconstruction has the images' shape.

use std::sync::Arc;

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::prelude::*;
use burn::tensor::activation::log_sigmoid;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};

use pgl_core::CoreError;
use pgl_core::objective::{Reconstruction, ReconstructionTerm, TermDescription, TermSpec};

use super::InputImages;
use super::TermHead;
use super::term::{LossTerm, TermEntry, TermInput, TermSetup, TermSite};
use crate::activation::Activation;
use crate::kernels::{batch_norm_layer, conv2d_layer};

/// `reconstruction` in the term table.
pub const ENTRY: TermEntry = TermEntry {
    name: ReconstructionTerm::NAME,
    build,
};

fn build(spec: &TermSpec, setup: &TermSetup<'_>) -> Result<Arc<dyn LossTerm>, CoreError> {
    let term = ReconstructionTerm::from_spec(spec)?;
    if term.kind == Reconstruction::Bce && !setup.normalisation_known {
        let expected = "the input images' normalisation in the trainer's settings \
                        (TrainSettings::with_input_normalization): recon=bce compares with the \
                        de-normalised image";
        return Err(spec.bad_value("recon", "bce", expected));
    }
    Ok(Arc::new(ReconstructionLoss {
        term,
        target: ReconstructionTarget::of(term.kind, setup.input),
    }))
}

/// The reconstruction term: a [`Decoder`] per module, its output compared with the images as
/// `target` says.
#[derive(Debug, Clone)]
pub struct ReconstructionLoss {
    term: ReconstructionTerm,
    target: ReconstructionTarget,
}

impl ReconstructionLoss {
    /// The term comparing as `target` says.
    pub fn new(target: ReconstructionTarget) -> Self {
        let kind = match target {
            ReconstructionTarget::Mse => Reconstruction::Mse,
            ReconstructionTarget::Bce { .. } => Reconstruction::Bce,
        };
        Self {
            term: ReconstructionTerm { kind },
            target,
        }
    }
}

impl LossTerm for ReconstructionLoss {
    fn spec(&self) -> TermSpec {
        self.term.spec()
    }

    fn build_head(&self, site: &TermSite<'_>) -> Result<Option<TermHead>, String> {
        if !matches!(site.features.len(), 1 | 3) {
            return Err(format!(
                "a decoder needs [C, h, w] or [F] features, got {:?}",
                site.features
            ));
        }
        let decoder = Decoder::new(site.features, site.input.shape, site.device);
        Ok(Some(TermHead::Decoder(decoder)))
    }

    fn needs_images(&self) -> bool {
        true
    }

    fn loss(&self, input: &TermInput<'_>, head: Option<&TermHead>) -> Tensor<1> {
        let Some(TermHead::Decoder(decoder)) = head else {
            panic!("the reconstruction term's decoder (the trainer builds it from the term)");
        };
        let images = input
            .images
            .expect("input images for the reconstruction (the term says it needs them)");
        reconstruction_term(decoder, &self.target, input.features.clone(), images)
    }
}

/// Channels of the decoder's hidden layer (InfoPro's `12 * widen`, `widen = 1`).
pub const DECODER_CHANNELS: usize = 12;

/// The decoder of a module with spatial output.
#[derive(Module, Debug)]
pub struct SpatialDecoder {
    conv1: Conv2d,
    norm: BatchNorm,
    relu: Relu,
    conv2: Conv2d,
}

/// Reconstructs the input image from one module's output.
// One decoder per module, built once: the size of the larger variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Decoder {
    /// Upsample, conv3x3, BatchNorm, ReLU, conv3x3: for spatial features.
    Spatial(SpatialDecoder),
    /// One linear layer to the flattened image: for flat features.
    Flat(Linear),
}

fn conv3x3(input: usize, output: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([input, output], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(device)
}

impl Decoder {
    /// A decoder from features of shape `features` (without the batch dimension: `[C, h, w]`
    /// or `[F]`) to images of shape `image` (`[c, H, W]`).
    pub fn new(features: &[usize], image: [usize; 3], device: &Device) -> Self {
        match *features {
            [channels, _, _] => Decoder::Spatial(SpatialDecoder {
                conv1: conv3x3(channels, DECODER_CHANNELS, device),
                norm: BatchNormConfig::new(DECODER_CHANNELS).init(device),
                relu: Relu::new(),
                conv2: conv3x3(DECODER_CHANNELS, image[0], device),
            }),
            [features] => {
                Decoder::Flat(LinearConfig::new(features, image.iter().product()).init(device))
            }
            ref other => panic!("a decoder needs [C, h, w] or [F] features, got {other:?}"),
        }
    }

    /// The reconstruction of images of `image_size` (`[H, W]`) from `features`: spatial
    /// `[batch, c, H, W]`, or flat `[batch, c·H·W]` for a flat decoder.
    pub fn forward(&self, features: Activation, image_size: [usize; 2]) -> Activation {
        match self {
            Decoder::Spatial(d) => {
                let x = features.into_spatial();
                let [_, _, h, w] = x.dims();
                // Bilinear with aligned corners onto the same size is the identity: skip it.
                let x = if [h, w] == image_size {
                    x
                } else {
                    let options = InterpolateOptions::new(InterpolateMode::Bilinear)
                        .with_align_corners(true)
                        .with_output_size(image_size);
                    interpolate(x, options)
                };
                let x = d
                    .relu
                    .forward(batch_norm_layer(&d.norm, conv2d_layer(&d.conv1, x)));
                Activation::Spatial(conv2d_layer(&d.conv2, x))
            }
            Decoder::Flat(linear) => Activation::Flat(linear.forward(features.into_flat())),
        }
    }
}

/// The mean squared error between a reconstruction and the images, over every pixel of every
/// sample (PyTorch's `MSELoss()`); both are flattened, so a flat reconstruction compares with
/// the flattened images.
pub fn reconstruction_loss(reconstruction: Activation, images: Activation) -> Tensor<1> {
    let diff = reconstruction.into_flat() - images.into_flat();
    (diff.clone() * diff).mean()
}

/// PyTorch's `BCELoss()(sigmoid(logits), targets)`, the mean over every element of
/// `−t·log σ(z) − (1 − t)·log(1 − σ(z))`, computed from the logits with Burn's stable
/// `log_sigmoid` (`log(1 − σ(z)) = log σ(−z)`): the same function, with the gradient
/// `(σ(z) − t) / n` everywhere. (PyTorch computes the sigmoid first and clamps each logarithm
/// at −100; in float32 that only differs where `σ(z)` rounds to 0 or 1, `|z|` above about 16.)
pub fn bce_with_logits(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let positive = log_sigmoid(logits.clone());
    let negative = log_sigmoid(logits.neg());
    let ones = targets.ones_like();
    (targets.clone() * positive + (ones - targets) * negative)
        .mean()
        .neg()
}

/// How a module's reconstruction is compared with the input images; plain data (not saved:
/// it follows from the objective and the dataset).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ReconstructionTarget {
    /// Mean squared error against the normalised images (`recon=mse`).
    #[default]
    Mse,
    /// Binary cross-entropy of the sigmoid of the reconstruction against the images
    /// de-normalised per channel (`x · std + mean`, in `[0, 1]`; `recon=bce`).
    Bce {
        /// Per-channel mean the images were normalised with.
        mean: Vec<f32>,
        /// Per-channel standard deviation the images were normalised with.
        std: Vec<f32>,
    },
}

impl ReconstructionTarget {
    /// How `kind` compares with images normalised as `input` says.
    pub fn of(kind: Reconstruction, input: &InputImages) -> Self {
        match kind {
            Reconstruction::Mse => ReconstructionTarget::Mse,
            Reconstruction::Bce => ReconstructionTarget::Bce {
                mean: input.mean.clone(),
                std: input.std.clone(),
            },
        }
    }

    /// The loss of `reconstruction` against the network's (normalised) input `images`.
    pub fn loss(&self, reconstruction: Activation, images: &Activation) -> Tensor<1> {
        match self {
            ReconstructionTarget::Mse => reconstruction_loss(reconstruction, images.clone()),
            ReconstructionTarget::Bce { mean, std } => {
                let targets = denormalise(images.clone().into_flat(), mean, std);
                bce_with_logits(reconstruction.into_flat(), targets)
            }
        }
    }
}

/// `x · std[c] + mean[c]` of flattened `[batch, c·h·w]` images, channel by channel.
fn denormalise(images: Tensor<2>, mean: &[f32], std: &[f32]) -> Tensor<2> {
    let [batch, features] = images.dims();
    let channels = mean.len();
    assert!(
        channels > 0 && std.len() == channels && features % channels == 0,
        "{channels} channel means and {} stds for images of {features} values",
        std.len()
    );
    let device = images.device();
    let column =
        |values: &[f32]| Tensor::<1>::from_floats(values, &device).reshape([1, channels, 1]);
    let x = images.reshape([batch, channels, features / channels]);
    (x * column(std) + column(mean)).reshape([batch, features])
}

/// Module k's reconstruction term: `decoder(features)` against `images`, compared as `target`
/// says.
pub fn reconstruction_term(
    decoder: &Decoder,
    target: &ReconstructionTarget,
    features: Activation,
    images: &Activation,
) -> Tensor<1> {
    let dims = images.dims();
    let size = [dims[2], dims[3]];
    target.loss(decoder.forward(features, size), images)
}
