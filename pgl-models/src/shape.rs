//! [`FeatureShape`]: the shape of the activation between layers, to chain them.

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

    /// `(channels, height, width)` of a spatial shape.
    ///
    /// # Panics
    /// On a flat shape: a model that stacks a spatial layer on flat features is a programming
    /// error (`layer` names the layer in the message).
    pub fn spatial(self, layer: &str) -> (usize, usize, usize) {
        match self {
            FeatureShape::Spatial {
                channels,
                height,
                width,
            } => (channels, height, width),
            FeatureShape::Flat(_) => panic!("{layer} needs a spatial input, got {self:?}"),
        }
    }

    /// The output shape of a "same"-padded layer with `channels` output channels and the given
    /// stride on this (spatial) shape.
    pub fn strided(self, channels: usize, stride: usize) -> FeatureShape {
        let (_, height, width) = self.spatial("a strided layer");
        FeatureShape::Spatial {
            channels,
            height: height.div_ceil(stride),
            width: width.div_ceil(stride),
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
