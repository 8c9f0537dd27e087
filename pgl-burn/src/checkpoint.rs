//! Checkpoints: everything needed to continue a run exactly, written atomically.
//!
//! A checkpoint is a folder `checkpoints/epoch-NNNN/` in the run folder holding
//!
//! - `model.bpk`: the weights and BatchNorm statistics (Burn's burnpack record),
//! - `objective.bpk`: the local objective's extra heads (InfoPro's decoders, projection heads),
//!   only when the objective has some; their optimizer state is in their module's
//!   `optimizer-K.bpk`,
//! - `replay.bpk`: with `--global-replay`, the gradients the latest global step left for the
//!   local steps to replay (see [`crate::replay`]), shaped like the model; absent before the
//!   first global step,
//! - `optimizer-K.bpk`: the state of module K's optimizer (Burn's optimizer record),
//! - `manifest.json`: the format version, the resolved run configuration and the
//!   [`TrainerProgress`] (epoch and iteration counters, the schedule's state, the loss history
//!   and the metrics so far). Data order needs no state: it is a function of seed and epoch.
//!
//! It is written into `checkpoints/.partial-epoch-NNNN/`, every file is flushed to disk
//! (`fsync`), and only then is the folder renamed to its final name (an atomic operation), so
//! a process killed at any moment leaves either a complete checkpoint or none; leftovers of
//! partial writes are ignored and cleaned up. The newest `keep` checkpoints are kept.
//! Loading refuses unreadable files and impossible weights, naming them; [`restore_newest`]
//! resumes from the newest checkpoint that loads.

mod extras;
mod recover;
mod write;

use extras::{load_objective_heads, load_replay};

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::RecordError;
use pgl_core::RunConfig;
use serde::{Deserialize, Serialize};

use crate::error::TrainError;
use crate::inspect::{broken_tensors, describe_broken};
use crate::model::DecoupledModel;
use crate::progress::{TrainerProgress, TrainerState};
use crate::trainer::Trainer;

pub use recover::{DAMAGED_PREFIX, Restored, Skipped, restore_newest};

/// Version of the checkpoint layout; bumped when it changes incompatibly.
pub const CHECKPOINT_FORMAT: u32 = 1;
/// Name of the manifest file.
pub const MANIFEST: &str = "manifest.json";
const MODEL_FILE: &str = "model.bpk";
const OBJECTIVE_FILE: &str = "objective.bpk";
const REPLAY_FILE: &str = "replay.bpk";
const PARTIAL_PREFIX: &str = ".partial-";
/// Test hook (cargo feature `test-hooks`, which only pgl-cli's tests enable): milliseconds to
/// pause after each checkpoint file, to widen the window in which a kill lands during a write.
/// Builds without the feature never read it.
#[cfg(feature = "test-hooks")]
pub const PAUSE_ENV: &str = "PGL_CHECKPOINT_PAUSE_MS";

/// What `manifest.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// [`CHECKPOINT_FORMAT`] of the writer.
    pub format: u32,
    /// pgl version of the writer.
    pub pgl_version: String,
    /// Number of modules (one optimizer file each).
    pub modules: usize,
    /// What the model takes: `[channels, height, width, classes]` of the training data.
    pub input: [usize; 4],
    /// The run's configuration.
    pub config: RunConfig,
    /// Counters, schedule state and metrics.
    pub progress: TrainerProgress,
}

fn error(path: &Path, reason: impl std::fmt::Display) -> TrainError {
    TrainError::Checkpoint {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn optimizer_file(k: usize) -> String {
    format!("optimizer-{k}.bpk")
}

/// The checkpoints of one run: `<run folder>/checkpoints/`.
#[derive(Debug, Clone)]
pub struct CheckpointStore {
    root: PathBuf,
    keep: usize,
}

impl CheckpointStore {
    /// The store of the run in `run_dir`, keeping the newest `keep` (at least 1) checkpoints.
    pub fn new(run_dir: &Path, keep: usize) -> Self {
        Self {
            root: run_dir.join("checkpoints"),
            keep: keep.max(1),
        }
    }

    /// The folder holding the checkpoints.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Complete checkpoints, oldest first, as `(epochs done, folder)`. A checkpoint written in
    /// the middle of an epoch (after Ctrl-C) is `epoch-NNNN-batch-BBBBB` and sorts after
    /// `epoch-NNNN`.
    pub fn list(&self) -> Result<Vec<(u64, PathBuf)>, TrainError> {
        Ok(self
            .list_positions()?
            .into_iter()
            .map(|((epoch, _), path)| (epoch, path))
            .collect())
    }

    fn list_positions(&self) -> Result<Vec<(Position, PathBuf)>, TrainError> {
        if !self.root.exists() {
            return Ok(Vec::new());
        }
        let entries =
            fs::read_dir(&self.root).map_err(|e| error(&self.root, format!("cannot list: {e}")))?;
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| error(&self.root, format!("cannot list: {e}")))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(position) = parse_name(&name)
                && entry.path().join(MANIFEST).is_file()
            {
                found.push((position, entry.path()));
            }
        }
        found.sort();
        Ok(found)
    }

    /// The newest complete checkpoint, if any.
    pub fn latest(&self) -> Result<Option<PathBuf>, TrainError> {
        Ok(self.list_positions()?.pop().map(|(_, path)| path))
    }
}

