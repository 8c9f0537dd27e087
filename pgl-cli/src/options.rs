//! Options shared by every command that trains (`train`, `compare`) and their merge with a
//! config file: defaults ← `--config FILE` ← flags given on the command line.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use pgl_core::{GlobalOptimizer, OptimizerKind, RunConfig};

pub use crate::config_file::Origins;
use crate::config_file::read_config;
use crate::plugins::plugins;

/// `--backend` help from pgl-burn's backend table: every name, and which are compiled in.
fn backend_help() -> String {
    let names: Vec<String> = pgl_burn::backend::BACKENDS
        .iter()
        .map(|b| match (b.compiled, b.cargo_feature) {
            (true, _) | (_, None) => b.name.to_string(),
            (false, Some(feature)) => format!("{} (build with --features {feature})", b.name),
        })
        .collect();
    format!("Compute backend: {} [default: cpu].", names.join(", "))
}

/// `--local-objective` help from pgl-core's objective table.
fn objective_help() -> String {
    let names = plugins().objectives.names().join(", ");
    format!(
        "Local objective of every module in local steps: {names}, with parameters (e.g. ce, infopro, supcon:temperature=0.07; see `pgl objectives`) [default: {}].",
        pgl_core::objective::DEFAULT_OBJECTIVE
    )
}

/// Builds the local objective `spec` (a bad spec is an error naming the objective and the
/// parameter).
pub fn local_objective(spec: &str) -> Result<Box<dyn pgl_core::LocalObjective>> {
    Ok(plugins().objectives.build(spec)?)
}

