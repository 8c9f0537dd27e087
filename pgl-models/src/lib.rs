//! The **pgl** model zoo: networks described as a list of blocks, cut into K decoupled
//! modules by a [`SplitPlan`](pgl_core::SplitPlan), with an auxiliary head after every module
//! but the last and the network's classifier after the last.
//!
//! - [`layer`]: [`Layer`], the building blocks (linear, conv, batch norm, ReLU, pooling).
//! - [`net`]: [`DecoupledNet`], the [`DecoupledModel`](pgl_burn::DecoupledModel) every zoo
//!   model is; stages are a `Vec`, so K is a config value, not a new type.
//! - [`mlp`], [`cnn`]: the model families.
//!
//! [`build_model`] builds any zoo model by name.

pub mod cnn;
pub mod layer;
pub mod mlp;
pub mod net;

use pgl_burn::burn::prelude::Device;

pub use layer::{FeatureShape, Layer};
pub use net::{DecoupledNet, Stage};

/// Errors of the model zoo.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// No model has this name.
    #[error("unknown model `{name}`; expected one of: {known}")]
    UnknownModel {
        /// The name given.
        name: String,
        /// The known names.
        known: String,
    },
    /// The model cannot be cut as asked.
    #[error("model `{model}`: {source}")]
    Split {
        /// The model.
        model: String,
        /// Why.
        source: pgl_core::CoreError,
    },
    /// The input does not suit the model.
    #[error("model `{model}` cannot take inputs of shape {input:?}: {reason}")]
    Input {
        /// The model.
        model: String,
        /// The input shape (channels, height, width).
        input: [usize; 3],
        /// Why.
        reason: String,
    },
}

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

/// The zoo's model names, in the order shown to users.
pub const MODEL_NAMES: [&str; 2] = ["mlp", "cnn"];

/// Builds the zoo model `name` cut into `modules` modules, initialised on `device`.
pub fn build_model(
    name: &str,
    input: ModelInput,
    modules: usize,
    device: &Device,
) -> Result<DecoupledNet, ModelError> {
    match name {
        "mlp" => mlp::mlp(input, modules, device),
        "cnn" => cnn::cnn(input, modules, device),
        _ => Err(ModelError::UnknownModel {
            name: name.to_string(),
            known: MODEL_NAMES.join(", "),
        }),
    }
}
