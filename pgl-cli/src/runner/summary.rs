//! What a finished run reports: its [`Summary`] (`summary.json`) with the [`PeakMemory`] of
//! its steps, made from the run's [`RunFacts`] and history; [`best_epoch`].

use std::time::Instant;

use anyhow::{Context, Result};
use pgl_core::{EpochMetrics, RunConfig};
use serde::{Deserialize, Serialize};

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

/// What a run's summary says besides its history, gathered before it trains.
pub(super) struct RunFacts {
    /// When the run started (data loading and model building included).
    pub(super) started: Instant,
    /// Parameters of every module with its head.
    pub(super) module_params: Vec<usize>,
    /// Canonical spec of the schedule.
    pub(super) schedule: String,
    /// What the memory figures count.
    pub(super) memory_counted: String,
    /// Training samples.
    pub(super) train_samples: usize,
    /// Test samples.
    pub(super) test_samples: usize,
}

impl RunFacts {
    /// The summary of the run that trained `history` with `config`.
    pub(super) fn summary(self, history: &[EpochMetrics], config: &RunConfig) -> Result<Summary> {
        let last = history.last().context("no epoch ran")?;
        let train_seconds: f64 = history.iter().map(|m| m.train_seconds).sum();
        // After a resume, wall time counts this process only; the restored epochs' training
        // time is in `train_seconds`.
        let samples_seen = self.train_samples as f64 * history.len() as f64;
        let best = best_epoch(history).context("no epoch ran")?;
        Ok(Summary {
            test_accuracy: last.test_accuracy,
            best_test_accuracy: best.test_accuracy,
            best_epoch: best.epoch,
            test_loss: last.test_loss,
            epochs: history.len() as u64,
            steps_local: history.iter().map(|m| m.steps_local).sum(),
            steps_global: history.iter().map(|m| m.steps_global).sum(),
            module_accuracy: last.module_accuracy.clone(),
            wall_seconds: self.started.elapsed().as_secs_f64(),
            train_seconds,
            images_per_second: samples_seen / train_seconds.max(1e-9),
            peak_memory_bytes: PeakMemory::of(history),
            memory_counted: self.memory_counted,
            schedule: self.schedule,
            train_samples: self.train_samples,
            test_samples: self.test_samples,
            module_params: self.module_params,
            config: config.clone(),
        })
    }
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
