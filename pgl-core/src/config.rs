//! [`RunConfig`]: the resolved configuration of one training run.
//!
//! Every `pgl train` option is a field here; the CLI fills it from defaults and flags, calls
//! [`RunConfig::validate`], and saves it as `config.json` next to the run's outputs, so any run
//! can be reproduced from its folder.

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

mod validate;

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

/// The complete, resolved configuration of a training run.
///
/// In a config file every field is optional (missing ones take the defaults below) and an
/// unknown field is an error that names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// Dataset name: `digits` (embedded), `mnist`, `fashion-mnist`.
    pub dataset: String,
    /// Folder holding the dataset files (not used by `digits`).
    pub data_dir: Option<String>,
    /// Model name from the zoo (`mlp`, `cnn`).
    pub model: String,
    /// Number of decoupled modules K.
    pub modules: usize,
    /// How module boundaries are placed, e.g. `even` or `infopro` (published tables); the
    /// model zoo checks the name.
    pub split: String,
    /// Auxiliary head design (`0c1f`, `1c2f`, `mlp-sr`, `pool2-1f`); `None`: the model's default
    /// (in a run record written before 2026-12-07: see [`LEGACY_AUX_HEADS`]).
    pub aux_head: Option<String>,
    /// Shortcut of the residual blocks that change shape: `option-a` (He et al.'s zero-padded
    /// identity, the default) or `option-b` (1×1 convolution + batch norm, InfoPro's); the
    /// model zoo checks the name.
    pub shortcut: String,
    /// Initialisation of convolution weights: `default` (Burn's, = PyTorch's) or
    /// `he-normal-fan-out` (InfoPro's and torchvision's); the model zoo checks the name.
    pub conv_init: String,
    /// Guidance schedule spec, e.g. `periodic:every=10`. Default `periodic:every=4`, the
    /// policy of the guidance study (docs/results/guidance/).
    pub schedule: String,
    /// Number of epochs.
    pub epochs: u64,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Learning rate.
    pub lr: f64,
    /// Learning-rate schedule spec (see [`crate::lr`]): the factor the base `lr` is multiplied
    /// by before every iteration, e.g. `cosine`, `multistep:at=(80,120),gamma=0.1` or
    /// `linear-warmup:iters=500,then=cosine`. Default `cosine` (guidance needs a decaying
    /// rate: docs/results/guidance/); a run configuration written before this field existed
    /// reads as `constant`, what those runs did (see [`LEGACY_DEFAULTS`]). Not checked by
    /// [`validate`](Self::validate): the runner builds it through an
    /// [`LrScheduleRegistry`](crate::LrScheduleRegistry) (which user schedules can extend), and
    /// that names what is wrong with a bad spec.
    #[serde(default = "legacy_lr_schedule")]
    pub lr_schedule: String,
    /// Local objective spec (see [`crate::objective`]): what each module learns from in a local
    /// step, e.g. `ce` (its aux head's cross-entropy, DGL), `infopro` or
    /// `supcon:temperature=0.07`. Default [`DEFAULT_OBJECTIVE`](crate::objective::DEFAULT_OBJECTIVE)
    /// (`supcon`, held as its canonical spec); a run configuration without the field was
    /// written when `ce` was the only objective, and reads as `ce` (see [`LEGACY_DEFAULTS`]).
    /// Built (and checked) through an [`ObjectiveRegistry`](crate::ObjectiveRegistry), like `lr_schedule`. Written as the
    /// objective's canonical spec ([`record_spec`](crate::objective::record_spec)); read with
    /// [`legacy_spec`](crate::objective::legacy_spec), so a run recorded before InfoPro's
    /// reconstruction loss and the contrastive head changed default keeps its MSE and MLP
    /// projection.
    #[serde(
        default = "legacy_local_objective",
        serialize_with = "write_objective",
        deserialize_with = "read_objective"
    )]
    pub local_objective: String,
    /// Optimizer of every module.
    pub optimizer: OptimizerKind,
    /// SGD momentum (0 disables it); ignored by Adam.
    pub momentum: f64,
    /// Use Nesterov momentum with SGD.
    pub nesterov: bool,
    /// Weight decay (0 disables it): L2 for SGD and Adam, decoupled for AdamW.
    pub weight_decay: f64,
    /// No weight decay on biases and normalisation parameters (every parameter of rank 1:
    /// BatchNorm's γ and β, every bias), as most published recipes do.
    pub no_decay_norm_bias: bool,
    /// Weight λ of the auxiliary losses added to the loss of a guided schedule's global steps
    /// (0: classifier loss only; `end-to-end` is always plain backprop). Default 1: global
    /// steps also train the aux heads, the guidance study's policy.
    pub aux_weight: f64,
    /// Where global steps keep their optimizer state (`shared` with local steps or
    /// `separate`).
    pub global_optimizer: GlobalOptimizer,
    /// Global steps use the learning rate times this factor (default 1).
    pub global_lr_scale: f64,
    /// β of global-gradient replay: every global step leaves β times the gradient it applied
    /// to each module, and the local steps until the next global step add it to their own
    /// (0, the default: off; configurations written before this field existed read as 0).
    pub global_replay: f64,
    /// α of synthetic gradients (DNI): global steps train a small predictor per module on the
    /// true gradient of the global loss at the module's output, and local steps add α times
    /// its prediction to every module's own gradient (0, the default: off; configurations
    /// written before this field existed read as 0). Not combined with `global_microbatch`
    /// or `global_depth`.
    pub synthetic_gradient: f64,
    /// Global steps backpropagate through the top J modules only: the modules below take a
    /// local step, the top J are trained end to end (`None`, the default: all K; `end-to-end`
    /// is always whole). Not combined with `global_microbatch` or `global_checkpointing`.
    pub global_depth: Option<usize>,
    /// With `aux_weight > 0`: the aux losses of global steps train the aux heads only (each
    /// head reads its module's features detached), so the modules themselves learn from the
    /// classifier's loss alone in global steps (default false: the aux losses reach the
    /// modules too).
    pub global_aux_detach: bool,
    /// An extra factor for the learning rate of local steps only, as a learning-rate schedule
    /// spec (see [`crate::lr`]): a local step runs at `lr · lr_schedule · local_lr_schedule`,
    /// a global step at `lr · lr_schedule · global_lr_scale`. `cosine` hands training over
    /// from local to global steps as the run ends (`None`, the default: no extra factor).
    pub local_lr_schedule: Option<String>,
    /// Split every global step's batch into this many micro-batches and accumulate their
    /// gradients, so that a global step holds the activations of one micro-batch at a time
    /// (`None`: one pass over the whole batch).
    pub global_microbatch: Option<usize>,
    /// Seed of weight initialisation and data order.
    pub seed: u64,
    /// Use only the first N training samples.
    pub train_limit: Option<usize>,
    /// Use only the first N test samples.
    pub test_limit: Option<usize>,
    /// CIFAR-100 labels, e.g. `fine` or `coarse` (ignored by other datasets); the data crate
    /// checks the name.
    pub label: String,
    /// Training augmentation, e.g. `auto` (the dataset's standard one), `on` or `off`; checked
    /// where the CLI parses it.
    pub augment: String,
    /// Compute backend, e.g. `cpu`; the backend table of pgl-burn lists and checks the names.
    pub backend: String,
    /// Device index for backends with several devices (`None`: the backend's default device);
    /// the backend refuses an index when it has a single device.
    pub device: Option<usize>,
    /// Gradient checkpointing for global steps only: a global step keeps the activations at
    /// module boundaries and recomputes each module's forward pass during the backward pass,
    /// holding one module's autodiff graph at a time. Local steps are unaffected.
    pub global_checkpointing: bool,
    /// Run local steps through a pipeline of this many worker threads (`None`: sequentially).
    pub pipeline: Option<usize>,
    /// Write a checkpoint every N epochs (and always after the last one).
    pub checkpoint_every: u64,
    /// How many of the newest checkpoints to keep.
    pub keep_checkpoints: usize,
    /// The checkpoint folder this run's initial weights came from (`pgl train --init-from`);
    /// `None`: freshly initialised from the seed.
    pub init_from: Option<String>,
    /// With `init_from`: the optimizer states and the schedule's state came from the
    /// checkpoint too (`--keep-optimizer`), not fresh.
    pub keep_optimizer: bool,
}

