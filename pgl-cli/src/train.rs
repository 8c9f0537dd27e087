//! `pgl train`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use pgl_burn::{DecoupledModel, Trainer};
use pgl_core::{OptimizerKind, RunConfig};
use serde::Serialize;

use crate::output::{MetricsFile, create_run_dir, write_json_atomic};
use crate::progress::ConsoleSink;
use crate::setup::RunSetup;

/// Options of `pgl train`; every one maps to a [`RunConfig`] field.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Dataset: digits (embedded), mnist, fashion-mnist.
    #[arg(long, default_value = "digits")]
    dataset: String,
    /// Folder with the dataset's files (default for mnist/fashion-mnist: $PGL_DATA_DIR/<dataset>).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Model: mlp or cnn.
    #[arg(long, default_value = "cnn")]
    model: String,
    /// Number of decoupled modules K.
    #[arg(long, default_value_t = 4)]
    modules: usize,
    /// Module boundaries: even, or infopro (InfoPro's tables: resnet32/resnet110, K=2,4,8,16).
    #[arg(long, default_value = "even")]
    split: String,
    /// Auxiliary head: 0c1f, 1c2f, mlp-sr, pool2-1f (default: the model's own, see `pgl models`).
    #[arg(long)]
    aux_head: Option<String>,
    /// Guidance schedule spec (see `pgl schedules`).
    #[arg(long, default_value = "periodic:every=10")]
    schedule: String,
    /// Number of epochs.
    #[arg(long, default_value_t = 10)]
    epochs: u64,
    /// Mini-batch size.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Learning rate of every module's optimizer.
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Optimizer of every module: sgd or adam.
    #[arg(long, default_value = "adam")]
    optimizer: String,
    /// SGD momentum (0 disables).
    #[arg(long, default_value_t = 0.9)]
    momentum: f64,
    /// Use Nesterov momentum (SGD).
    #[arg(long)]
    nesterov: bool,
    /// L2 weight decay.
    #[arg(long, default_value_t = 0.0)]
    weight_decay: f64,
    /// Weight of the aux-head losses added to the loss of global steps (0: classifier only).
    #[arg(long, default_value_t = 0.0)]
    aux_weight: f64,
    /// Seed of initial weights and data order.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Train on the first N training samples only.
    #[arg(long)]
    train_limit: Option<usize>,
    /// Evaluate on the first N test samples only.
    #[arg(long)]
    test_limit: Option<usize>,
    /// CIFAR-100 labels: fine or coarse.
    #[arg(long, default_value = "fine")]
    label: String,
    /// Training augmentation: auto (pad+crop and flip for CIFAR/STL-10, none otherwise), on, off.
    #[arg(long, default_value = "auto")]
    augment: String,
    /// Run folder (default: a new folder under runs/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Compute backend: cpu (always built), wgpu or cuda (cargo features of the build).
    #[arg(long, default_value = "cpu")]
    backend: String,
}

impl TrainArgs {
    fn to_config(&self) -> Result<RunConfig> {
        let optimizer = match self.optimizer.as_str() {
            "sgd" => OptimizerKind::Sgd,
            "adam" => OptimizerKind::Adam,
            other => bail!("unknown optimizer `{other}` for --optimizer; expected sgd or adam"),
        };
        let config = RunConfig {
            dataset: self.dataset.clone(),
            data_dir: self.data_dir.as_ref().map(|d| d.display().to_string()),
            model: self.model.clone(),
            modules: self.modules,
            split: self.split.clone(),
            aux_head: self.aux_head.clone(),
            schedule: self.schedule.clone(),
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
        };
        config.validate()?;
        Ok(config)
    }
}

/// What `summary.json` holds.
#[derive(Debug, Serialize)]
struct Summary<'a> {
    test_accuracy: f64,
    test_loss: f64,
    epochs: u64,
    steps_local: u64,
    steps_global: u64,
    module_accuracy: &'a [f64],
    wall_seconds: f64,
    train_seconds: f64,
    images_per_second: f64,
    schedule: String,
    backend: &'a str,
    train_samples: usize,
    test_samples: usize,
    module_params: Vec<usize>,
    config: &'a RunConfig,
}

/// Runs `pgl train`.
pub fn run(args: TrainArgs) -> Result<()> {
    let started = Instant::now();
    let config = args.to_config()?;
    let setup = RunSetup::prepare(&config)?;
    let RunSetup {
        data,
        model,
        schedule,
        device,
        backend,
        augment,
    } = setup;
    let module_params: Vec<usize> = (0..model.num_modules())
        .map(|k| model.module_num_params(k))
        .collect();

    let label = format!("{}-{}-k{}", config.dataset, config.model, config.modules);
    let run_dir = create_run_dir(args.out.as_deref(), &label)?;
    write_json_atomic(&run_dir.join("config.json"), &config)?;
    println!(
        "pgl train: {} ({} train / {} test), {} with K={} ({} params), schedule {}, {} epochs, backend {}",
        config.dataset,
        data.train.len(),
        data.test.len(),
        config.model,
        config.modules,
        module_params.iter().sum::<usize>(),
        schedule.spec(),
        config.epochs,
        backend.name(),
    );
    println!("run folder: {}", run_dir.display());

    let schedule_spec = schedule.spec();
    let mut trainer = Trainer::new(model, &config, schedule, &device);
    trainer.set_augment(augment);
    let mut sink = MetricsFile::create(&run_dir, ConsoleSink::new(config.modules))?;
    let history = trainer.fit(&data, &mut sink)?;
    if let Some(error) = sink.take_error() {
        return Err(error);
    }
    let last = history.last().context("no epoch ran")?;
    let train_seconds: f64 = history.iter().map(|m| m.train_seconds).sum();
    let samples_seen = data.train.len() as f64 * history.len() as f64;
    let summary = Summary {
        test_accuracy: last.test_accuracy,
        test_loss: last.test_loss,
        epochs: history.len() as u64,
        steps_local: history.iter().map(|m| m.steps_local).sum(),
        steps_global: history.iter().map(|m| m.steps_global).sum(),
        module_accuracy: &last.module_accuracy,
        wall_seconds: started.elapsed().as_secs_f64(),
        train_seconds,
        images_per_second: samples_seen / train_seconds.max(1e-9),
        schedule: schedule_spec,
        backend: backend.name(),
        train_samples: data.train.len(),
        test_samples: data.test.len(),
        module_params,
        config: &config,
    };
    write_json_atomic(&run_dir.join("summary.json"), &summary)?;
    println!(
        "test accuracy {:.4} (loss {:.4}) after {} epochs, {} local + {} global steps, {:.1}s; wrote {}",
        summary.test_accuracy,
        summary.test_loss,
        summary.epochs,
        summary.steps_local,
        summary.steps_global,
        summary.wall_seconds,
        run_dir.join("summary.json").display()
    );
    Ok(())
}
