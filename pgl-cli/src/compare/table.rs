//! The comparison's numbers: one [`Row`] per run (a configuration on one seed), one
//! [`Configuration`] per configuration over its seeds (mean, sample standard deviation and
//! the gap recovered); `markdown.rs` writes the table of both.

use serde::Serialize;

use crate::runner::RunOutcome;

/// One run of the comparison: a configuration on one seed.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Canonical local objective spec (`ce`: DGL-style cross-entropy).
    pub objective: String,
    /// Canonical schedule spec.
    pub schedule: String,
    /// Number of modules K.
    pub modules: usize,
    /// Whether the run used gradient checkpointing.
    pub global_checkpointing: bool,
    /// The seed of initial weights, data order and augmentation.
    pub seed: u64,
    /// Final test accuracy of the network (after the last epoch).
    #[serde(with = "pgl_core::json_float")]
    pub test_accuracy: f64,
    /// Best test accuracy of the network (the highest after any epoch).
    #[serde(with = "pgl_core::json_float")]
    pub best_test_accuracy: f64,
    /// The epoch (1-based) of the best test accuracy.
    pub best_epoch: u64,
    /// 1 - final test accuracy.
    #[serde(with = "pgl_core::json_float")]
    pub test_error: f64,
    /// Test accuracy of every module's head (the last is the network's).
    #[serde(with = "pgl_core::json_float::vec")]
    pub module_accuracy: Vec<f64>,
    /// Test accuracy of the network after every epoch.
    #[serde(with = "pgl_core::json_float::vec")]
    pub accuracy_per_epoch: Vec<f64>,
    /// Share of the steps that were global.
    #[serde(with = "pgl_core::json_float")]
    pub global_step_share: f64,
    /// Training images per second.
    #[serde(with = "pgl_core::json_float")]
    pub images_per_second: f64,
    /// Highest transient memory of a local step, bytes.
    pub peak_memory_bytes_local: Option<u64>,
    /// Highest transient memory of a global step, bytes.
    pub peak_memory_bytes_global: Option<u64>,
    /// Seconds spent in training steps.
    #[serde(with = "pgl_core::json_float")]
    pub train_seconds: f64,
    /// The run's folder.
    pub run_dir: String,
}

impl Row {
    /// The row of a finished run.
    pub fn of(outcome: &RunOutcome) -> Self {
        let s = &outcome.summary;
        let steps = (s.steps_local + s.steps_global).max(1);
        Self {
            objective: s.config.objective.local_objective.clone(),
            schedule: s.schedule.clone(),
            modules: s.config.model.modules,
            global_checkpointing: s.config.guidance.global_checkpointing,
            seed: s.config.training.seed,
            test_accuracy: s.test_accuracy,
            best_test_accuracy: s.best_test_accuracy,
            best_epoch: s.best_epoch,
            test_error: 1.0 - s.test_accuracy,
            module_accuracy: s.module_accuracy.clone(),
            accuracy_per_epoch: outcome.history.iter().map(|m| m.test_accuracy).collect(),
            global_step_share: s.steps_global as f64 / steps as f64,
            images_per_second: s.images_per_second,
            peak_memory_bytes_local: s.peak_memory_bytes.local,
            peak_memory_bytes_global: s.peak_memory_bytes.global,
            train_seconds: s.train_seconds,
            run_dir: outcome.run_dir.display().to_string(),
        }
    }

    /// Its configuration: objective, schedule, K, checkpointing.
    fn key(&self) -> (&str, &str, usize, bool) {
        (
            &self.objective,
            &self.schedule,
            self.modules,
            self.global_checkpointing,
        )
    }
}

/// The mean and the sample standard deviation (divided by n − 1) of one figure over seeds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// The mean.
    #[serde(with = "pgl_core::json_float")]
    pub mean: f64,
    /// The sample standard deviation; `null` for fewer than two values.
    #[serde(with = "pgl_core::json_float::option")]
    pub std: Option<f64>,
}

impl Spread {
    /// The spread of `values` (mean 0 when there are none).
    pub fn of(values: &[f64]) -> Self {
        let n = values.len();
        let mean = mean(values);
        let std = (n >= 2).then(|| {
            let squares: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
            (squares / (n - 1) as f64).sqrt()
        });
        Self { mean, std }
    }

    /// The standard deviation, 0 when there is none (for error bars).
    pub fn std_or_zero(&self) -> f64 {
        self.std.unwrap_or(0.0)
    }

