//! The **pgl** model zoo: networks described as a list of blocks, cut into K decoupled
//! modules by a [`SplitPlan`](pgl_core::SplitPlan), with an auxiliary head after every module
//! but the last and the network's classifier after the last.
//!
//! - [`layer`]: [`Layer`], the building blocks (linear, conv, batch norm, ReLU, pooling,
//!   residual blocks).
//! - [`net`]: [`DecoupledNet`], the [`DecoupledModel`](pgl_burn::DecoupledModel) every zoo
//!   model is; stages are a `Vec`, so K is a config value, not a new type.
//! - [`heads`]: the auxiliary head designs (`0c1f`, `1c2f`, `mlp-sr`, `pool2-1f`).
//! - Families, one file each: [`mlp`], [`cnn`], [`resnet`] (ResNet-32/56/110 with InfoPro's
//!   split tables), [`vgg`] (VGG-11/13 with BN).
//!
//! [`build_model`] builds any zoo model by name; [`catalog`] describes them all.

pub mod cnn;
pub mod heads;
pub mod layer;
pub mod mlp;
pub mod net;
pub mod resnet;
pub mod vgg;

use pgl_burn::burn::module::Module;
use pgl_burn::burn::prelude::Device;

pub use heads::AuxHead;
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
    /// No auxiliary head has this name.
    #[error("unknown aux head `{name}`; expected one of: {known}")]
    UnknownHead {
        /// The name given.
        name: String,
        /// The known names.
        known: String,
    },
    /// A convolutional head was asked for on flat features.
    #[error("aux head `{head}` needs spatial (convolutional) features; on an MLP use 0c1f")]
    HeadNeedsSpatial {
        /// The head.
        head: String,
    },
    /// No such split kind.
    #[error("unknown split `{name}`; expected even or infopro")]
    UnknownSplit {
        /// The name given.
        name: String,
    },
    /// InfoPro published no table for this model and K.
    #[error(
        "InfoPro's split tables have no entry for {model} with K={modules}; tables exist for K = {available}; use --split even"
    )]
    NoInfoProTable {
        /// The model.
        model: String,
        /// The K asked for.
        modules: usize,
        /// The K values with a table (empty if none).
        available: String,
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

/// How the split units of a model become K modules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitKind {
    /// As equal as possible (the first modules take the extra units).
    Even,
    /// InfoPro's published tables (ResNet-32 and ResNet-110, K = 2, 4, 8, 16).
    InfoPro,
}

impl SplitKind {
    /// Parses `even` or `infopro`.
    pub fn parse(name: &str) -> Result<Self, ModelError> {
        match name {
            "even" => Ok(SplitKind::Even),
            "infopro" => Ok(SplitKind::InfoPro),
            _ => Err(ModelError::UnknownSplit {
                name: name.to_string(),
            }),
        }
    }
}

/// How to cut a model and which auxiliary heads to give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelOptions {
    /// Number of modules K.
    pub modules: usize,
    /// How to place the module boundaries.
    pub split: SplitKind,
    /// Auxiliary head design (`None`: the model's default).
    pub aux_head: Option<AuxHead>,
}

impl ModelOptions {
    /// `modules` modules, even split, default heads.
    pub fn even(modules: usize) -> Self {
        Self {
            modules,
            split: SplitKind::Even,
            aux_head: None,
        }
    }
}

/// One entry of the zoo, for `pgl models`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModelInfo {
    /// Name used with `--model`.
    pub name: &'static str,
    /// One line about it.
    pub description: &'static str,
    /// Number of split units: K can be 1..=units.
    pub units: usize,
    /// K values with an InfoPro split table.
    pub infopro_modules: Vec<usize>,
    /// Default auxiliary head.
    pub default_head: &'static str,
    /// The input the parameter count is for, `[channels, height, width]`.
    pub reference_input: [usize; 3],
    /// Trainable parameters of the network itself (K = 1: no auxiliary head), 10 classes.
    pub params: usize,
}

/// The zoo's model names, in the order shown to users.
pub const MODEL_NAMES: [&str; 7] = [
    "mlp",
    "cnn",
    "resnet32",
    "resnet56",
    "resnet110",
    "vgg11",
    "vgg13",
];