/// Data, model and optimisation options (everything but K, the schedule and the run folder).
/// Every option left out keeps the value of `--config FILE`, or the default.
#[derive(Debug, Clone, Default, Args)]
pub struct CommonArgs {
    /// A TOML (or JSON, e.g. a run's config.json) file with any `pgl train` option; flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Dataset [default: digits]; the help lists pgl-data's dataset table.
    #[arg(long, help = format!(
        "{} [default: digits].",
        plugins().datasets.dataset_help()
    ))]
    pub dataset: Option<String>,
    /// Folder with the dataset's files [default: $PGL_DATA_DIR/<dataset>].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// CIFAR-100 labels: fine or coarse [default: fine].
    #[arg(long)]
    pub label: Option<String>,
    /// Training augmentation: auto, on, off or a recipe [default: auto]; the help says what
    /// each dataset's table entry makes of them.
    #[arg(long, value_name = "auto|on|off|RECIPE", help = format!(
        "{} [default: auto].",
        plugins().datasets.augment_help()
    ))]
    pub augment: Option<String>,
    /// Model (see `pgl models`) [default: cnn]; the help lists the model table's names.
    #[arg(long, help = format!(
        "Model: {} (see `pgl models`) [default: cnn].",
        plugins().models.model_names().join(", ")
    ))]
    pub model: Option<String>,
    /// Module boundaries: even or infopro [default: even]; the help names the models with tables.
    #[arg(long, help = format!(
        "Module boundaries: even, or infopro (InfoPro's tables: {}; K values in `pgl models`) [default: even].",
        plugins().models.infopro_models().join(", ")
    ))]
    pub split: Option<String>,
    /// Auxiliary head [default: the model's own]; the help lists the head table's names.
    #[arg(long, help = format!(
        "Auxiliary head: {} [default: the model's own, see `pgl models`].",
        plugins().models.head_names().join(", ")
    ))]
    pub aux_head: Option<String>,
    /// Shortcut of residual blocks that change shape: option-a (zero-padded identity, He et al.) or option-b (1x1 conv + BN, InfoPro) [default: option-a].
    #[arg(long, value_name = "option-a|option-b")]
    pub shortcut: Option<String>,
    /// Initialisation of convolution weights: default (Burn's = PyTorch's uniform) or he-normal-fan-out (InfoPro, torchvision) [default: default].
    #[arg(long, value_name = "default|he-normal-fan-out")]
    pub conv_init: Option<String>,
    /// Number of epochs [default: 10].
    #[arg(long, allow_negative_numbers = true)]
    pub epochs: Option<u64>,
    /// Mini-batch size [default: 64].
    #[arg(long, allow_negative_numbers = true)]
    pub batch_size: Option<usize>,
    /// Learning rate of every module's optimizer [default: 0.001].
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Learning-rate schedule spec, see `pgl lr-schedules` (e.g. constant, cosine, multistep:at=(80,120),gamma=0.1) [default: cosine].
    #[arg(long, value_name = "SPEC")]
    pub lr_schedule: Option<String>,
    /// Local objective spec: what each module learns from in a local step; the help lists the
    /// objective table (see `pgl objectives`) [default: supcon].
    #[arg(long, value_name = "SPEC", help = objective_help())]
    pub local_objective: Option<String>,
    /// Optimizer of every module: sgd, adam or adamw (decoupled weight decay) [default: adam].
    #[arg(long)]
    pub optimizer: Option<String>,
    /// SGD momentum, 0 disables [default: 0.9].
    #[arg(long, allow_negative_numbers = true)]
    pub momentum: Option<f64>,
    /// Use Nesterov momentum with SGD (`--nesterov` or `--nesterov false`) [default: false].
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub nesterov: Option<bool>,
    /// Weight decay: L2 with sgd and adam, decoupled with adamw [default: 0].
    #[arg(long, allow_negative_numbers = true)]
    pub weight_decay: Option<f64>,
    /// No weight decay on biases and BatchNorm scales/shifts (every parameter of rank 1).
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub no_decay_norm_bias: Option<bool>,
    /// Weight of the aux-head losses added to the loss of a guided schedule's global steps (they then train the aux heads too); 0: classifier only; `end-to-end` is always plain backprop [default: 1].
    #[arg(long, allow_negative_numbers = true)]
    pub aux_weight: Option<f64>,
    /// Where global steps keep optimizer state: `shared` with local steps, or `separate` (moment buffers of their own) [default: shared].
    #[arg(long, value_name = "shared|separate")]
    pub global_optimizer: Option<String>,
    /// Global steps use the learning rate times this factor [default: 1].
    #[arg(long, allow_negative_numbers = true, value_name = "FACTOR")]
    pub global_lr_scale: Option<f64>,
    /// Global-gradient replay: every global step leaves BETA times the gradient it applied to each module, and the local steps until the next global step add it to their own; 0: off [default: 0].
    #[arg(long, allow_negative_numbers = true, value_name = "BETA")]
    pub global_replay: Option<f64>,
    /// Synthetic gradients (DNI): global steps train a small predictor per module on the true gradient of the global loss at its output, and local steps add ALPHA times its prediction to each module's own gradient; 0: off [default: 0].
    #[arg(long, allow_negative_numbers = true, value_name = "ALPHA")]
    pub synthetic_gradient: Option<f64>,
    /// Partial global steps: backpropagate the global loss through the top J modules only (the modules below take a local step) [default: all K].
    #[arg(long, allow_negative_numbers = true, value_name = "J")]
    pub global_depth: Option<usize>,
    /// Global steps' aux losses (`--aux-weight`) train the aux heads only: the heads read the modules' features detached, so the modules learn from the classifier's loss alone in global steps (`--global-aux-detach` or `--global-aux-detach false`) [default: false].
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub global_aux_detach: Option<bool>,
    /// An extra factor for local steps' learning rate only, as a learning-rate schedule spec (see `pgl lr-schedules`): local steps run at lr x --lr-schedule x this; `cosine` hands training over from local to global steps as the run ends [default: none].
    #[arg(long, value_name = "SPEC")]
    pub local_lr_schedule: Option<String>,
    /// Cut every global step's batch into M micro-batches and accumulate their gradients, to hold one micro-batch's activations at a time [default: 1].
    #[arg(long, allow_negative_numbers = true, value_name = "M")]
    pub global_microbatch: Option<usize>,
    /// Seed of initial weights, data order and augmentation [default: 42].
    #[arg(long, allow_negative_numbers = true)]
    pub seed: Option<u64>,
    /// Train on the first N training samples only [default: all].
    #[arg(long, allow_negative_numbers = true)]
    pub train_limit: Option<usize>,
    /// Evaluate on the first N test samples only [default: all].
    #[arg(long, allow_negative_numbers = true)]
    pub test_limit: Option<usize>,
    /// Compute backend [default: cpu]; the help lists the backend table.
    #[arg(long, help = backend_help())]
    pub backend: Option<String>,
    /// GPU index for --backend wgpu (N-th discrete GPU) or cuda (CUDA device N) [default: the backend's default device].
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    pub device: Option<usize>,
    /// Run local steps through a pipeline of W worker threads (module groups) [default: off].
    #[arg(long, allow_negative_numbers = true, value_name = "W")]
    pub pipeline: Option<usize>,
    /// Write a checkpoint every N epochs, and after the last [default: 1].
    #[arg(long, allow_negative_numbers = true)]
    pub checkpoint_every: Option<u64>,
    /// Keep the newest N checkpoints [default: 3].
    #[arg(long, allow_negative_numbers = true)]
    pub keep_checkpoints: Option<usize>,
}

macro_rules! override_fields {
    ($args:expr, $config:expr, $origins:expr, $($field:ident),* $(,)?) => {
        $(if let Some(value) = &$args.$field {
            $config.$field = value.clone();
            $origins.flag(stringify!($field));
        })*
    };
}