    /// `0.9500 ± 0.0123`, or `0.9500` without a standard deviation.
    pub(super) fn cell(&self) -> String {
        match self.std {
            Some(std) => format!("{:.4} ± {std:.4}", self.mean),
            None => format!("{:.4}", self.mean),
        }
    }
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        0.0
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// The spread of the `i`-th value of each row's list, for every `i` (a row whose list is
/// shorter counts for the indices it has).
fn spread_per_index(rows: &[&Row], list: impl Fn(&Row) -> &[f64]) -> Vec<Spread> {
    let len = rows.iter().map(|r| list(r).len()).max().unwrap_or(0);
    (0..len)
        .map(|i| {
            let values: Vec<f64> = rows
                .iter()
                .filter_map(|r| list(r).get(i).copied())
                .collect();
            Spread::of(&values)
        })
        .collect()
}

/// The mean of the rows' memory figures, in whole bytes; `None` when no row has one.
fn mean_memory(rows: &[&Row], bytes: impl Fn(&Row) -> Option<u64>) -> Option<u64> {
    let values: Vec<f64> = rows
        .iter()
        .filter_map(|r| bytes(r))
        .map(|b| b as f64)
        .collect();
    (!values.is_empty()).then(|| mean(&values).round() as u64)
}

/// One configuration (schedule × K × checkpointing) over every seed of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Configuration {
    /// Canonical local objective spec.
    pub objective: String,
    /// Canonical schedule spec.
    pub schedule: String,
    /// Number of modules K.
    pub modules: usize,
    /// Whether the runs used gradient checkpointing.
    pub global_checkpointing: bool,
    /// The seeds it ran on, in run order.
    pub seeds: Vec<u64>,
    /// The number of seeds.
    pub n: usize,
    /// Final test accuracy of the network over the seeds.
    pub test_accuracy: Spread,
    /// Best test accuracy of the network (the highest after any epoch) over the seeds.
    pub best_test_accuracy: Spread,
    /// Test error (1 - final accuracy) over the seeds.
    pub test_error: Spread,
    /// (accuracy − local-only) / (end-to-end − local-only) from the mean final accuracies of
    /// the same objective, K and checkpointing; `null` when the comparison lacks one of the two or
    /// their means are equal.
    #[serde(with = "pgl_core::json_float::option")]
    pub gap_recovered: Option<f64>,
    /// Test accuracy of every module's head over the seeds (the last is the network's).
    pub module_accuracy: Vec<Spread>,
    /// Test accuracy of the network after every epoch, over the seeds.
    pub accuracy_per_epoch: Vec<Spread>,
    /// Mean share of the steps that were global.
    #[serde(with = "pgl_core::json_float")]
    pub global_step_share: f64,
    /// Mean training images per second.
    #[serde(with = "pgl_core::json_float")]
    pub images_per_second: f64,
    /// Mean of the runs' highest transient memory of a local step, bytes.
    pub peak_memory_bytes_local: Option<u64>,
    /// Mean of the runs' highest transient memory of a global step, bytes.
    pub peak_memory_bytes_global: Option<u64>,
    /// Mean seconds spent in training steps.
    #[serde(with = "pgl_core::json_float")]
    pub train_seconds: f64,
}

impl Configuration {
    /// The configuration of `rows` (runs of one configuration, at least one), without its gap
    /// recovered.
    fn of(rows: &[&Row]) -> Self {
        let first = rows[0];
        let spread =
            |f: fn(&Row) -> f64| Spread::of(&rows.iter().map(|r| f(r)).collect::<Vec<_>>());
        let mean_of = |f: fn(&Row) -> f64| spread(f).mean;
        Self {
            objective: first.objective.clone(),
            schedule: first.schedule.clone(),
            modules: first.modules,
            global_checkpointing: first.global_checkpointing,
            seeds: rows.iter().map(|r| r.seed).collect(),
            n: rows.len(),
            test_accuracy: spread(|r| r.test_accuracy),
            best_test_accuracy: spread(|r| r.best_test_accuracy),
            test_error: spread(|r| r.test_error),
            gap_recovered: None,
            module_accuracy: spread_per_index(rows, |r| &r.module_accuracy),
            accuracy_per_epoch: spread_per_index(rows, |r| &r.accuracy_per_epoch),
            global_step_share: mean_of(|r| r.global_step_share),
            images_per_second: mean_of(|r| r.images_per_second),
            peak_memory_bytes_local: mean_memory(rows, |r| r.peak_memory_bytes_local),
            peak_memory_bytes_global: mean_memory(rows, |r| r.peak_memory_bytes_global),
            train_seconds: mean_of(|r| r.train_seconds),
        }
    }

