//! The groups a [`RunConfig`](super::RunConfig) is made of. Each field is declared here once:
//! its config key (serde, flattened, so a `config.json` stays one flat object), its `pgl` flag
//! (clap, behind the `clap` feature; the key with `-` for `_`) and its default.
//!
//! Flags of fields that commands take in their own form (`modules`, `schedule`,
//! `global_checkpointing`: `compare` takes lists) or that only `pgl train` sets
//! (`init_from`, `keep_optimizer`) are skipped here; those commands declare them.

use serde::{Deserialize, Serialize};

use super::{GlobalOptimizer, OptimizerKind};

/// What the network learns from: the dataset, its labels, augmentation and sample limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default)]
pub struct DataConfig {
    /// Dataset name: `digits` (embedded), `mnist`, `fashion-mnist`, … (pgl-data's table).
    #[cfg_attr(
        feature = "clap",
        arg(long, required = false, help = "Dataset [default: digits].")
    )]
    pub dataset: String,
    /// Folder holding the dataset files (not used by `digits`).
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            value_name = "DIR",
            help = "Folder with the dataset's files [default: $PGL_DATA_DIR/<dataset>]."
        )
    )]
    pub data_dir: Option<String>,
    /// CIFAR-100 labels, e.g. `fine` or `coarse` (ignored by other datasets); the data crate
    /// checks the name.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            help = "CIFAR-100 labels: fine or coarse [default: fine]."
        )
    )]
    pub label: String,
    /// Training augmentation, e.g. `auto` (the dataset's standard one), `on` or `off`; checked
    /// where the CLI parses it.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            value_name = "auto|on|off|RECIPE",
            help = "Training augmentation: auto, on, off or a recipe [default: auto]."
        )
    )]
    pub augment: String,
    /// Use only the first N training samples.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            allow_negative_numbers = true,
            value_name = "N",
            help = "Train on the first N training samples only [default: all]."
        )
    )]
    pub train_limit: Option<usize>,
    /// Use only the first N test samples.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            allow_negative_numbers = true,
            value_name = "N",
            help = "Evaluate on the first N test samples only [default: all]."
        )
    )]
    pub test_limit: Option<usize>,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            dataset: "digits".to_string(),
            data_dir: None,
            label: "fine".to_string(),
            augment: "auto".to_string(),
            train_limit: None,
            test_limit: None,
        }
    }
}

/// The network: the zoo model, how it is cut into K modules, its heads and initialisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default)]
pub struct ModelConfig {
    /// Model name from the zoo (`mlp`, `cnn`, `resnet32`, …; config key and flag `model`).
    #[serde(rename = "model")]
    #[cfg_attr(
        feature = "clap",
        arg(
            id = "model",
            long = "model",
            required = false,
            value_name = "MODEL",
            help = "Model (see `pgl models`) [default: cnn]."
        )
    )]
    pub name: String,
    /// Number of decoupled modules K.
    #[cfg_attr(feature = "clap", arg(skip = 4usize))]
    pub modules: usize,
    /// How module boundaries are placed, e.g. `even` or `infopro` (published tables); the
    /// model zoo checks the name.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            help = "Module boundaries: even or infopro [default: even]."
        )
    )]
    pub split: String,
    /// Auxiliary head design (`0c1f`, `1c2f`, `mlp-sr`, `pool2-1f`); `None`: the model's default
    /// (in a run record written before 2026-12-07: see [`LEGACY_AUX_HEADS`](super::LEGACY_AUX_HEADS)).
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            help = "Auxiliary head [default: the model's own, see `pgl models`]."
        )
    )]
    pub aux_head: Option<String>,
    /// Shortcut of the residual blocks that change shape: `option-a` (He et al.'s zero-padded
    /// identity, the default) or `option-b` (1×1 convolution + batch norm, InfoPro's); the
    /// model zoo checks the name.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            value_name = "option-a|option-b",
            help = "Shortcut of residual blocks that change shape: option-a (zero-padded identity, He et al.) or option-b (1x1 conv + BN, InfoPro) [default: option-a]."
        )
    )]
    pub shortcut: String,
    /// Initialisation of convolution weights: `default` (Burn's, = PyTorch's) or
    /// `he-normal-fan-out` (InfoPro's and torchvision's); the model zoo checks the name.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            value_name = "default|he-normal-fan-out",
            help = "Initialisation of convolution weights: default (Burn's = PyTorch's uniform) or he-normal-fan-out (InfoPro, torchvision) [default: default]."
        )
    )]
    pub conv_init: String,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            name: "cnn".to_string(),
            modules: 4,
            split: "even".to_string(),
            aux_head: None,
            shortcut: "option-a".to_string(),
            conv_init: "default".to_string(),
        }
    }
}

