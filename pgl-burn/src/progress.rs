//! Where a run stands: [`TrainerProgress`] (what a checkpoint saves besides weights and
//! optimizer states), [`TrainerState`] (everything a trainer continues from) and the trainer's
//! own record of counters, recent losses and metrics.

use std::collections::VecDeque;

use burn::optim::ModuleOptimizer;
use pgl_core::{
    CoreError, EpochMetrics, EventSink, GuidanceSchedule, LrContext, LrSchedule, LrState,
    ScheduleState, StepContext, StepKind, TrainEvent,
};
use serde::{Deserialize, Serialize};

use crate::epoch::EpochPosition;
use crate::objective::ObjectiveHeads;
use crate::settings::TrainSettings;
use crate::step::{StepAt, StepOutcome};

/// How many recent classifier losses the schedule sees.
pub const LOSS_HISTORY: usize = 64;

/// Where a trainer stands between epochs: everything besides the weights and the optimizer
/// states that a checkpoint must hold to continue exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerProgress {
    /// Epochs completed.
    pub epochs_done: u64,
    /// Global iterations completed.
    pub iteration: u64,
    /// The schedule's loss history (most recent last).
    #[serde(with = "pgl_core::json_float::vec_f32")]
    pub recent_losses: Vec<f32>,
    /// Every module's loss in the latest step (`StepContext::module_losses`; empty in
    /// checkpoints written before schedules could read them).
    #[serde(default)]
    pub module_losses: Vec<Option<f32>>,
    /// Canonical spec of the schedule.
    pub schedule_spec: String,
    /// The schedule's state.
    pub schedule_state: ScheduleState,
    /// Canonical spec of the learning-rate schedule.
    #[serde(default = "constant_lr_spec")]
    pub lr_schedule_spec: String,
    /// The learning-rate schedule's state (empty for the built-ins, which are pure functions
    /// of the run's clock).
    #[serde(default)]
    pub lr_schedule_state: LrState,
    /// Metrics of every completed epoch.
    pub history: Vec<EpochMetrics>,
    /// Where the current epoch stands when the run stopped in the middle of it (Ctrl-C).
    #[serde(default)]
    pub epoch_position: Option<EpochPosition>,
}

/// Everything a trainer continues from: weights, optimizer states, the local objective's
/// extra heads and progress (what a checkpoint holds). [`Trainer::state`](crate::Trainer::state)
/// takes one.
pub struct TrainerState<M> {
    /// The model's weights.
    pub model: M,
    /// One optimizer per module, module order.
    pub optimizers: Vec<ModuleOptimizer>,
    /// The local objective's extra heads (projection heads, decoders); `None` keeps the
    /// trainer's own (a new run from another run's weights, whose heads are not carried).
    pub objective_heads: Option<ObjectiveHeads>,
    /// Counters, schedule state and metrics.
    pub progress: TrainerProgress,
}

/// The learning-rate schedule of checkpoints written before LR schedules existed.
fn constant_lr_spec() -> String {
    "constant".to_string()
}

/// The counters and records of a run (what [`TrainerProgress`] saves, without the schedule).
#[derive(Debug, Clone, Default)]
pub(crate) struct RunRecord {
    /// Epochs completed.
    pub epochs_done: u64,
    /// Global iterations completed.
    pub iteration: u64,
    /// The newest classifier losses, at most [`LOSS_HISTORY`], most recent last.
    recent_losses: VecDeque<f32>,
    /// Every module's loss in the latest step.
    module_losses: Vec<Option<f32>>,
    /// Metrics of every completed epoch.
    pub history: Vec<EpochMetrics>,
    /// The epoch an interruption stopped in the middle of.
    pub position: Option<EpochPosition>,
}

impl RunRecord {
    /// The recent classifier losses, most recent last (what the schedule sees).
    pub fn recent_losses(&self) -> Vec<f32> {
        self.recent_losses.iter().copied().collect()
    }

    /// The step that batch `batch_index` (0-based) of `epoch` (0-based, `batches_in_epoch`
    /// batches) gets: the guidance `schedule` decides its kind from the run's clock and recent
    /// losses, the settings' learning-rate schedule scales the base rate. Advances the run's
    /// clock (the one place it moves): the step is then iteration `at.iteration`.
    pub fn next_step(
        &mut self,
        schedule: &mut dyn GuidanceSchedule,
        settings: &TrainSettings,
        (epoch, batch_index, batches_in_epoch): (u64, u64, u64),
    ) -> (StepKind, StepAt) {
        let history = self.recent_losses();
        let kind = schedule.decide(&StepContext {
            epoch,
            iteration: self.iteration,
            iteration_in_epoch: batch_index,
            iterations_per_epoch: batches_in_epoch,
            recent_losses: &history,
            module_losses: &self.module_losses,
        });
        let clock = LrContext {
            epoch,
            iteration: self.iteration,
            iteration_in_epoch: batch_index,
            iterations_per_epoch: batches_in_epoch,
            total_epochs: settings.training.epochs,
        };
        let mut factor = settings.lr_schedule.factor(&clock);
        if let (StepKind::Local, Some(local)) = (kind, &settings.local_lr_schedule) {
            factor *= local.factor(&clock);
        }
        let at = StepAt {
            epoch: epoch + 1,
            iteration: self.iteration + 1,
            batch: batch_index + 1,
            lr: settings.optimizer.lr * factor,
        };
        self.iteration += 1;
        (kind, at)
    }