/// The fields whose default changed after run configurations without them were written, with
/// the value such a configuration means (what pgl did before the field existed). Reading a
/// `RunConfig` fills a missing one of these with that value, so that an old run's
/// `config.json` or checkpoint keeps its meaning; a user's config file wants today's defaults
/// instead and fills them from [`RunConfig::default`] before it is read (pgl-cli does).
/// Parameters of a local objective spec whose default changed are handled the same way, inside
/// the spec: [`LEGACY_PARAMS`](crate::objective::LEGACY_PARAMS).
pub const LEGACY_DEFAULTS: [(&str, &str); 2] =
    [("lr_schedule", "constant"), ("local_objective", "ce")];

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
    ///     let mut config = RunConfig {
    ///         model: model.to_string(),
    ///         aux_head: head.map(str::to_string),
    ///         ..RunConfig::default()
    ///     };
    ///     config.fill_recorded_aux_head();
    ///     config.aux_head
    /// };
    /// assert_eq!(record("cnn", None).as_deref(), Some("pool2-1f"));
    /// assert_eq!(record("cnn", Some("1c2f")).as_deref(), Some("1c2f"));
    /// assert_eq!(record("resnet32", None), None);
    /// ```
    pub fn fill_recorded_aux_head(&mut self) {
        if self.aux_head.is_none()
            && let Some((_, head)) = LEGACY_AUX_HEADS.iter().find(|(m, _)| *m == self.model)
        {
            self.aux_head = Some(head.to_string());
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

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            dataset: "digits".to_string(),
            data_dir: None,
            model: "cnn".to_string(),
            modules: 4,
            split: "even".to_string(),
            aux_head: None,
            shortcut: "option-a".to_string(),
            conv_init: "default".to_string(),
            schedule: "periodic:every=4".to_string(),
            epochs: 10,
            batch_size: 64,
            lr: 1e-3,
            lr_schedule: "cosine".to_string(),
            local_objective: crate::objective::record_spec(crate::objective::DEFAULT_OBJECTIVE),
            optimizer: OptimizerKind::Adam,
            momentum: 0.9,
            nesterov: false,
            weight_decay: 0.0,
            no_decay_norm_bias: false,
            aux_weight: 1.0,
            global_optimizer: GlobalOptimizer::Shared,
            global_lr_scale: 1.0,
            global_replay: 0.0,
            synthetic_gradient: 0.0,
            global_depth: None,
            global_aux_detach: false,
            local_lr_schedule: None,
            global_microbatch: None,
            seed: 42,
            train_limit: None,
            test_limit: None,
            label: "fine".to_string(),
            augment: "auto".to_string(),
            backend: "cpu".to_string(),
            device: None,
            global_checkpointing: false,
            pipeline: None,
            checkpoint_every: 1,
            keep_checkpoints: 3,
            init_from: None,
            keep_optimizer: false,
        }
    }
}