/// How long training runs and in which order: epochs, batch size, seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default)]
pub struct TrainingConfig {
    /// Number of epochs.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            allow_negative_numbers = true,
            help = "Number of epochs [default: 10]."
        )
    )]
    pub epochs: u64,
    /// Mini-batch size.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            allow_negative_numbers = true,
            help = "Mini-batch size [default: 64]."
        )
    )]
    pub batch_size: usize,
    /// Seed of weight initialisation, data order and augmentation.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            allow_negative_numbers = true,
            help = "Seed of initial weights, data order and augmentation [default: 42]."
        )
    )]
    pub seed: u64,
}

impl Default for TrainingConfig {
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: 64,
            seed: 42,
        }
    }
}

/// Every module's optimizer and its learning rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default)]
pub struct OptimizerConfig {
    /// Optimizer of every module (config key and flag `optimizer`).
    #[serde(rename = "optimizer")]
    #[cfg_attr(feature = "clap", arg(id = "optimizer", long = "optimizer", required = false, value_name = "sgd|adam|adamw", value_parser = OptimizerKind::parse, help = "Optimizer of every module: sgd, adam or adamw (decoupled weight decay) [default: adam]."))]
    pub kind: OptimizerKind,
    /// Learning rate.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            allow_negative_numbers = true,
            help = "Learning rate of every module's optimizer [default: 0.001]."
        )
    )]
    pub lr: f64,
    /// Learning-rate schedule spec (see [`crate::lr`]): the factor the base `lr` is multiplied
    /// by before every iteration, e.g. `cosine`, `multistep:at=(80,120),gamma=0.1` or
    /// `linear-warmup:iters=500,then=cosine`. Default `cosine` (guidance needs a decaying
    /// rate: docs/results/guidance/); a run configuration written before this field existed
    /// reads as `constant`, what those runs did (see [`LEGACY_DEFAULTS`](super::LEGACY_DEFAULTS)).
    /// Not checked by [`validate`](super::RunConfig::validate): the runner builds it through
    /// an [`LrScheduleRegistry`](crate::LrScheduleRegistry) (which user schedules can extend),
    /// and that names what is wrong with a bad spec.
    #[serde(default = "legacy_lr_schedule")]
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            value_name = "SPEC",
            help = "Learning-rate schedule spec, see `pgl lr-schedules` (e.g. constant, cosine, multistep:at=(80,120),gamma=0.1) [default: cosine]."
        )
    )]
    pub lr_schedule: String,
    /// An extra factor for the learning rate of local steps only, as a learning-rate schedule
    /// spec (see [`crate::lr`]): a local step runs at `lr · lr_schedule · local_lr_schedule`,
    /// a global step at `lr · lr_schedule · global_lr_scale`. `cosine` hands training over
    /// from local to global steps as the run ends (`None`, the default: no extra factor).
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            value_name = "SPEC",
            help = "An extra factor for local steps' learning rate only, as a learning-rate schedule spec (see `pgl lr-schedules`): local steps run at lr x --lr-schedule x this; `cosine` hands training over from local to global steps as the run ends [default: none]."
        )
    )]
    pub local_lr_schedule: Option<String>,
    /// SGD momentum (0 disables it); ignored by Adam.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            allow_negative_numbers = true,
            help = "SGD momentum, 0 disables [default: 0.9]."
        )
    )]
    pub momentum: f64,
    /// Use Nesterov momentum with SGD.
    #[cfg_attr(feature = "clap", arg(long, required = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", help = "Use Nesterov momentum with SGD (`--nesterov` or `--nesterov false`) [default: false]."))]
    pub nesterov: bool,
    /// Weight decay (0 disables it): L2 for SGD and Adam, decoupled for AdamW.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            allow_negative_numbers = true,
            help = "Weight decay: L2 with sgd and adam, decoupled with adamw [default: 0]."
        )
    )]
    pub weight_decay: f64,
    /// No weight decay on biases and normalisation parameters (every parameter of rank 1:
    /// BatchNorm's γ and β, every bias), as most published recipes do.
    #[cfg_attr(feature = "clap", arg(long, required = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", help = "No weight decay on biases and BatchNorm scales/shifts (every parameter of rank 1)."))]
    pub no_decay_norm_bias: bool,
    /// Where global steps keep their optimizer state (`shared` with local steps or
    /// `separate`).
    #[cfg_attr(feature = "clap", arg(long, required = false, value_name = "shared|separate", value_parser = GlobalOptimizer::parse, help = "Where global steps keep optimizer state: `shared` with local steps, or `separate` (moment buffers of their own) [default: shared]."))]
    pub global_optimizer: GlobalOptimizer,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            kind: OptimizerKind::Adam,
            lr: 1e-3,
            lr_schedule: "cosine".to_string(),
            local_lr_schedule: None,
            momentum: 0.9,
            nesterov: false,
            weight_decay: 0.0,
            no_decay_norm_bias: false,
            global_optimizer: GlobalOptimizer::Shared,
        }
    }
}

