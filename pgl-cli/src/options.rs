//! Options shared by every command that trains (`train`, `compare`): each maps to a
//! [`RunConfig`] field.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use pgl_core::{OptimizerKind, RunConfig};

/// Data, model and optimisation options (everything but K, the schedule and the run folder).
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Dataset: digits (embedded), mnist, fashion-mnist, cifar10, cifar100, stl10.
    #[arg(long, default_value = "digits")]
    pub dataset: String,
    /// Folder with the dataset's files (default: $PGL_DATA_DIR/<dataset>).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// CIFAR-100 labels: fine or coarse.
    #[arg(long, default_value = "fine")]
    pub label: String,
    /// Training augmentation: auto (pad+crop and flip for CIFAR/STL-10, none otherwise), on, off.
    #[arg(long, default_value = "auto")]
    pub augment: String,
    /// Model: mlp, cnn, resnet32, resnet56, resnet110, vgg11, vgg13 (see `pgl models`).
    #[arg(long, default_value = "cnn")]
    pub model: String,
    /// Module boundaries: even, or infopro (InfoPro's tables: resnet32/resnet110, K=2,4,8,16).
    #[arg(long, default_value = "even")]
    pub split: String,
    /// Auxiliary head: 0c1f, 1c2f, mlp-sr, pool2-1f (default: the model's own, see `pgl models`).
    #[arg(long)]
    pub aux_head: Option<String>,
    /// Number of epochs.
    #[arg(long, default_value_t = 10)]
    pub epochs: u64,
    /// Mini-batch size.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Learning rate of every module's optimizer.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    /// Optimizer of every module: sgd or adam.
    #[arg(long, default_value = "adam")]
    pub optimizer: String,
    /// SGD momentum (0 disables).
    #[arg(long, default_value_t = 0.9)]
    pub momentum: f64,
    /// Use Nesterov momentum (SGD).
    #[arg(long)]
    pub nesterov: bool,
    /// L2 weight decay.
    #[arg(long, default_value_t = 0.0)]
    pub weight_decay: f64,
    /// Weight of the aux-head losses added to the loss of global steps (0: classifier only).
    #[arg(long, default_value_t = 0.0)]
    pub aux_weight: f64,
    /// Seed of initial weights, data order and augmentation.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Train on the first N training samples only.
    #[arg(long)]
    pub train_limit: Option<usize>,
    /// Evaluate on the first N test samples only.
    #[arg(long)]
    pub test_limit: Option<usize>,
    /// Compute backend: cpu (always built), wgpu or cuda (cargo features of the build).
    #[arg(long, default_value = "cpu")]
    pub backend: String,
}

impl CommonArgs {
    /// The validated configuration of one run with `modules` modules and `schedule`.
    pub fn to_config(
        &self,
        modules: usize,
        schedule: &str,
        global_checkpointing: bool,
    ) -> Result<RunConfig> {
        let optimizer = match self.optimizer.as_str() {
            "sgd" => OptimizerKind::Sgd,
            "adam" => OptimizerKind::Adam,
            other => bail!("unknown optimizer `{other}` for --optimizer; expected sgd or adam"),
        };
        let config = RunConfig {
            dataset: self.dataset.clone(),
            data_dir: self.data_dir.as_ref().map(|d| d.display().to_string()),
            model: self.model.clone(),
            modules,
            split: self.split.clone(),
            aux_head: self.aux_head.clone(),
            schedule: schedule.to_string(),
            epochs: self.epochs,
            batch_size: self.batch_size,
            lr: self.lr,
            optimizer,
            momentum: self.momentum,
            nesterov: self.nesterov,
            weight_decay: self.weight_decay,
            aux_weight: self.aux_weight,
            seed: self.seed,
            train_limit: self.train_limit,
            test_limit: self.test_limit,
            label: self.label.clone(),
            augment: self.augment.clone(),
            backend: self.backend.clone(),
            global_checkpointing,
        };
        config.validate()?;
        Ok(config)
    }
}