/// The default auxiliary head of a model.
pub fn default_head(name: &str) -> AuxHead {
    match name {
        "mlp" => AuxHead::ZeroConvOneFc,
        "cnn" => AuxHead::Pool2OneFc,
        "vgg11" | "vgg13" => AuxHead::MlpSr,
        _ => AuxHead::OneConvTwoFc,
    }
}

/// Builds the zoo model `name`, cut and headed as `options` say, and initialises every
/// parameter on `device` at once (seed the device first for reproducible weights).
pub fn build_model(
    name: &str,
    input: ModelInput,
    options: &ModelOptions,
    device: &Device,
) -> Result<DecoupledNet, ModelError> {
    let model = build_lazy(name, input, options, device)?;
    pgl_burn::model::initialize_now(&model);
    Ok(model)
}

fn build_lazy(
    name: &str,
    input: ModelInput,
    options: &ModelOptions,
    device: &Device,
) -> Result<DecoupledNet, ModelError> {
    let head = options.aux_head.unwrap_or_else(|| default_head(name));
    let k = options.modules;
    if options.split == SplitKind::InfoPro && !matches!(name, "resnet32" | "resnet110") && k > 1 {
        return Err(ModelError::NoInfoProTable {
            model: name.to_string(),
            modules: k,
            available: "(none for this model; InfoPro published tables for resnet32 and resnet110)"
                .to_string(),
        });
    }
    match name {
        "mlp" => mlp::mlp(input, k, head, device),
        "cnn" => cnn::cnn(input, k, head, device),
        "resnet32" => resnet::resnet(32, input, k, options.split, head, device),
        "resnet56" => resnet::resnet(56, input, k, options.split, head, device),
        "resnet110" => resnet::resnet(110, input, k, options.split, head, device),
        "vgg11" => vgg::vgg(name, &vgg::VGG11, input, k, head, device),
        "vgg13" => vgg::vgg(name, &vgg::VGG13, input, k, head, device),
        _ => Err(ModelError::UnknownModel {
            name: name.to_string(),
            known: MODEL_NAMES.join(", "),
        }),
    }
}

/// Trainable parameters of `module` (BatchNorm running statistics are not counted). The
/// module must live on an autodiff device: elsewhere no tensor requires a gradient.
pub fn trainable_params<M: Module>(module: &M) -> usize {
    pgl_burn::inspect::param_values(module)
        .iter()
        .filter(|p| p.trainable)
        .map(|p| p.values.len())
        .sum()
}

/// Every zoo model with its parameter count (built once on `device`), valid K and default head.
pub fn catalog(device: &Device) -> Vec<ModelInfo> {
    let device = &device.clone().autodiff();
    let describe = |name: &'static str,
                    description: &'static str,
                    units: usize,
                    reference_input: [usize; 3]| {
        let input = ModelInput {
            channels: reference_input[0],
            height: reference_input[1],
            width: reference_input[2],
            classes: 10,
        };
        let model =
            build_model(name, input, &ModelOptions::even(1), device).expect("zoo presets build");
        ModelInfo {
            name,
            description,
            units,
            infopro_modules: match name {
                "resnet32" => resnet::infopro_modules(32),
                "resnet110" => resnet::infopro_modules(110),
                _ => Vec::new(),
            },
            default_head: default_head(name).name(),
            reference_input,
            params: trainable_params(&model),
        }
    };
    vec![
        describe(
            "mlp",
            "8 x (linear 256, BN, ReLU)",
            mlp::MLP_BLOCKS,
            [1, 28, 28],
        ),
        describe(
            "cnn",
            "8 x (conv3x3, BN, ReLU), widths 16-64",
            cnn::CNN_BLOCKS.len(),
            [1, 28, 28],
        ),
        describe(
            "resnet32",
            "CIFAR ResNet-32 (He et al. 2016), n=5",
            16,
            [3, 32, 32],
        ),
        describe("resnet56", "CIFAR ResNet-56, n=9", 28, [3, 32, 32]),
        describe("resnet110", "CIFAR ResNet-110, n=18", 55, [3, 32, 32]),
        describe(
            "vgg11",
            "VGG-11 with BN, CIFAR classifier",
            vgg::conv_layers(&vgg::VGG11),
            [3, 32, 32],
        ),
        describe(
            "vgg13",
            "VGG-13 with BN, CIFAR classifier",
            vgg::conv_layers(&vgg::VGG13),
            [3, 32, 32],
        ),
    ]
}
