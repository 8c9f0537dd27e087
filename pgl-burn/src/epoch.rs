//! Epoch bookkeeping: [`EpochPosition`] sums what the steps of an epoch did (and is saved in
//! mid-epoch checkpoints), and turns into the epoch's [`EpochMetrics`] once the epoch is
//! evaluated.

use pgl_core::{EpochMetrics, StepKind};
use serde::{Deserialize, Serialize};

use crate::eval::Evaluation;

/// Running totals of an epoch, so that an epoch interrupted in the middle can be finished
/// with exactly the metrics it would have had.
///
/// Losses are summed weighted by the number of samples of each batch, so a short last batch
/// counts for what it holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochPosition {
    /// Batches of the epoch completed.
    pub batches_done: u64,
    /// Training samples of the completed batches.
    #[serde(default)]
    pub samples_done: u64,
    /// Local steps taken.
    pub steps_local: u64,
    /// Global steps taken.
    pub steps_global: u64,
    /// Sum over batches of the classifier's mean loss times the batch's samples.
    #[serde(with = "pgl_core::json_float")]
    pub loss_sum: f64,
    /// Per module: sum of its head's mean loss times the batch's samples, and the samples
    /// counted (a global step without aux losses counts none for the aux heads). Always
    /// finite: a step with a non-finite loss stops training before it is recorded.
    pub module_sums: Vec<(f64, u64)>,
    /// Highest transient memory of a local step so far.
    pub peak_local: Option<u64>,
    /// Highest transient memory of a global step so far.
    pub peak_global: Option<u64>,
    /// Training seconds so far.
    #[serde(with = "pgl_core::json_float")]
    pub train_seconds: f64,
    /// Seconds waited for data so far.
    #[serde(with = "pgl_core::json_float")]
    pub data_wait_seconds: f64,
}

impl EpochPosition {
    /// The start of an epoch of a network with `modules` modules.
    pub fn new(modules: usize) -> Self {
        Self {
            module_sums: vec![(0.0, 0); modules],
            ..Self::default()
        }
    }

    /// Records a finished step of `kind` on a batch of `samples` samples.
    pub fn record(
        &mut self,
        kind: StepKind,
        samples: usize,
        loss: f32,
        module_losses: &[Option<f32>],
    ) {
        match kind {
            StepKind::Local => self.steps_local += 1,
            StepKind::Global => self.steps_global += 1,
        }
        let weight = samples as f64;
        self.loss_sum += f64::from(loss) * weight;
        for (sum, value) in self.module_sums.iter_mut().zip(module_losses) {
            if let Some(v) = value {
                sum.0 += f64::from(*v) * weight;
                sum.1 += samples as u64;
            }
        }
        self.batches_done += 1;
        self.samples_done += samples as u64;
    }

    /// Records the transient memory of a step of `kind`.
    pub fn record_peak(&mut self, kind: StepKind, peak: u64) {
        let slot = match kind {
            StepKind::Local => &mut self.peak_local,
            StepKind::Global => &mut self.peak_global,
        };
        *slot = Some(slot.map_or(peak, |p| p.max(peak)));
    }

    /// The metrics of epoch `epoch` (1-based) once it has been evaluated; `train_samples` is
    /// the size of the training set.
    pub fn into_metrics(
        self,
        epoch: u64,
        evaluation: Evaluation,
        eval_seconds: f64,
        train_samples: usize,
    ) -> EpochMetrics {
        EpochMetrics {
            epoch,
            steps_local: self.steps_local,
            steps_global: self.steps_global,
            train_loss: self.loss_sum / self.samples_done.max(1) as f64,
            module_train_loss: self
                .module_sums
                .iter()
                .map(|(sum, n)| (*n > 0).then(|| sum / *n as f64))
                .collect(),
            test_loss: evaluation.loss,
            test_accuracy: evaluation.accuracy,
            module_accuracy: evaluation.module_accuracy,
            train_seconds: self.train_seconds,
            data_wait_seconds: self.data_wait_seconds,
            peak_memory_bytes_local: self.peak_local,
            peak_memory_bytes_global: self.peak_global,
            eval_seconds,
            images_per_second: train_samples as f64 / self.train_seconds.max(1e-9),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evaluation() -> Evaluation {
        Evaluation {
            loss: 0.5,
            accuracy: 0.9,
            module_accuracy: vec![0.8, 0.9],
            samples: 9,
        }
    }

    #[test]
    fn the_train_loss_weights_every_batch_by_its_samples() {
        let mut position = EpochPosition::new(2);
        // Two full batches of 4 with loss 1.0 and a last batch of 1 sample with loss 4.0:
        // per sample that is (8 * 1 + 4) / 9, not the mean of the batch means (2.0).
        position.record(StepKind::Local, 4, 1.0, &[Some(2.0), Some(1.0)]);
        position.record(StepKind::Local, 4, 1.0, &[Some(2.0), Some(1.0)]);
        position.record(StepKind::Global, 1, 4.0, &[None, Some(4.0)]);
        let metrics = position.into_metrics(1, evaluation(), 0.0, 9);
        assert!((metrics.train_loss - 12.0 / 9.0).abs() < 1e-12);
        assert_eq!(metrics.module_train_loss[0], Some(2.0));
        let last = metrics.module_train_loss[1].unwrap();
        assert!((last - 12.0 / 9.0).abs() < 1e-12);
        assert_eq!((metrics.steps_local, metrics.steps_global), (2, 1));
    }

    #[test]
    fn peaks_are_kept_per_step_kind() {
        let mut position = EpochPosition::new(1);
        position.record_peak(StepKind::Local, 10);
        position.record_peak(StepKind::Local, 7);
        position.record_peak(StepKind::Global, 30);
        assert_eq!(position.peak_local, Some(10));
        assert_eq!(position.peak_global, Some(30));
    }
}