impl CommonArgs {
    /// The configuration before K and the schedule: the defaults, then the config file, then
    /// every flag that was given; with where each option came from.
    pub fn base_config(&self) -> Result<(RunConfig, Origins)> {
        let (mut config, mut origins) = match &self.config {
            Some(path) => read_config(path)?,
            None => (RunConfig::default(), Origins::default()),
        };
        override_fields!(
            self,
            config,
            origins,
            dataset,
            label,
            augment,
            model,
            split,
            shortcut,
            conv_init,
            epochs,
            batch_size,
            lr,
            lr_schedule,
            local_objective,
            momentum,
            nesterov,
            weight_decay,
            no_decay_norm_bias,
            aux_weight,
            global_lr_scale,
            global_replay,
            synthetic_gradient,
            global_aux_detach,
            seed,
            backend,
            checkpoint_every,
            keep_checkpoints
        );
        if let Some(dir) = &self.data_dir {
            config.data_dir = Some(dir.display().to_string());
            origins.flag("data_dir");
        }
        macro_rules! override_options {
            ($($field:ident),*) => {
                $(if self.$field.is_some() {
                    config.$field = self.$field.clone();
                    origins.flag(stringify!($field));
                })*
            };
        }
        override_options!(
            aux_head,
            train_limit,
            pipeline,
            device,
            test_limit,
            global_microbatch,
            global_depth,
            local_lr_schedule
        );
        if let Some(name) = &self.optimizer {
            config.optimizer = OptimizerKind::parse(name)?;
            origins.flag("optimizer");
        }
        if let Some(name) = &self.global_optimizer {
            config.global_optimizer = GlobalOptimizer::parse(name)?;
            origins.flag("global_optimizer");
        }
        Ok((config, origins))
    }

    /// Whether any option other than `--epochs` was given.
    pub fn any_given_besides_epochs(&self) -> bool {
        let Self {
            config,
            dataset,
            data_dir,
            label,
            augment,
            model,
            split,
            aux_head,
            shortcut,
            conv_init,
            epochs: _,
            batch_size,
            lr,
            lr_schedule,
            local_objective,
            optimizer,
            momentum,
            nesterov,
            weight_decay,
            no_decay_norm_bias,
            aux_weight,
            global_optimizer,
            global_lr_scale,
            global_replay,
            synthetic_gradient,
            global_depth,
            global_aux_detach,
            local_lr_schedule,
            global_microbatch,
            seed,
            train_limit,
            test_limit,
            backend,
            device,
            pipeline,
            checkpoint_every,
            keep_checkpoints,
        } = self;
        config.is_some()
            || dataset.is_some()
            || data_dir.is_some()
            || label.is_some()
            || augment.is_some()
            || model.is_some()
            || split.is_some()
            || aux_head.is_some()
            || shortcut.is_some()
            || conv_init.is_some()
            || batch_size.is_some()
            || lr.is_some()
            || lr_schedule.is_some()
            || local_objective.is_some()
            || optimizer.is_some()
            || momentum.is_some()
            || nesterov.is_some()
            || weight_decay.is_some()
            || no_decay_norm_bias.is_some()
            || aux_weight.is_some()
            || global_optimizer.is_some()
            || global_lr_scale.is_some()
            || global_replay.is_some()
            || synthetic_gradient.is_some()
            || global_depth.is_some()
            || global_aux_detach.is_some()
            || local_lr_schedule.is_some()
            || global_microbatch.is_some()
            || seed.is_some()
            || train_limit.is_some()
            || test_limit.is_some()
            || backend.is_some()
            || device.is_some()
            || pipeline.is_some()
            || checkpoint_every.is_some()
            || keep_checkpoints.is_some()
    }
}

/// Validates a finished configuration: numbers (pgl-core), every spec (guidance and
/// learning-rate schedules, local objective, augmentation) and the dataset name. An error
/// names the option's flag, or its key and the config file it came from (`origins`).
///
/// The configuration it returns names the auxiliary head the run builds (the model's default
/// where none was asked for), so that the run's records keep their meaning if the default
/// changes.
pub fn validated(mut config: RunConfig, origins: &Origins) -> Result<RunConfig> {
    if let Err(error) = config.validate() {
        let field = match &error {
            pgl_core::CoreError::InvalidConfig { field, .. } => field.replace('-', "_"),
            _ => String::new(),
        };
        let value = serde_json::to_value(&config)
            .ok()
            .and_then(|c| c.get(&field).map(ToString::to_string))
            .unwrap_or_default();
        return Err(origins
            .check::<(), _>(&field, &value, Err(error))
            .unwrap_err());
    }
    let c = &config;
    origins.check(
        "schedule",
        &c.schedule,
        plugins().schedules.build(&c.schedule),
    )?;
    origins.check(
        "lr_schedule",
        &c.lr_schedule,
        plugins().lr_schedules.build(&c.lr_schedule),
    )?;
    origins.check(
        "local_objective",
        &c.local_objective,
        local_objective(&c.local_objective),
    )?;
    // The dataset name and `--augment`, by pgl-data's dataset table (pgl-core checks numbers).
    origins.check("dataset", &c.dataset, crate::setup::dataset_entry(c))?;
    origins.check("augment", &c.augment, crate::setup::augmentation(c))?;
    // The model options (split, shortcut, conv init, head), by pgl-models.
    crate::setup::model_options(c)?;
    let aux_head = crate::setup::aux_head_name(c)?;
    // An extra learning-rate factor of local steps, by the same registry as `lr_schedule`.
    if let Some(spec) = &c.local_lr_schedule {
        origins.check(
            "local_lr_schedule",
            spec,
            plugins().lr_schedules.build(spec),
        )?;
    }
    config.aux_head = Some(aux_head);
    Ok(config)
}
