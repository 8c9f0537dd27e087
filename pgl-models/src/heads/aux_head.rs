//! [`AuxHead`]: one auxiliary head design: its name, what it is, and how to build it.

use pgl_burn::burn::prelude::Device;

use crate::error::ModelError;
use crate::layer::Layer;
use crate::shape::FeatureShape;

/// A head's layers, or why it cannot be put on the features it was asked for.
pub type HeadLayers = Result<Vec<Layer>, ModelError>;

/// Builds a head's layers on features of a given shape, ending in `classes` logits.
pub type HeadBuilder = fn(FeatureShape, usize, &Device) -> HeadLayers;

/// Builds a head's layers at a [`HeadSite`] (it may look at the network after the module),
/// ending in `classes` logits.
pub type SiteHeadBuilder = fn(&HeadSite<'_>, usize, &Device) -> HeadLayers;

/// One block of the network after a head's module: what a head that imitates the rest of the
/// network (AugLocal's) needs to know about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaterBlock {
    /// The block's output shape.
    pub output: FeatureShape,
    /// Whether the block is a residual block (a copy of it is then one too).
    pub residual: bool,
}

/// Where a head is put: the features it reads and the part of the network it stands for.
#[derive(Debug, Clone, Copy)]
pub struct HeadSite<'a> {
    /// Shape of the module's output, the head's input.
    pub features: FeatureShape,
    /// Index k of the module the head follows (0-based).
    pub module: usize,
    /// Number of modules K of the network.
    pub modules: usize,
    /// Index of the module's last split unit (block) in the whole network.
    pub last_block: usize,
    /// The blocks after the module, in order (empty after the last module and for a head
    /// built away from a network, [`HeadSite::detached`]).
    pub later: &'a [LaterBlock],
}

impl<'a> HeadSite<'a> {
    /// A site that knows only its features: no network after it (what
    /// [`AuxHead::build`] uses).
    pub fn detached(features: FeatureShape) -> Self {
        Self {
            features,
            module: 0,
            modules: 1,
            last_block: 0,
            later: &[],
        }
    }

    /// Whether this is the last module's site (the network's classifier).
    pub fn is_last(&self) -> bool {
        self.module + 1 == self.modules
    }
}

/// How a head is built: from its input shape alone, or from its site in the network.
#[derive(Clone, Copy)]
enum Builder {
    Shape(HeadBuilder),
    Site(SiteHeadBuilder),
}

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
    build: Builder,
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
            build: Builder::Shape(build),
        }
    }

    /// Like [`new`](Self::new) with a builder that sees the head's [`HeadSite`]: the module's
    /// place in the network and the blocks after it.
    pub const fn at_site(
        name: &'static str,
        design: &'static str,
        origin: &'static str,
        build: SiteHeadBuilder,
    ) -> Self {
        Self {
            name,
            design,
            origin,
            build: Builder::Site(build),
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
        self.build_at(&HeadSite::detached(features), classes, device)
    }

    /// The head's layers at `site`, ending in `classes` logits (a head that does not look at
    /// the network reads only `site.features`).
    pub fn build_at(self, site: &HeadSite<'_>, classes: usize, device: &Device) -> HeadLayers {
        match self.build {
            Builder::Shape(build) => build(site.features, classes, device),
            Builder::Site(build) => build(site, classes, device),
        }
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
