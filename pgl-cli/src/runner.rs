//! One training run from a [`RunConfig`] to a finished run folder: shared by `train` and
//! `compare`.

mod summary;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use pgl_burn::checkpoint::{self, CheckpointStore};
use pgl_burn::memory::MemoryProbe;
use pgl_burn::{BackendKind, DecoupledModel, TrainError, TrainSettings, Trainer};
use pgl_core::{EpochMetrics, EventSink, GuidanceSchedule, RunConfig};
use pgl_models::DecoupledNet;

use crate::output::{MetricsFile, write_json_atomic};
use crate::plugins::plugins;
use crate::setup::{RunSetup, checkpoint_input, image_shape};
use summary::RunFacts;
pub use summary::Summary;

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
    let (probe, memory_counted) = memory_probe(backend);
    let facts = RunFacts {
        started,
        module_params: (0..model.num_modules())
            .map(|k| model.module_num_params(k))
            .collect(),
        schedule: schedule.spec(),
        memory_counted,
        train_samples: data.train.len(),
        test_samples: data.test.len(),
    };
    let settings =
        TrainSettings::from_config_with(config, &plugins().lr_schedules, &plugins().objectives)?
            .with_augment(augment)
            .with_memory_probe(probe)
            .with_input_shape(image_shape(&data))
            .with_input_normalization(data.train.mean.clone(), data.train.std.clone());
    let mut trainer = Trainer::new(model, schedule, settings, &device)?;
    let (run_dir, resumed_from) = open_run_dir(target, config, &mut trainer)?;
    write_json_atomic(&run_dir.join("config.json"), config)?;
    if announce {
        print_announcement(
            config,
            &facts,
            backend,
            &run_dir,
            resumed_from.as_deref(),
            &trainer,
        );
    }
    let mut sink = MetricsFile::create(&run_dir, sink, trainer.history())?;
    let store = CheckpointStore::new(&run_dir, config.runtime.keep_checkpoints);
    let input = checkpoint_input(&data);
    let mut save_checkpoint = |t: &Trainer<_>| {
        let done = t.epochs_done();
        if done % config.runtime.checkpoint_every == 0 || done == config.training.epochs {
            store.save(t, config, input)?;
        }
        Ok(())
    };
    crate::interrupt::install();
    let history = match trainer.fit_with(&data, &mut sink, &mut save_checkpoint) {
        Ok(history) => history,
        Err(error @ TrainError::Interrupted { .. }) => {
            let saved = store.save(&trainer, config, input)?;
            return Err(stopped(error, &saved, &run_dir, resume_with));
        }
        Err(error) => return Err(error.into()),
    };
    if let Some(error) = sink.take_error() {
        return Err(error);
    }
    let summary = facts.summary(&history, config)?;
    write_json_atomic(&run_dir.join("summary.json"), &summary)?;
    Ok(RunOutcome {
        summary,
        history,
        run_dir,
    })
}

/// The lines `pgl train` prints before training: what runs, where, and from which checkpoint
/// it resumes (`resumed_from`, with `trainer` restored from it).
fn print_announcement(
    config: &RunConfig,
    facts: &RunFacts,
    backend: BackendKind,
    run_dir: &Path,
    resumed_from: Option<&Path>,
    trainer: &Trainer<DecoupledNet>,
) {
    println!(
        "pgl train: {} ({} train / {} test), {} with K={} ({} params), schedule {}, {} epochs, backend {}",
        config.data.dataset,
        facts.train_samples,
        facts.test_samples,
        config.model.name,
        config.model.modules,
        facts.module_params.iter().sum::<usize>(),
        facts.schedule,
        config.training.epochs,
        backend.name(),
    );
    println!("run folder: {}", run_dir.display());
    if let Some(from) = resumed_from {
        println!(
            "resuming from {} ({} epochs done)",
            from.display(),
            trainer.epochs_done()
        );
    }
}

/// The memory probe of a run on `backend`, and what its figures count. The heap counter sees
/// host tensors only; on a GPU backend it would report host bookkeeping as if it were the
/// step's memory, so no figure is better than that one.
fn memory_probe(backend: BackendKind) -> (Option<Arc<dyn MemoryProbe>>, String) {
    let probe = backend
        .entry()
        .host_memory_is_step_memory
        .then(crate::memory::probe);
    let memory_counted = probe.as_ref().map_or_else(
        || format!("not measured on the {} backend", backend.name()),
        |probe| probe.describe().to_string(),
    );
    (probe, memory_counted)
}

/// The run folder of `target` and, for a resumed run, the checkpoint it continues from: a new
/// run's folder is made (after `--init-from` loaded its weights into `trainer`), a resumed
/// one's newest complete checkpoint is restored into `trainer`.
fn open_run_dir(
    target: RunTarget<'_>,
    config: &RunConfig,
    trainer: &mut Trainer<DecoupledNet>,
) -> Result<(PathBuf, Option<PathBuf>)> {
    match target {
        RunTarget::New(make_run_dir) => {
            if let Some(source) = &config.runtime.init_from {
                checkpoint::init_from(Path::new(source), trainer, config.runtime.keep_optimizer)
                    .with_context(|| {
                        format!("--init-from {source}: the checkpoint does not fit this run")
                    })?;
            }
            Ok((make_run_dir()?, None))
        }
        RunTarget::Resume(dir) => {
            let latest = restore_run(&dir, config, trainer)?;
            Ok((dir, Some(latest)))
        }
    }
}

/// Restores `trainer` from the newest checkpoint of the run in `dir` that restores completely
/// and is of the same run (warning about each damaged one passed over); returns its folder.
fn restore_run(
    dir: &Path,
    config: &RunConfig,
    trainer: &mut Trainer<DecoupledNet>,
) -> Result<PathBuf> {
    let store = CheckpointStore::new(dir, config.runtime.keep_checkpoints);
    let restored = checkpoint::restore_newest(&store, trainer, |path, saved| {
        ensure_same_run(&saved.config, config, dir, path)
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
    if trainer.epochs_done() > config.training.epochs {
        bail!(
            "the checkpoint {} is at epoch {}, past the {} epochs asked for",
            latest.display(),
            trainer.epochs_done(),
            config.training.epochs
        );
    }
    Ok(latest)
}

/// The error of a run stopped by Ctrl-C or SIGTERM after writing the checkpoint `saved`: it
/// says how to continue (`resume_with`, or `pgl train --resume RUN_DIR`).
fn stopped(
    error: TrainError,
    saved: &Path,
    run_dir: &Path,
    resume_with: Option<&str>,
) -> anyhow::Error {
    let resume = resume_with.map_or_else(
        || format!("pgl train --resume {}", run_dir.display()),
        str::to_string,
    );
    anyhow::Error::new(error).context(format!(
        "stopped by {}; checkpoint {} written; continue with `{resume}`",
        crate::interrupt::stopped_by(),
        saved.display(),
    ))
}
