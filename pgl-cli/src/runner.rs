//! One training run from a [`RunConfig`] to a finished run folder: shared by `train` and
//! `compare`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use pgl_burn::checkpoint::{self, CheckpointStore};
use pgl_burn::{DecoupledModel, TrainError, TrainSettings, Trainer};
use pgl_core::{EpochMetrics, EventSink, GuidanceSchedule, RunConfig};
use serde::{Deserialize, Serialize};

use crate::output::{MetricsFile, write_json_atomic};
use crate::setup::{RunSetup, checkpoint_input, image_shape};

/// Highest transient memory of a local and of a global step over a run, in bytes.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct PeakMemory {
    /// Local steps (`null` when none ran).
    pub local: Option<u64>,
    /// Global steps (`null` when none ran).
    pub global: Option<u64>,
}

impl PeakMemory {
    /// The highest peaks over `history`.
    pub fn of(history: &[EpochMetrics]) -> Self {
        Self {
            local: history
                .iter()
                .filter_map(|m| m.peak_memory_bytes_local)
                .max(),
            global: history
                .iter()
                .filter_map(|m| m.peak_memory_bytes_global)
                .max(),
        }
    }
}

/// What `summary.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Final test accuracy: the network's after the last epoch, 0..=1.
    #[serde(with = "pgl_core::json_float")]
    pub test_accuracy: f64,
    /// Best test accuracy: the network's highest after any epoch, 0..=1 (what InfoPro's
    /// `train.py` prints as "Best accuracy"; pgl's comparisons use the final one).
    #[serde(with = "pgl_core::json_float")]
    pub best_test_accuracy: f64,
    /// The epoch (1-based, the first on ties) of the best test accuracy.
    pub best_epoch: u64,
    /// Test loss of the network after the last epoch (a diverged model's may be infinite:
    /// written as `"inf"`).
    #[serde(with = "pgl_core::json_float")]
    pub test_loss: f64,
    /// Epochs run.
    pub epochs: u64,
    /// Local steps taken.
    pub steps_local: u64,
    /// Global steps taken.
    pub steps_global: u64,
    /// Test accuracy of every module's head after the last epoch (the last is the network's).
    #[serde(with = "pgl_core::json_float::vec")]
    pub module_accuracy: Vec<f64>,
    /// Seconds from start to finish, data loading and model building included.
    #[serde(with = "pgl_core::json_float")]
    pub wall_seconds: f64,
    /// Seconds spent in training steps.
    #[serde(with = "pgl_core::json_float")]
    pub train_seconds: f64,
    /// Training images per second.
    #[serde(with = "pgl_core::json_float")]
    pub images_per_second: f64,
    /// Highest transient memory of local and global steps.
    pub peak_memory_bytes: PeakMemory,
    /// What the memory figures count.
    pub memory_counted: String,
    /// Canonical spec of the schedule.
    pub schedule: String,
    /// Training samples.
    pub train_samples: usize,
    /// Test samples.
    pub test_samples: usize,
    /// Parameters of every module with its head.
    pub module_params: Vec<usize>,
    /// The resolved configuration.
    pub config: RunConfig,
}

/// A finished run.
pub struct RunOutcome {
    /// Its summary (also in `summary.json`).
    pub summary: Summary,
    /// Metrics of every epoch (also in `metrics.jsonl`).
    pub history: Vec<EpochMetrics>,
    /// The run folder.
    pub run_dir: PathBuf,
}

/// Where a run goes.
pub enum RunTarget<'a> {
    /// A new run; the folder is made by this function once data and model are ready, so a bad
    /// input leaves no folder behind.
    New(Box<dyn FnOnce() -> Result<PathBuf> + 'a>),
    /// Continue the run in this folder from its newest complete checkpoint.
    Resume(PathBuf),
}

