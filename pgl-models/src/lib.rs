//! The **pgl** model zoo: networks described as a list of blocks, cut into K decoupled modules
//! by a [`SplitPlan`](pgl_core::SplitPlan), with an auxiliary head after every module but the
//! last and the network's classifier after the last.
//!
//! - [`catalog`](mod@catalog): [`ModelCatalog`], the model table ([`BUILTIN_MODELS`]) and the head table
//!   ([`AuxHead::ALL`]), and [`build_model`]; [`entry`]: [`ModelEntry`], one row of the model
//!   table.
//! - [`layer`]: [`Layer`], the building blocks (linear, conv, batch norm, ReLU, pooling,
//!   residual blocks from [`residual`]); [`shape`]: [`FeatureShape`].
//! - [`net`]: [`DecoupledNet`], the [`DecoupledModel`](pgl_burn::DecoupledModel) every zoo
//!   model is; stages are a `Vec`, so K is a config value, not a new type. It is generic over
//!   its layers ([`net_layer`]: [`NetLayer`]), so a user's own Burn layers can stand beside
//!   the zoo's ([`DecoupledNet::map_layers`]).
//! - [`heads`]: the auxiliary head designs, one file each.
//! - Families, one file each: [`mlp`], [`cnn`], [`resnet`] (ResNet-32/56/110 with InfoPro's
//!   split tables), [`vgg`] (VGG-11/13 with BN).
//!
//! **Adding a model**: a new file with a function returning its [`Backbone`] (blocks and
//! classifier) and a `pub const` [`ModelEntry`] (name, description, default head, split units,
//! InfoPro tables, reference input, builder), a `mod` line here and one line in
//! [`BUILTIN_MODELS`]. The CLI help and `pgl models` are generated from the table. From
//! another crate: `ModelCatalog::with_builtins()` then [`ModelCatalog::register`].

#![deny(missing_docs)]

pub mod catalog;
pub mod cnn;
pub mod entry;
pub mod error;
pub mod heads;
pub mod input;
pub mod layer;
pub mod mlp;
pub mod net;
pub mod net_layer;
pub mod options;
pub mod residual;
pub mod resnet;
pub mod shape;
pub mod testing;
pub mod vgg;

pub use catalog::{
    BUILTIN_MODELS, ModelCatalog, ModelInfo, build_model, catalog, trainable_params,
};
pub use entry::{Backbone, ModelBuilder, ModelEntry, SplitTable, no_split_tables};
pub use error::ModelError;
pub use heads::AuxHead;
pub use input::ModelInput;
pub use layer::Layer;
pub use net::{Block, DecoupledNet, Stage, StageSite};
pub use net_layer::NetLayer;
pub use options::{ConvInit, ModelOptions, Shortcut, SplitKind};
pub use shape::FeatureShape;
