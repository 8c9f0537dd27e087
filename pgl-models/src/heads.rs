//! Auxiliary head designs, selectable by name for every model (`--aux-head NAME`).
//!
//! | name | design | origin |
//! |---|---|---|
//! | `0c1f` | global average pool → linear | InfoPro's "greedy SL" head |
//! | `1c2f` | conv3×3 C→2C stride 2 (C→C stride 1 from 64 channels on) → BN → ReLU → global pool → linear 128 → ReLU → linear | InfoPro (Wang et al., ICLR 2021) |
//! | `mlp-sr` | average pool to ⌈H/4⌉×⌈W/4⌉ → 3 × (conv1×1 C→C → BN → ReLU) → average pool 2×2 → 3 × (linear 4C→4C → BN → ReLU) → linear | DGL's MLP-SR (Belilovsky et al., ICML 2020) |
//! | `pool2-1f` | average pool to 2×2 → linear | pgl's cheap head for the small CNN |
//!
//! On flat (MLP) features only `0c1f` applies: it is then a single linear layer.

use pgl_burn::burn::nn::conv::Conv2dConfig;
use pgl_burn::burn::nn::pool::AdaptiveAvgPool2dConfig;
use pgl_burn::burn::nn::{BatchNormConfig, LinearConfig, PaddingConfig2d, Relu};
use pgl_burn::burn::prelude::Device;

use crate::ModelError;
use crate::layer::{FeatureShape, Flatten, Layer, linear_head, pooled_linear_head};

/// An auxiliary head design.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuxHead {
    /// `0c1f`: global average pool and one linear layer.
    ZeroConvOneFc,
    /// `1c2f`: InfoPro's head, one conv and two linear layers.
    OneConvTwoFc,
    /// `mlp-sr`: DGL's spatially reduced MLP head.
    MlpSr,
    /// `pool2-1f`: 2×2 average pool and one linear layer.
    Pool2OneFc,
}

impl AuxHead {
    /// Every head, in the order shown to users.
    pub const ALL: [AuxHead; 4] = [
        AuxHead::ZeroConvOneFc,
        AuxHead::OneConvTwoFc,
        AuxHead::MlpSr,
        AuxHead::Pool2OneFc,
    ];

    /// The head's name.
    pub fn name(self) -> &'static str {
        match self {
            AuxHead::ZeroConvOneFc => "0c1f",
            AuxHead::OneConvTwoFc => "1c2f",
            AuxHead::MlpSr => "mlp-sr",
            AuxHead::Pool2OneFc => "pool2-1f",
        }
    }

    /// The head called `name`.
    pub fn parse(name: &str) -> Result<Self, ModelError> {
        Self::ALL
            .into_iter()
            .find(|h| h.name() == name)
            .ok_or_else(|| ModelError::UnknownHead {
                name: name.to_string(),
                known: Self::ALL.map(AuxHead::name).join(", "),
            })
    }

    /// The head's layers on features of shape `features`, ending in `classes` logits.
    pub fn build(
        self,
        features: FeatureShape,
        classes: usize,
        device: &Device,
    ) -> Result<Vec<Layer>, ModelError> {
        let (channels, height, width) = match features {
            FeatureShape::Flat(_) => {
                return match self {
                    AuxHead::ZeroConvOneFc => Ok(linear_head(features, classes, device)),
                    other => Err(ModelError::HeadNeedsSpatial {
                        head: other.name().to_string(),
                    }),
                };
            }
            FeatureShape::Spatial {
                channels,
                height,
                width,
            } => (channels, height, width),
        };
        let pool = |h: usize, w: usize| Layer::AvgPool(AdaptiveAvgPool2dConfig::new([h, w]).init());
        let spatial = |c: usize, h: usize, w: usize| FeatureShape::Spatial {
            channels: c,
            height: h,
            width: w,
        };
        Ok(match self {
            AuxHead::ZeroConvOneFc => {
                let mut layers = vec![pool(1, 1)];
                layers.extend(linear_head(spatial(channels, 1, 1), classes, device));
                layers
            }
            AuxHead::Pool2OneFc => pooled_linear_head(features, 2, classes, device),
            AuxHead::OneConvTwoFc => {
                let (out, stride) = if channels < 64 {
                    (2 * channels, 2)
                } else {
                    (channels, 1)
                };
                vec![
                    Layer::Conv(
                        Conv2dConfig::new([channels, out], [3, 3])
                            .with_stride([stride, stride])
                            .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                            .with_bias(false)
                            .init(device),
                    ),
                    Layer::Norm(BatchNormConfig::new(out).init(device)),
                    Layer::Relu(Relu::new()),
                    pool(1, 1),
                    Layer::Flatten(Flatten),
                    Layer::Linear(LinearConfig::new(out, 128).init(device)),
                    Layer::Relu(Relu::new()),
                    Layer::Linear(LinearConfig::new(128, classes).init(device)),
                ]
            }
            AuxHead::MlpSr => {
                let mut layers = vec![pool(height.div_ceil(4), width.div_ceil(4))];
                for _ in 0..3 {
                    layers.push(Layer::Conv(
                        Conv2dConfig::new([channels, channels], [1, 1])
                            .with_bias(false)
                            .init(device),
                    ));
                    layers.push(Layer::Norm(BatchNormConfig::new(channels).init(device)));
                    layers.push(Layer::Relu(Relu::new()));
                }
                layers.push(pool(2, 2));
                layers.push(Layer::Flatten(Flatten));
                let hidden = 4 * channels;
                for _ in 0..3 {
                    layers.push(Layer::Linear(
                        LinearConfig::new(hidden, hidden).init(device),
                    ));
                    layers.push(Layer::Norm(BatchNormConfig::new(hidden).init(device)));
                    layers.push(Layer::Relu(Relu::new()));
                }
                layers.push(Layer::Linear(
                    LinearConfig::new(hidden, classes).init(device),
                ));
                layers
            }
        })
    }
}