    /// Records a finished step: the epoch's totals, the loss history, a
    /// [`TrainEvent::StepFinished`] event.
    pub fn record_step(
        &mut self,
        at: StepAt,
        samples: usize,
        outcome: &StepOutcome,
        position: &mut EpochPosition,
        sink: &mut dyn EventSink,
    ) {
        position.record(outcome.kind, samples, outcome.loss, &outcome.module_losses);
        if self.recent_losses.len() == LOSS_HISTORY {
            self.recent_losses.pop_front();
        }
        self.recent_losses.push_back(outcome.loss);
        self.module_losses.clone_from(&outcome.module_losses);
        sink.on_event(&TrainEvent::StepFinished {
            epoch: at.epoch,
            iteration_in_epoch: at.batch - 1,
            kind: outcome.kind,
            loss: outcome.loss,
        });
    }

    /// The progress to save, with the specs and states of the guidance `schedule` and the
    /// `lr_schedule`.
    pub fn save(
        &self,
        schedule: &dyn GuidanceSchedule,
        lr_schedule: &dyn LrSchedule,
    ) -> TrainerProgress {
        TrainerProgress {
            epochs_done: self.epochs_done,
            iteration: self.iteration,
            recent_losses: self.recent_losses(),
            module_losses: self.module_losses.clone(),
            schedule_spec: schedule.spec(),
            schedule_state: schedule.state(),
            lr_schedule_spec: lr_schedule.spec(),
            lr_schedule_state: lr_schedule.state(),
            history: self.history.clone(),
            epoch_position: self.position.clone(),
        }
    }

    /// The record of `progress`, after restoring the states of the guidance `schedule` and
    /// the `lr_schedule` from it; fails when the progress was saved with other schedules.
    pub fn load(
        progress: TrainerProgress,
        schedule: &mut dyn GuidanceSchedule,
        lr_schedule: &mut dyn LrSchedule,
    ) -> Result<Self, CoreError> {
        for (saved, current) in [
            (&progress.schedule_spec, schedule.spec()),
            (&progress.lr_schedule_spec, lr_schedule.spec()),
        ] {
            if *saved != current {
                return Err(CoreError::StateMismatch {
                    schedule: current,
                    reason: format!("the checkpoint was made with schedule `{saved}`"),
                });
            }
        }
        schedule.restore(&progress.schedule_state)?;
        lr_schedule.restore(&progress.lr_schedule_state)?;
        Ok(Self {
            epochs_done: progress.epochs_done,
            iteration: progress.iteration,
            recent_losses: progress.recent_losses.into_iter().collect(),
            module_losses: progress.module_losses,
            history: progress.history,
            position: progress.epoch_position,
        })
    }
}

#[cfg(test)]
mod tests {
    use pgl_core::{
        LrContext, LrScheduleRegistry, ObjectiveConfig, OptimizerConfig, RunConfig,
        ScheduleRegistry, StepKind, TrainingConfig,
    };

    use super::RunRecord;
    use crate::settings::TrainSettings;

    #[test]
    fn the_local_lr_schedule_scales_local_steps_only() {
        let config = RunConfig {
            optimizer: OptimizerConfig {
                lr: 0.1,
                lr_schedule: "constant".to_string(),
                local_lr_schedule: Some("cosine".to_string()),
                ..Default::default()
            },
            training: TrainingConfig {
                epochs: 2,
                ..Default::default()
            },
            objective: ObjectiveConfig {
                local_objective: "ce".to_string(),
            },
            ..RunConfig::default()
        };
        let settings = TrainSettings::from_config(&config).unwrap();
        let mut schedule = ScheduleRegistry::with_builtins()
            .build("periodic:every=2")
            .unwrap();
        let cosine = LrScheduleRegistry::with_builtins().build("cosine").unwrap();
        let mut record = RunRecord::default();
        let (mut locals, mut globals) = (0, 0);
        for epoch in 0..2 {
            for batch in 0..5 {
                let iteration = record.iteration;
                let (kind, at) = record.next_step(&mut *schedule, &settings, (epoch, batch, 5));
                assert_eq!(
                    record.iteration,
                    iteration + 1,
                    "next_step advances the clock"
                );
                let clock = LrContext {
                    epoch,
                    iteration,
                    iteration_in_epoch: batch,
                    iterations_per_epoch: 5,
                    total_epochs: 2,
                };
                match kind {
                    StepKind::Global => {
                        globals += 1;
                        assert_eq!(at.lr, 0.1);
                    }
                    StepKind::Local => {
                        locals += 1;
                        assert_eq!(at.lr, 0.1 * cosine.factor(&clock));
                        assert!(iteration == 0 || at.lr < 0.1);
                    }
                }
            }
        }
        assert_eq!((locals, globals), (5, 5));
    }
}
