//! Training events and metrics, and the [`EventSink`] the trainer reports them to.
//!
//! The trainer never prints: it emits [`TrainEvent`]s, and the CLI's sink draws the progress
//! bar and the epoch table and writes `metrics.jsonl`. Tests use a sink that records events.

use serde::{Deserialize, Serialize};

use crate::step::StepKind;

/// What one epoch did and how well the network does after it.
///
/// Every float is written with [`crate::json_float`]: finite values as JSON numbers, a NaN or
/// infinite loss as the string `"NaN"` / `"inf"` / `"-inf"`, so `metrics.jsonl` and checkpoint
/// manifests always read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// Epoch number, starting at 1.
    pub epoch: u64,
    /// Local steps taken in this epoch.
    pub steps_local: u64,
    /// Global steps taken in this epoch.
    pub steps_global: u64,
    /// Mean training loss of the network's classifier over the epoch's steps.
    #[serde(with = "crate::json_float")]
    pub train_loss: f64,
    /// Mean training loss of each module's head (aux heads, then the classifier), over the
    /// steps that computed it (`null` when none did: aux heads are not evaluated by global
    /// steps unless their losses are part of the global loss).
    #[serde(with = "crate::json_float::vec_option")]
    pub module_train_loss: Vec<Option<f64>>,
    /// Test loss of the network (classifier after the last module).
    #[serde(with = "crate::json_float")]
    pub test_loss: f64,
    /// Test accuracy of the network, in 0..=1.
    #[serde(with = "crate::json_float")]
    pub test_accuracy: f64,
    /// Test accuracy of each module's head (the last entry is the network's), in 0..=1.
    #[serde(with = "crate::json_float::vec")]
    pub module_accuracy: Vec<f64>,
    /// Wall-clock seconds of the epoch's training steps.
    #[serde(with = "crate::json_float")]
    pub train_seconds: f64,
    /// Part of `train_seconds` the trainer spent waiting for the data loader (near 0 when
    /// loading keeps up with training).
    #[serde(with = "crate::json_float")]
    pub data_wait_seconds: f64,
    /// Highest extra memory of a local step in this epoch, in bytes (`None` when no local step
    /// ran or memory is not measured); see `pgl_burn::memory` for what is counted.
    pub peak_memory_bytes_local: Option<u64>,
    /// Highest extra memory of a global step in this epoch, in bytes.
    pub peak_memory_bytes_global: Option<u64>,
    /// Wall-clock seconds of the evaluation after the epoch.
    #[serde(with = "crate::json_float")]
    pub eval_seconds: f64,
    /// Training throughput, images per second.
    #[serde(with = "crate::json_float")]
    pub images_per_second: f64,
}

/// Something the trainer reports.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainEvent {
    /// Training begins.
    RunStarted {
        /// Number of epochs that will run.
        epochs: u64,
        /// Iterations (mini-batches) per epoch.
        iterations_per_epoch: u64,
    },
    /// One training step finished.
    StepFinished {
        /// Epoch (starting at 1).
        epoch: u64,
        /// Iteration within the epoch (starting at 0).
        iteration_in_epoch: u64,
        /// Which kind of step it was.
        kind: StepKind,
        /// The classifier's training loss on this batch.
        loss: f32,
    },
    /// Evaluation after an epoch begins.
    EvaluationStarted {
        /// Epoch (starting at 1).
        epoch: u64,
    },
    /// One epoch (training and evaluation) finished.
    EpochFinished(EpochMetrics),
}

/// Receives the trainer's events.
pub trait EventSink {
    /// Called for every event, in order.
    fn on_event(&mut self, event: &TrainEvent);
}

/// A sink that ignores every event.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullSink;

impl EventSink for NullSink {
    fn on_event(&mut self, _event: &TrainEvent) {}
}

impl<F: FnMut(&TrainEvent)> EventSink for F {
    fn on_event(&mut self, event: &TrainEvent) {
        self(event)
    }
}