/// Fails unless `config` (from the run's editable `config.json`) is the configuration the
/// checkpoint `checkpoint` was made with, `epochs` aside: `--resume` continues the same run.
/// The error lists every differing field, old → new.
fn ensure_same_run(
    saved: &RunConfig,
    config: &RunConfig,
    run_dir: &Path,
    checkpoint: &Path,
) -> Result<()> {
    let fields = |c: &RunConfig| match serde_json::to_value(c) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let (old, new) = (fields(saved), fields(config));
    let changes: Vec<String> = old
        .iter()
        .filter(|(name, value)| name.as_str() != "epochs" && new.get(*name) != Some(*value))
        .map(|(name, value)| {
            let now = new
                .get(name)
                .map_or("(missing)".to_string(), |v| v.to_string());
            format!("  {name}: {value} → {now}")
        })
        .collect();
    if changes.is_empty() {
        return Ok(());
    }
    bail!(
        "--resume continues the same run, but {} differs from the checkpoint {} in:\n{}\nOnly epochs may change. To train these weights with other settings, start a new run: `pgl train --init-from {} [flags]`",
        run_dir.join("config.json").display(),
        checkpoint.display(),
        changes.join("\n"),
        run_dir.display()
    )
}

/// Trains `config` into `target`, reporting events to `sink`, writing a checkpoint every
/// `checkpoint_every` epochs and after the last. Prints a one-line description of the run
/// first when `announce` is set. Stopped by Ctrl-C or SIGTERM, it writes a checkpoint and
/// says how to continue: `pgl train --resume RUN`.
pub fn execute(
    config: &RunConfig,
    target: RunTarget<'_>,
    sink: impl EventSink,
    announce: bool,
) -> Result<RunOutcome> {
    execute_with(config, None, target, sink, announce, None)
}

