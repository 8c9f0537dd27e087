//! [`ModelInput`]: what a model is built for (image shape and number of classes), with the
//! inputs of the datasets pgl ships parsers for.

use crate::error::ModelError;
use crate::shape::FeatureShape;

/// What a model is built for: input shape and number of classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelInput {
    /// Channels of the input images.
    pub channels: usize,
    /// Height of the input images.
    pub height: usize,
    /// Width of the input images.
    pub width: usize,
    /// Number of classes.
    pub classes: usize,
}

impl ModelInput {
    /// The embedded scikit-learn digits: 1×8×8, 10 classes.
    pub const DIGITS: ModelInput = ModelInput::new(1, 8, 8, 10);
    /// MNIST and Fashion-MNIST: 1×28×28, 10 classes.
    pub const MNIST: ModelInput = ModelInput::new(1, 28, 28, 10);
    /// CIFAR-10: 3×32×32, 10 classes.
    pub const CIFAR10: ModelInput = ModelInput::new(3, 32, 32, 10);
    /// CIFAR-100 (fine labels): 3×32×32, 100 classes.
    pub const CIFAR100: ModelInput = ModelInput::new(3, 32, 32, 100);

    /// `channels × height × width` images in `classes` classes.
    pub const fn new(channels: usize, height: usize, width: usize, classes: usize) -> Self {
        Self {
            channels,
            height,
            width,
            classes,
        }
    }

    /// The same images with another number of classes.
    pub const fn with_classes(self, classes: usize) -> Self {
        Self { classes, ..self }
    }

    /// The images' shape, `[channels, height, width]`.
    pub fn image_shape(self) -> [usize; 3] {
        [self.channels, self.height, self.width]
    }

    /// The images as the [`FeatureShape`] the first block of a model sees.
    pub fn features(self) -> FeatureShape {
        FeatureShape::Spatial {
            channels: self.channels,
            height: self.height,
            width: self.width,
        }
    }

    /// An [`ModelError::Input`] for `model` unless the images are at least `side × side`;
    /// `why` says what needs that size.
    pub fn require_side(self, model: &str, side: usize, why: &str) -> Result<(), ModelError> {
        if self.height >= side && self.width >= side {
            return Ok(());
        }
        Err(ModelError::Input {
            model: model.to_string(),
            input: self.image_shape(),
            reason: format!("images must be at least {side}x{side} ({why})"),
        })
    }
}
