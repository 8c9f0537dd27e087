//! [`NetLayer`]: what the layers of a [`DecoupledNet`](crate::DecoupledNet) are. The zoo's
//! [`Layer`] is one implementation; a user's own Burn module is another, so that their layers
//! train with PGL inside a zoo network without forking the zoo.
//!
//! ```
//! use pgl_burn::Activation;
//! use pgl_burn::burn::module::Module;
//! use pgl_burn::burn::nn::Gelu;
//! use pgl_models::{Layer, NetLayer};
//!
//! /// The zoo's layers, and a GELU the zoo does not have.
//! #[derive(Module, Debug)]
//! enum MyLayer {
//!     Zoo(Layer),
//!     Gelu(Gelu),
//! }
//!
//! impl NetLayer for MyLayer {
//!     fn forward(&self, x: Activation) -> Activation {
//!         match self {
//!             MyLayer::Zoo(layer) => NetLayer::forward(layer, x),
//!             MyLayer::Gelu(gelu) => match x {
//!                 Activation::Flat(t) => Activation::Flat(gelu.forward(t)),
//!                 Activation::Spatial(t) => Activation::Spatial(gelu.forward(t)),
//!             },
//!         }
//!     }
//!     fn is_residual(&self) -> bool {
//!         matches!(self, MyLayer::Zoo(layer) if layer.is_residual())
//!     }
//! }
//! ```
//!
//! With it, `net.map_layers(|layer| match layer { Layer::Relu(_) => MyLayer::Gelu(Gelu::new()),
//! other => MyLayer::Zoo(other) })` turns a zoo network's ReLUs into GELUs
//! ([`DecoupledNet::map_layers`](crate::DecoupledNet::map_layers)).

use pgl_burn::Activation;
use pgl_burn::burn::module::{Module, ModuleDisplay};

use crate::layer::Layer;

/// A layer of a [`DecoupledNet`](crate::DecoupledNet): any Burn module with a forward pass on
/// an [`Activation`]. Per-module gradients, pipeline groups, checkpoints, exact resume and
/// safetensors export with pgl's names need nothing more from it.
pub trait NetLayer: Module + ModuleDisplay + Sync {
    /// Applies the layer.
    fn forward(&self, x: Activation) -> Activation;

    /// Whether the layer is a residual block: what AugLocal's heads (`--aux-head augN`), which
    /// copy the design of later blocks, need to know of it. `false` unless said otherwise.
    fn is_residual(&self) -> bool {
        false
    }
}

impl NetLayer for Layer {
    fn forward(&self, x: Activation) -> Activation {
        Layer::forward(self, x)
    }

    fn is_residual(&self) -> bool {
        matches!(self, Layer::Basic(_))
    }
}