/// `(epochs done, batches into the next epoch)`.
type Position = (u64, u64);

/// The position of a checkpoint folder name.
fn parse_name(name: &str) -> Option<Position> {
    let rest = name.strip_prefix("epoch-")?;
    match rest.split_once("-batch-") {
        Some((epoch, batch)) => Some((epoch.parse().ok()?, batch.parse().ok()?)),
        None => Some((rest.parse().ok()?, 0)),
    }
}

/// Reads and checks a checkpoint's manifest; `path` is the checkpoint folder (or its manifest).
pub fn read_manifest(path: &Path) -> Result<Manifest, TrainError> {
    let file = if path.is_dir() {
        path.join(MANIFEST)
    } else {
        path.to_path_buf()
    };
    let text = fs::read_to_string(&file).map_err(|e| error(&file, format!("cannot read: {e}")))?;
    let mut manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| error(&file, format!("not a pgl checkpoint manifest: {e}")))?;
    manifest.config.fill_recorded_aux_head();
    if manifest.format != CHECKPOINT_FORMAT {
        return Err(error(
            &file,
            format!(
                "checkpoint format {} is not supported (this pgl reads format {CHECKPOINT_FORMAT})",
                manifest.format
            ),
        ));
    }
    Ok(manifest)
}

/// The error of a record file at `path` that Burn could not load: a file it cannot read is
/// damaged (truncated, overwritten); one it reads whose tensors do not fit is another model's.
fn record_error(path: &Path, e: RecordError) -> TrainError {
    let reason = match e {
        RecordError::Io(e) => format!("damaged or truncated, it cannot be read ({e})"),
        RecordError::Validation(e) => format!("does not fit this model ({e})"),
    };
    error(path, reason)
}

/// Loads the record file `path` into `module`, then refuses values no trained module has
/// ([`broken_tensors`]: NaN, infinities, negative BatchNorm variances), naming the tensors.
fn load_checked<M: Module>(path: &Path, module: M) -> Result<M, TrainError> {
    let module = module
        .try_load_file(path)
        .map_err(|e| record_error(path, e))?;
    check_intact(path, module)
}

/// `module` (read from `path`) when it holds no value a trained module cannot have; otherwise
/// an error naming the broken tensors.
fn check_intact<M: Module>(path: &Path, module: M) -> Result<M, TrainError> {
    let broken = broken_tensors(&module);
    if !broken.is_empty() {
        return Err(error(
            path,
            format!(
                "holds values no trained model has, so it is damaged: {}",
                describe_broken(&broken)
            ),
        ));
    }
    Ok(module)
}

/// Loads the weights of the checkpoint in folder `dir` into `model` (same architecture). A
/// file that cannot be read, or holds a NaN, an infinity or a negative BatchNorm variance, is
/// an error naming the file (and the tensor).
pub fn load_model<M: Module>(dir: &Path, model: M) -> Result<M, TrainError> {
    let path = dir.join(MODEL_FILE);
    if !path.is_file() {
        return Err(error(&path, "missing model file"));
    }
    load_checked(&path, model)
}

/// The checkpoint folder `path` names: `path` itself when it holds a manifest, otherwise the
/// newest complete checkpoint of the run folder `path`.
pub fn resolve(path: &Path) -> Result<PathBuf, TrainError> {
    if path.join(MANIFEST).is_file() {
        return Ok(path.to_path_buf());
    }
    if path.join("checkpoints").is_dir() {
        return CheckpointStore::new(path, usize::MAX)
            .latest()?
            .ok_or_else(|| error(path, "the run folder holds no complete checkpoint"));
    }
    Err(error(
        path,
        format!(
            "neither a checkpoint folder (with {MANIFEST}) nor a run folder (with checkpoints/)"
        ),
    ))
}

