//! [`RunConfig`]: the resolved configuration of one training run.
//!
//! Every `pgl train` option is a field here; the CLI fills it from defaults and flags, calls
//! [`RunConfig::validate`], and saves it as `config.json` next to the run's outputs, so any run
//! can be reproduced from its folder.

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

mod groups;
mod guidance;
mod keys;
mod runtime;
mod validate;

pub use groups::{DataConfig, ModelConfig, ObjectiveConfig, OptimizerConfig, TrainingConfig};
pub use guidance::GuidanceConfig;
pub use runtime::RuntimeConfig;

/// Which optimizer every module uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Stochastic gradient descent, with optional (Nesterov) momentum and weight decay.
    Sgd,
    /// Adam, with optional (L2) weight decay.
    Adam,
    /// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter).
    #[serde(rename = "adamw")]
    AdamW,
}

impl OptimizerKind {
    /// `"sgd"` or `"adam"`.
    pub fn as_str(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Adam => "adam",
            OptimizerKind::AdamW => "adamw",
        }
    }

    /// Every optimizer, in the order help texts list them.
    pub const ALL: [OptimizerKind; 3] = [
        OptimizerKind::Sgd,
        OptimizerKind::Adam,
        OptimizerKind::AdamW,
    ];

    /// The optimizer called `name` (`sgd`, `adam`, `adamw`).
    pub fn parse(name: &str) -> Result<Self, CoreError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| CoreError::InvalidConfig {
                field: "optimizer".to_string(),
                value: name.to_string(),
                expected: "one of sgd, adam, adamw".to_string(),
            })
    }
}

/// Where the optimizer state (momentum, Adam's moment estimates) of global steps lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GlobalOptimizer {
    /// Global and local steps update one optimizer per module: a global step's moments mix
    /// with the local steps' ones.
    #[default]
    Shared,
    /// Global steps have their own optimizer per module, with their own moment buffers; local
    /// steps never see global gradients in their moments and vice versa.
    Separate,
}

impl GlobalOptimizer {
    /// `"shared"` or `"separate"`.
    pub fn as_str(self) -> &'static str {
        match self {
            GlobalOptimizer::Shared => "shared",
            GlobalOptimizer::Separate => "separate",
        }
    }

    /// The choice called `name` (`shared`, `separate`).
    pub fn parse(name: &str) -> Result<Self, CoreError> {
        [GlobalOptimizer::Shared, GlobalOptimizer::Separate]
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| CoreError::InvalidConfig {
                field: "global-optimizer".to_string(),
                value: name.to_string(),
                expected: "shared or separate".to_string(),
            })
    }
}

/// The complete, resolved configuration of a training run, in groups: every field is declared
/// once, in its group, with its config key, its flag and its default ([`DataConfig`], [`ModelConfig`], …).
///
/// Written as one flat JSON object (the groups are flattened; a run's `config.json` and the
/// records of checkpoints and comparisons). Read from one too: every key is optional (a
/// missing one takes the group's default; see [`LEGACY_DEFAULTS`] for the exceptions), and an
/// unknown key, or a value of the wrong type, is an error that names the key.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct RunConfig {
    /// Dataset, labels, augmentation, sample limits.
    #[serde(flatten)]
    #[cfg_attr(feature = "clap", command(flatten))]
    pub data: DataConfig,
    /// Model, K, split, aux head, shortcut, initialisation.
    #[serde(flatten)]
    #[cfg_attr(feature = "clap", command(flatten))]
    pub model: ModelConfig,
    /// Epochs, batch size, seed.
    #[serde(flatten)]
    #[cfg_attr(feature = "clap", command(flatten))]
    pub training: TrainingConfig,
    /// Optimizer, learning rate and its schedules.
    #[serde(flatten)]
    #[cfg_attr(feature = "clap", command(flatten))]
    pub optimizer: OptimizerConfig,
    /// The local objective.
    #[serde(flatten)]
    #[cfg_attr(feature = "clap", command(flatten))]
    pub objective: ObjectiveConfig,
    /// The guidance schedule and its global steps.
    #[serde(flatten)]
    #[cfg_attr(feature = "clap", command(flatten))]
    pub guidance: GuidanceConfig,
    /// Backend, device, pipeline, checkpoints, initial weights.
    #[serde(flatten)]
    #[cfg_attr(feature = "clap", command(flatten))]
    pub runtime: RuntimeConfig,
}

impl<'de> Deserialize<'de> for RunConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let object = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        keys::read(object).map_err(serde::de::Error::custom)
    }
}

/// The fields whose default changed after run configurations without them were written, with
/// the value such a configuration means (what pgl did before the field existed). Reading a
/// `RunConfig` fills a missing one of these with that value, so that an old run's
/// `config.json` or checkpoint keeps its meaning; a user's TOML config file wants today's
/// defaults instead and fills them from [`RunConfig::default`] before it is read (pgl-cli
/// does; a JSON file is read as a record, like the `config.json` of a run).
/// Parameters of a local objective spec whose default changed are handled the same way, inside
/// the spec: [`LEGACY_PARAMS`](crate::objective::LEGACY_PARAMS).
pub const LEGACY_DEFAULTS: [(&str, &str); 3] = [
    ("lr_schedule", "constant"),
    ("local_objective", "ce"),
    ("kernels", "pgl"),
];

/// The models whose default auxiliary head changed, with the head they had before: a run
/// record (a run's `config.json`, a checkpoint manifest, a comparison plan) whose `aux_head`
/// is `None` was written before pgl recorded the head it used (2026-12-07) and means the
/// model's default of that time, which [`RunConfig::fill_recorded_aux_head`] fills in. Runs
/// since record the head they used (pgl-cli resolves it when it checks a configuration).
pub const LEGACY_AUX_HEADS: [(&str, &str); 1] = [("cnn", "pool2-1f")];

impl RunConfig {
    /// Gives a run record that names no auxiliary head the head it was made with when its
    /// model's default has changed since ([`LEGACY_AUX_HEADS`]); any other record is left as
    /// it is. Call it on records only: a user's configuration without a head means today's
    /// default.
    ///
    /// ```
    /// use pgl_core::RunConfig;
    /// let record = |model: &str, head: Option<&str>| {
    ///     let mut config = RunConfig::default();
    ///     config.model.name = model.to_string();
    ///     config.model.aux_head = head.map(str::to_string);
    ///     config.fill_recorded_aux_head();
    ///     config.model.aux_head
    /// };
    /// assert_eq!(record("cnn", None).as_deref(), Some("pool2-1f"));
    /// assert_eq!(record("cnn", Some("1c2f")).as_deref(), Some("1c2f"));
    /// assert_eq!(record("resnet32", None), None);
    /// ```
    pub fn fill_recorded_aux_head(&mut self) {
        let model = &mut self.model;
        if model.aux_head.is_none()
            && let Some((_, head)) = LEGACY_AUX_HEADS.iter().find(|(m, _)| *m == model.name)
        {
            model.aux_head = Some(head.to_string());
        }
    }
}