/// What each module learns from in a local step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default)]
pub struct ObjectiveConfig {
    /// Local objective spec (see [`crate::objective`]): e.g. `ce` (its aux head's
    /// cross-entropy, DGL), `infopro` or `supcon:temperature=0.07`. Default
    /// [`DEFAULT_OBJECTIVE`](crate::objective::DEFAULT_OBJECTIVE) (`supcon`, held as its
    /// canonical spec); a run configuration without the field was written when `ce` was the
    /// only objective, and reads as `ce` (see [`LEGACY_DEFAULTS`](super::LEGACY_DEFAULTS)).
    /// Built (and checked) through an [`ObjectiveRegistry`](crate::ObjectiveRegistry), like
    /// `lr_schedule`. Written as the objective's canonical spec
    /// ([`record_spec`](crate::objective::record_spec)); read with
    /// [`legacy_spec`](crate::objective::legacy_spec), so a run recorded before InfoPro's
    /// reconstruction loss and the contrastive head changed default keeps its MSE and MLP
    /// projection.
    #[serde(
        default = "legacy_local_objective",
        serialize_with = "write_objective",
        deserialize_with = "read_objective"
    )]
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            value_name = "SPEC",
            help = "Local objective spec of every module in local steps (see `pgl objectives`) [default: supcon]."
        )
    )]
    pub local_objective: String,
}

impl Default for ObjectiveConfig {
    fn default() -> Self {
        Self {
            local_objective: crate::objective::record_spec(crate::objective::DEFAULT_OBJECTIVE),
        }
    }
}

/// Writes a local objective spec as its canonical spec (every changed default named).
fn write_objective<S: serde::Serializer>(spec: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&crate::objective::record_spec(spec))
}

/// Reads a recorded local objective spec with the defaults it was recorded under.
fn read_objective<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    let spec = String::deserialize(deserializer)?;
    Ok(crate::objective::legacy_spec(&spec))
}

/// The local objective a configuration without the field means: `ce`.
fn legacy_local_objective() -> String {
    "ce".to_string()
}

/// The learning-rate schedule a configuration without the field means: `constant`.
fn legacy_lr_schedule() -> String {
    "constant".to_string()
}