/// The optimizer states saved in checkpoint folder `dir`, loaded into copies of `fresh`.
fn load_optimizers(
    dir: &Path,
    manifest: &Manifest,
    fresh: &[ModuleOptimizer],
) -> Result<Vec<ModuleOptimizer>, TrainError> {
    if manifest.modules != fresh.len() {
        return Err(error(
            dir,
            format!(
                "it holds {} optimizer states but this run has {} (one per module, twice \
                 with --global-optimizer separate)",
                manifest.modules,
                fresh.len()
            ),
        ));
    }
    fresh
        .iter()
        .enumerate()
        .map(|(k, optimizer)| {
            let path = dir.join(optimizer_file(k));
            if !path.is_file() {
                return Err(error(&path, "missing optimizer file"));
            }
            optimizer
                .clone()
                .load(&path)
                .map_err(|e| record_error(&path, e))
        })
        .collect()
}

/// Restores `trainer` (built from the same configuration) from the checkpoint in folder `dir`:
/// weights, every optimizer's state, counters, schedule state and metrics.
pub fn restore<M: DecoupledModel>(
    dir: &Path,
    trainer: &mut Trainer<M>,
) -> Result<Manifest, TrainError> {
    let manifest = read_manifest(dir)?;
    let optimizers = load_optimizers(dir, &manifest, trainer.optimizers())?;
    let model = load_model(dir, trainer.model().clone())?;
    let objective_heads = if trainer.objective_heads().is_empty() {
        None
    } else {
        Some(load_objective_heads(
            dir,
            trainer.objective_heads().clone(),
        )?)
    };
    let state = TrainerState {
        model,
        optimizers,
        objective_heads,
        progress: manifest.progress.clone(),
    };
    trainer
        .restore(state)
        .map_err(|e| error(&dir.join(MANIFEST), e))?;
    let replay = load_replay(dir, trainer.model())?;
    trainer.restore_replay(replay);
    Ok(manifest)
}

/// Starts a *new* run in `trainer` from the weights of the checkpoint in folder `dir`
/// (`pgl train --init-from`): counters and metrics start at zero; optimizer states and the
/// schedule's state are fresh, or, with `keep_optimizer`, the checkpoint's (the schedule must
/// then be the checkpoint's). A model of another shape is an error naming the parameter.
/// A `dir` ending in `.safetensors` is a weights file instead
/// ([`export::init_from_file`](crate::export::init_from_file)): fresh optimizer and schedule
/// state, `keep_optimizer` is an error, and there is no manifest (`None`).
pub fn init_from<M: DecoupledModel>(
    dir: &Path,
    trainer: &mut Trainer<M>,
    keep_optimizer: bool,
) -> Result<Option<Manifest>, TrainError> {
    if crate::export::is_safetensors(dir) {
        crate::export::init_from_file(dir, trainer, keep_optimizer)?;
        return Ok(None);
    }
    let manifest = read_manifest(dir)?;
    let model = load_model(dir, trainer.model().clone())?;
    let (optimizers, progress) = if keep_optimizer {
        // Burn loads another optimizer's record without a word and starts every state fresh.
        let (saved, ours) = (
            manifest.config.optimizer.kind,
            trainer.settings().optimizer.kind,
        );
        if saved != ours {
            return Err(error(
                dir,
                format!(
                    "keep_optimizer: its optimizer states are {}'s, this run's optimizer is {}; \
                     states do not carry over between optimizers: train with {} or start with \
                     fresh optimizer states",
                    saved.as_str(),
                    ours.as_str(),
                    saved.as_str()
                ),
            ));
        }
        let optimizers = load_optimizers(dir, &manifest, trainer.optimizers())?;
        let progress = TrainerProgress {
            epochs_done: 0,
            iteration: 0,
            recent_losses: Vec::new(),
            history: Vec::new(),
            epoch_position: None,
            ..manifest.progress.clone()
        };
        (optimizers, progress)
    } else {
        (trainer.optimizers().to_vec(), trainer.progress())
    };
    let state = TrainerState {
        model,
        optimizers,
        objective_heads: None,
        progress,
    };
    trainer
        .restore(state)
        .map_err(|e| error(&dir.join(MANIFEST), e))?;
    Ok(Some(manifest))
}