    /// Objective, schedule, K, checkpointing.
    fn key(&self) -> (&str, &str, usize, bool) {
        (
            &self.objective,
            &self.schedule,
            self.modules,
            self.global_checkpointing,
        )
    }

    /// Its name in plot legends: the schedule (after the objective unless it is the default,
    /// [`is_default_objective`](pgl_core::objective::is_default_objective)), then K and `ckpt`
    /// where asked for.
    pub fn label(&self, with_k: bool, with_ckpt: bool) -> String {
        let mut label = if pgl_core::objective::is_default_objective(&self.objective) {
            self.schedule.clone()
        } else {
            format!("{} {}", self.objective, self.schedule)
        };
        if with_k {
            label = format!("{label}, K={}", self.modules);
        }
        if with_ckpt && self.global_checkpointing {
            label.push_str(", ckpt");
        }
        label
    }
}

/// The canonical specs of the two schedules the gap recovered is measured between.
#[derive(Debug, Clone)]
pub struct GapReference {
    /// Local learning only (a gap recovered of 0).
    pub local_only: String,
    /// End-to-end backpropagation (a gap recovered of 1).
    pub end_to_end: String,
}

/// Accuracy gaps smaller than this count as no gap.
const NO_GAP: f64 = 1e-9;

/// (accuracy − local) / (end_to_end − local): the share of the accuracy gap between local
/// learning and end-to-end training that `accuracy` closes; `None` when the gap is ~0.
pub fn gap_recovered(accuracy: f64, local: f64, end_to_end: f64) -> Option<f64> {
    let gap = end_to_end - local;
    // `+ 0.0` turns the -0 of `0 / negative gap` into 0.
    (gap.abs() > NO_GAP).then(|| (accuracy - local) / gap + 0.0)
}

/// Groups `rows` into configurations (in the order they first appear) and fills in each one's
/// gap recovered from the mean accuracies of `reference`'s rows of the same objective, K and
/// checkpointing.
pub fn aggregate(rows: &[Row], reference: &GapReference) -> Vec<Configuration> {
    let mut configurations: Vec<Configuration> = Vec::new();
    for row in rows {
        if configurations.iter().any(|c| c.key() == row.key()) {
            continue;
        }
        let group: Vec<&Row> = rows.iter().filter(|r| r.key() == row.key()).collect();
        configurations.push(Configuration::of(&group));
    }
    let mean_accuracy = |schedule: &str, c: &Configuration| {
        configurations
            .iter()
            .find(|r| r.key() == (&c.objective, schedule, c.modules, c.global_checkpointing))
            .map(|r| r.test_accuracy.mean)
    };
    let gaps: Vec<Option<f64>> = configurations
        .iter()
        .map(|c| {
            let local = mean_accuracy(&reference.local_only, c)?;
            let end_to_end = mean_accuracy(&reference.end_to_end, c)?;
            gap_recovered(c.test_accuracy.mean, local, end_to_end)
        })
        .collect();
    for (c, gap) in configurations.iter_mut().zip(gaps) {
        c.gap_recovered = gap;
    }
    configurations
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_the_mean_and_the_sample_standard_deviation() {
        let s = Spread::of(&[0.5, 0.7, 0.9]);
        assert!((s.mean - 0.7).abs() < 1e-12);
        assert!((s.std.unwrap() - 0.2).abs() < 1e-12, "sqrt(0.08 / 2)");
        assert_eq!(
            Spread::of(&[0.25]),
            Spread {
                mean: 0.25,
                std: None
            }
        );
        assert_eq!(Spread::of(&[0.25]).cell(), "0.2500");
        assert_eq!(Spread::of(&[0.5, 0.7, 0.9]).cell(), "0.7000 ± 0.2000");
    }

    #[test]
    fn gap_recovered_is_zero_for_local_one_for_end_to_end_and_none_without_a_gap() {
        assert_eq!(gap_recovered(0.8, 0.8, 0.9), Some(0.0));
        assert_eq!(gap_recovered(0.9, 0.8, 0.9), Some(1.0));
        assert!((gap_recovered(0.85, 0.8, 0.9).unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(gap_recovered(0.85, 0.8, 0.8), None);
        let zero = gap_recovered(0.9, 0.9, 0.8).unwrap();
        assert!(zero == 0.0 && zero.is_sign_positive(), "not -0: {zero}");
    }
}