/// [`execute`] with the schedule already built from `config.schedule` (`None`: build it
/// here), so that a caller that built its specs up front (`compare`) does not parse them again,
/// and with the command that continues a stopped run (`None`: `pgl train --resume RUN`).
pub fn execute_with(
    config: &RunConfig,
    schedule: Option<Box<dyn GuidanceSchedule>>,
    target: RunTarget<'_>,
    sink: impl EventSink,
    announce: bool,
    resume_with: Option<&str>,
) -> Result<RunOutcome> {
    let started = Instant::now();
    let RunSetup {
        data,
        model,
        schedule,
        device,
        backend,
        augment,
    } = RunSetup::prepare_with(config, schedule)?;
    let module_params: Vec<usize> = (0..model.num_modules())
        .map(|k| model.module_num_params(k))
        .collect();
    let schedule_spec = schedule.spec();
    // The heap counter sees host tensors only; on a GPU backend it would report host
    // bookkeeping as if it were the step's memory, so no figure is better than that one.
    let probe = backend
        .entry()
        .host_memory_is_step_memory
        .then(crate::memory::probe);
    let memory_counted = probe.as_ref().map_or_else(
        || format!("not measured on the {} backend", backend.name()),
        |probe| probe.describe().to_string(),
    );
    let settings = TrainSettings::from_config(config)?
        .with_augment(augment)
        .with_memory_probe(probe)
        .with_input_shape(image_shape(&data))
        .with_input_normalization(data.train.mean.clone(), data.train.std.clone());
    let mut trainer = Trainer::new(model, schedule, settings, &device)?;
    let (run_dir, resumed_from) = match target {
        RunTarget::New(make_run_dir) => {
            if let Some(source) = &config.init_from {
                checkpoint::init_from(Path::new(source), &mut trainer, config.keep_optimizer)
                    .with_context(|| {
                        format!("--init-from {source}: the checkpoint does not fit this run")
                    })?;
            }
            (make_run_dir()?, None)
        }
        RunTarget::Resume(dir) => {
            let store = CheckpointStore::new(&dir, config.keep_checkpoints);
            let restored = checkpoint::restore_newest(&store, &mut trainer, |path, saved| {
                ensure_same_run(&saved.config, config, &dir, path)
            })?;
            for skipped in &restored.skipped {
                eprintln!(
                    "warning: skipped the damaged checkpoint {} ({}){}",
                    skipped.path.display(),
                    skipped.error,
                    skipped
                        .moved_to
                        .as_ref()
                        .map_or(String::new(), |to| format!(
                            "; moved it to {}",
                            to.display()
                        ))
                );
            }
            let latest = restored.path;
            if !restored.skipped.is_empty() {
                eprintln!("resuming from {} instead", latest.display());
            }
            if trainer.epochs_done() > config.epochs {
                bail!(
                    "the checkpoint {} is at epoch {}, past the {} epochs asked for",
                    latest.display(),
                    trainer.epochs_done(),
                    config.epochs
                );
            }
            (dir, Some(latest))
        }
    };
    write_json_atomic(&run_dir.join("config.json"), config)?;
    if announce {
        println!(
            "pgl train: {} ({} train / {} test), {} with K={} ({} params), schedule {}, {} epochs, backend {}",
            config.dataset,
            data.train.len(),
            data.test.len(),
            config.model,
            config.modules,
            module_params.iter().sum::<usize>(),
            schedule_spec,
            config.epochs,
            backend.name(),
        );
        println!("run folder: {}", run_dir.display());
        if let Some(from) = &resumed_from {
            println!(
                "resuming from {} ({} epochs done)",
                from.display(),
                trainer.epochs_done()
            );
        }
    }
    let mut sink = MetricsFile::create(&run_dir, sink, trainer.history())?;
    let store = CheckpointStore::new(&run_dir, config.keep_checkpoints);
    let input = checkpoint_input(&data);
    let mut save_checkpoint = |t: &Trainer<_>| {
        let done = t.epochs_done();
        if done % config.checkpoint_every == 0 || done == config.epochs {
            store.save(t, config, input)?;
        }
        Ok(())
    };
    crate::interrupt::install();
    let history = match trainer.fit_with(&data, &mut sink, &mut save_checkpoint) {
        Ok(history) => history,
        Err(error @ TrainError::Interrupted { .. }) => {
            let saved = store.save(&trainer, config, input)?;
            let resume = resume_with.map_or_else(
                || format!("pgl train --resume {}", run_dir.display()),
                str::to_string,
            );
            return Err(anyhow::Error::new(error).context(format!(
                "stopped by {}; checkpoint {} written; continue with `{resume}`",
                crate::interrupt::stopped_by(),
                saved.display(),
            )));
        }
        Err(error) => return Err(error.into()),
    };
    if let Some(error) = sink.take_error() {
        return Err(error);
    }
    let last = history.last().context("no epoch ran")?;
    let train_seconds: f64 = history.iter().map(|m| m.train_seconds).sum();
    // After a resume, wall time counts this process only; the restored epochs' training time
    // is in `train_seconds`.
    let samples_seen = data.train.len() as f64 * history.len() as f64;
    let best = best_epoch(&history).context("no epoch ran")?;
    let summary = Summary {
        test_accuracy: last.test_accuracy,
        best_test_accuracy: best.test_accuracy,
        best_epoch: best.epoch,
        test_loss: last.test_loss,
        epochs: history.len() as u64,
        steps_local: history.iter().map(|m| m.steps_local).sum(),
        steps_global: history.iter().map(|m| m.steps_global).sum(),
        module_accuracy: last.module_accuracy.clone(),
        wall_seconds: started.elapsed().as_secs_f64(),
        train_seconds,
        images_per_second: samples_seen / train_seconds.max(1e-9),
        peak_memory_bytes: PeakMemory::of(&history),
        memory_counted,
        schedule: schedule_spec,
        train_samples: data.train.len(),
        test_samples: data.test.len(),
        module_params,
        config: config.clone(),
    };
    write_json_atomic(&run_dir.join("summary.json"), &summary)?;
    Ok(RunOutcome {
        summary,
        history,
        run_dir,
    })
}

/// The epoch of `history` with the highest test accuracy (the first on ties; a NaN accuracy
/// loses to any number).
pub fn best_epoch(history: &[EpochMetrics]) -> Option<&EpochMetrics> {
    let mut best: Option<&EpochMetrics> = None;
    for m in history {
        if best.is_none_or(|b| m.test_accuracy > b.test_accuracy || b.test_accuracy.is_nan()) {
            best = Some(m);
        }
    }
    best
}
