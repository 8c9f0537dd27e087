//! [`ModelError`]: everything that can go wrong when a zoo model is looked up, cut or built.

use pgl_core::setting;

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
    /// No auxiliary head has this name.
    #[error("unknown aux head `{name}`; expected one of: {known}")]
    UnknownHead {
        /// The name given.
        name: String,
        /// The known names.
        known: String,
    },
    /// A model or head was registered under a name the catalog already has.
    #[error("a {kind} called `{name}` is already registered")]
    DuplicateName {
        /// `model` or `aux head`.
        kind: &'static str,
        /// The name registered twice.
        name: String,
    },
    /// A convolutional head was asked for on flat features.
    #[error("aux head `{head}` needs spatial (convolutional) features; on an MLP use 0c1f")]
    HeadNeedsSpatial {
        /// The head.
        head: String,
    },
    /// No such split kind.
    #[error(
        "unknown split `{name}`; expected even, infopro or at:U2,U3,.. (the units where modules 2..K start)"
    )]
    UnknownSplit {
        /// The name given.
        name: String,
    },
    /// A model option (`shortcut`, `conv-init`) got a name it does not know.
    #[error("unknown {option} `{name}`; expected one of: {known}")]
    UnknownOption {
        /// The option.
        option: &'static str,
        /// The name given.
        name: String,
        /// The known names.
        known: String,
    },
    /// An explicit split (`at:..`) names another number of modules than asked for.
    #[error("split at:{points} makes {made} modules, but K={modules}")]
    SplitModules {
        /// The split points, comma separated.
        points: String,
        /// Modules the points make.
        made: usize,
        /// K asked for.
        modules: usize,
    },
    /// Option-B shortcuts were asked for on a model without residual blocks.
    #[error(
        "model `{model}` has no residual blocks whose shape changes: {} applies to the ResNets",
        setting("shortcut").with("option-b")
    )]
    NoShortcuts {
        /// The model.
        model: String,
    },
    /// InfoPro published no table for this model and K.
    #[error(
        "InfoPro's split tables have no entry for {model} with K={modules}; tables exist for K = {available}; use {}",
        setting("split").with("even")
    )]
    NoInfoProTable {
        /// The model.
        model: String,
        /// The K asked for.
        modules: usize,
        /// The K values with a table (or which models have tables, if this one has none).
        available: String,
    },
    /// The model cannot be cut as asked.
    #[error("model `{model}`: {reason}")]
    Split {
        /// The model.
        model: String,
        /// Why (in the message, and so not also the error's `source()`: a chain printer would
        /// print it twice).
        reason: pgl_core::CoreError,
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
    /// A model's builder returned another number of blocks than its catalog entry declares
    /// (a programming error in the entry).
    #[error("model `{model}` declares {declared} split units but its builder made {built} blocks")]
    UnitCount {
        /// The model.
        model: String,
        /// `ModelEntry::units`.
        declared: usize,
        /// Blocks the builder returned.
        built: usize,
    },
}
