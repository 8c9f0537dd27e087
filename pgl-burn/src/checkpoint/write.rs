//! Writing a checkpoint: the files into a partial folder, each flushed to disk, then one
//! atomic rename; pruning old checkpoints and leftovers of interrupted writes.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use burn::module::Module;
use pgl_core::RunConfig;

#[cfg(feature = "test-hooks")]
use super::PAUSE_ENV;
use super::{
    CHECKPOINT_FORMAT, CheckpointStore, MANIFEST, MODEL_FILE, Manifest, OBJECTIVE_FILE,
    PARTIAL_PREFIX, REPLAY_FILE, error, optimizer_file,
};
use crate::error::TrainError;
use crate::model::DecoupledModel;
use crate::trainer::Trainer;

impl CheckpointStore {
    /// Writes a checkpoint of `trainer` (atomically) and prunes old ones; returns its folder.
    /// A checkpoint of the same epoch that already exists is left as it is (it holds the same
    /// state).
    pub fn save<M: DecoupledModel>(
        &self,
        trainer: &Trainer<M>,
        config: &RunConfig,
        input: [usize; 4],
    ) -> Result<PathBuf, TrainError> {
        let progress = trainer.progress();
        let name = match &progress.epoch_position {
            Some(p) => format!(
                "epoch-{:04}-batch-{:05}",
                progress.epochs_done, p.batches_done
            ),
            None => format!("epoch-{:04}", progress.epochs_done),
        };
        let target = self.root.join(&name);
        if target.join(MANIFEST).is_file() {
            return Ok(target);
        }
        fs::create_dir_all(&self.root)
            .map_err(|e| error(&self.root, format!("cannot create: {e}")))?;
        let partial = self.root.join(format!("{PARTIAL_PREFIX}{name}"));
        if partial.exists() {
            fs::remove_dir_all(&partial).map_err(|e| {
                error(
                    &partial,
                    format!("cannot remove stale partial checkpoint: {e}"),
                )
            })?;
        }
        fs::create_dir_all(&partial).map_err(|e| error(&partial, format!("cannot create: {e}")))?;

        write_state(&partial, trainer)?;
        let manifest = Manifest {
            format: CHECKPOINT_FORMAT,
            pgl_version: env!("CARGO_PKG_VERSION").to_string(),
            modules: trainer.optimizers().len(),
            input,
            config: config.clone(),
            progress,
        };
        let manifest_path = partial.join(MANIFEST);
        let text = serde_json::to_string_pretty(&manifest).map_err(|e| error(&manifest_path, e))?;
        fs::write(&manifest_path, text)
            .map_err(|e| error(&manifest_path, format!("cannot write: {e}")))?;
        sync_file(&manifest_path)?;
        sync_dir(&partial)?;
        pause_for_tests();
        fs::rename(&partial, &target).map_err(|e| {
            error(
                &target,
                format!("cannot move the finished checkpoint into place: {e}"),
            )
        })?;
        sync_dir(&self.root)?;
        self.prune()?;
        Ok(target)
    }

    /// Removes all but the newest `keep` checkpoints and any partial write left behind.
    fn prune(&self) -> Result<(), TrainError> {
        let complete = self.list_positions()?;
        let excess = complete.len().saturating_sub(self.keep);
        for (_, path) in complete.into_iter().take(excess) {
            fs::remove_dir_all(&path)
                .map_err(|e| error(&path, format!("cannot remove old checkpoint: {e}")))?;
        }
        if let Ok(entries) = fs::read_dir(&self.root) {
            for entry in entries.flatten() {
                if entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(PARTIAL_PREFIX)
                {
                    let _ = fs::remove_dir_all(entry.path());
                }
            }
        }
        Ok(())
    }
}

/// Writes `trainer`'s weights, objective heads, replayed gradients and optimizer states into
/// the folder `partial`, each file flushed to disk.
fn write_state<M: DecoupledModel>(partial: &Path, trainer: &Trainer<M>) -> Result<(), TrainError> {
    // Burn applies BatchNorm running-statistic updates lazily; building the evaluation
    // copy flushes them, so the saved statistics are the current ones.
    let _ = trainer.model().valid();
    let model_path = partial.join(MODEL_FILE);
    trainer
        .model()
        .clone()
        .save_file(&model_path)
        .map_err(|e| error(&model_path, e))?;
    sync_file(&model_path)?;
    pause_for_tests();
    if !trainer.objective_heads().is_empty() {
        let _ = trainer.objective_heads().valid(); // settles BatchNorm statistics
        let path = partial.join(OBJECTIVE_FILE);
        let heads = trainer.objective_heads().clone();
        heads.save_file(&path).map_err(|e| error(&path, e))?;
        sync_file(&path)?;
    }
    if let Some(replay) = trainer.replay() {
        let path = partial.join(REPLAY_FILE);
        let values = replay.values().clone();
        values.save_file(&path).map_err(|e| error(&path, e))?;
        sync_file(&path)?;
    }
    for (k, optimizer) in trainer.optimizers().iter().enumerate() {
        let path = partial.join(optimizer_file(k));
        optimizer.save(&path).map_err(|e| error(&path, e))?;
        sync_file(&path)?;
        pause_for_tests();
    }
    Ok(())
}

fn sync_file(path: &Path) -> Result<(), TrainError> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| error(path, format!("cannot flush to disk: {e}")))
}

fn sync_dir(path: &Path) -> Result<(), TrainError> {
    // Flushing a directory makes the names it holds (after a rename) durable.
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| error(path, format!("cannot flush folder to disk: {e}")))
}

#[cfg(feature = "test-hooks")]
fn pause_for_tests() {
    if let Some(ms) = std::env::var(PAUSE_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

#[cfg(not(feature = "test-hooks"))]
fn pause_for_tests() {}
