//! [`AuxHead`]: one auxiliary head design: its name, what it is, and how to build it.

use pgl_burn::burn::prelude::Device;

use crate::error::ModelError;
use crate::layer::Layer;
use crate::shape::FeatureShape;

/// A head's layers, or why it cannot be put on the features it was asked for.
pub type HeadLayers = Result<Vec<Layer>, ModelError>;

/// Builds a head's layers on features of a given shape, ending in `classes` logits.
pub type HeadBuilder = fn(FeatureShape, usize, &Device) -> HeadLayers;

/// An auxiliary head design (also used as a network's classifier): one row of the head table.
///
/// Heads are plain values; two heads are equal when their names are. The built-ins are
/// listed in [`AuxHead::ALL`]; a crate can make its own with [`AuxHead::new`] and register it
/// in a [`ModelCatalog`](crate::ModelCatalog) to make it selectable by name.
#[derive(Clone, Copy)]
pub struct AuxHead {
    name: &'static str,
    design: &'static str,
    origin: &'static str,
    build: HeadBuilder,
}

impl AuxHead {
    /// A head called `name` (used with `--aux-head`), with a one-line `design`, where it comes
    /// from (`origin`), and its builder.
    pub const fn new(
        name: &'static str,
        design: &'static str,
        origin: &'static str,
        build: HeadBuilder,
    ) -> Self {
        Self {
            name,
            design,
            origin,
            build,
        }
    }

    /// The head's name.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// One line describing the head's layers.
    pub fn design(self) -> &'static str {
        self.design
    }

    /// Where the design comes from.
    pub fn origin(self) -> &'static str {
        self.origin
    }

    /// The head's layers on features of shape `features`, ending in `classes` logits.
    /// Parameters are initialised lazily (see [`ModelCatalog::build`](crate::ModelCatalog::build)).
    pub fn build(self, features: FeatureShape, classes: usize, device: &Device) -> HeadLayers {
        (self.build)(features, classes, device)
    }

    /// `(channels, height, width)` of spatial `features`, or [`ModelError::HeadNeedsSpatial`]
    /// naming this head.
    pub fn spatial(self, features: FeatureShape) -> Result<(usize, usize, usize), ModelError> {
        match features {
            FeatureShape::Spatial {
                channels,
                height,
                width,
            } => Ok((channels, height, width)),
            FeatureShape::Flat(_) => Err(ModelError::HeadNeedsSpatial {
                head: self.name.to_string(),
            }),
        }
    }
}

impl PartialEq for AuxHead {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for AuxHead {}

impl std::fmt::Debug for AuxHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuxHead({})", self.name)
    }
}
