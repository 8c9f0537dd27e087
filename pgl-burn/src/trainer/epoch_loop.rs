//! The trainer's epoch loop: every batch of an epoch, its step decided by the schedule and run
//! here or in the pipeline, the model state lent to the loop ([`Held`]) and always handed back.

use std::thread::Scope;
use std::time::Instant;

use pgl_core::{EpochMetrics, EventSink, StepKind};
use pgl_data::loader::{receive, spawn_batches};
use pgl_data::{Batch, DatasetSplits, EpochPlan, LoaderStats};

use super::{BatchTensors, HELD, Trainer};
use crate::activation::batch_tensors;
use crate::diagnose::explain_non_finite;
use crate::epoch::EpochPosition;
use crate::error::TrainError;
use crate::global::{GlobalContext, global_step};
use crate::local_steps::{Held, SegmentStart};
use crate::model::DecoupledModel;
use crate::partial::partial_global_step;
use crate::pipeline::Work;
use crate::state::ModelState;
use crate::step::{self, LocalContext, ModuleSpan, StepAt, StepEnv, StepOutcome};

/// Where an epoch records its finished steps.
struct EpochLog<'a> {
    position: &'a mut EpochPosition,
    sink: &'a mut dyn EventSink,
}

impl<M: DecoupledModel> Trainer<M> {
    /// Trains one epoch over `train` (seeded order, batches made ahead on a background
    /// thread), asking the schedule before every batch, then evaluates on `test`. Reports
    /// every step and the epoch's metrics to `sink`. With a pipeline, consecutive local steps
    /// run through it and global steps run here between drained pipelines.
    ///
    /// Continues an epoch interrupted in the middle (see [`EpochPosition`]); stops with
    /// [`TrainError::Interrupted`] at the next batch boundary when this trainer's
    /// [`stop_handle`](Self::stop_handle) or the process-wide
    /// [`interrupt::request`](crate::interrupt::request) asked for it.
    pub fn train_epoch(
        &mut self,
        data: &DatasetSplits,
        sink: &mut dyn EventSink,
    ) -> Result<EpochMetrics, TrainError> {
        let epoch = self.record.epochs_done;
        let s = &self.settings;
        let plan = EpochPlan::new(
            &data.train,
            s.training.batch_size,
            s.training.seed,
            epoch,
            s.augment,
        );
        let modules = self.model().num_modules();
        let position = self.record.position.take();
        let mut position = position.unwrap_or_else(|| EpochPosition::new(modules));
        let (started, mut loader) = (Instant::now(), LoaderStats::default());
        let state = self.state.take().expect(HELD);
        let (state, result) = std::thread::scope(|scope| {
            let first = position.batches_done;
            let prefetch = self.settings.prefetch;
            let batches = spawn_batches(scope, &data.train, &plan, prefetch, first as usize);
            let mut log = EpochLog {
                position: &mut position,
                sink,
            };
            let mut held = Held::Here(state);
            let batches_in_epoch = plan.order.num_batches() as u64;
            let mut outcome = Ok(());
            for batch_index in first..batches_in_epoch {
                if let Err(stop) = self.stop.check(epoch + 1, batch_index) {
                    outcome = Err(stop);
                    break;
                }
                let Some(batch) = receive(&batches, &mut loader) else {
                    break; // the loader stopped: nothing left to train on
                };
                let clock = (epoch, batch_index, batches_in_epoch);
                let step = self
                    .record
                    .next_step(&mut *self.schedule, &self.settings, clock);
                let (next, result) = self.take_step(scope, held, step, &batch, &mut log);
                held = next;
                if let Err(error) = result {
                    outcome = Err(error);
                    break;
                }
            }
            let (state, drained) = self.drain(held, &mut log);
            (state, outcome.and(drained))
        });
        self.state = Some(state);
        position.train_seconds += started.elapsed().as_secs_f64();
        position.data_wait_seconds += loader.wait.as_secs_f64();
        if let Err(error) = result {
            if matches!(error, TrainError::Interrupted { .. }) {
                self.record.position = Some(position);
            }
            return Err(explain_non_finite(
                error,
                self.model(),
                self.objective_heads(),
            ));
        }
        Ok(self.finish_epoch(position, data, sink))
    }

    /// Runs one step of `kind` on `batch`: into the pipeline when it is a local step and the
    /// pipeline is calibrated (its result is recorded when the segment drains), otherwise
    /// here, after draining any segment, with its memory measured and its result recorded.
    /// Always hands the state back (`Held`), with the error of a failed step.
    fn take_step<'scope>(
        &mut self,
        scope: &'scope Scope<'scope, '_>,
        held: Held<'scope, M>,
        (kind, at): (StepKind, StepAt),
        batch: &Batch,
        log: &mut EpochLog<'_>,
    ) -> (Held<'scope, M>, Result<(), TrainError>)
    where
        M: 'scope,
    {
        let (images, labels) = batch_tensors(batch, &self.device);
        if kind == StepKind::Local
            && let Some(groups) = self.local_steps.groups()
        {
            let start = SegmentStart {
                replay: self.replay.as_ref(),
                groups,
                device: &self.device,
            };
            let samples = batch.len();
            let held = held.pipeline(scope, start, |needs_images| Work {
                at,
                samples,
                images: needs_images.then(|| images.clone()),
                input: images,
                labels,
            });
            return (held, Ok(()));
        }
        let (state, drained) = self.drain(held, log);
        if let Err(error) = drained {
            return (Held::Here(state), Err(error));
        }
        let probe = self.settings.memory_probe.clone();
        if let Some(probe) = &probe {
            probe.begin();
        }
        let mut timings = Vec::new();
        let (state, outcome) = self.run_here(state, kind, (images, labels), at, &mut timings);
        let held = Held::Here(state);
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(error) => return (held, Err(error)),
        };
        if kind == StepKind::Local {
            self.local_steps.add_timings(&timings); // the pipeline's calibration
        }
        if let Some(probe) = &probe {
            log.position.record_peak(kind, probe.peak());
        }
        let samples = batch.len();
        self.record
            .record_step(at, samples, &outcome, log.position, log.sink);
        (held, Ok(()))
    }

    /// The whole state back here: drains a running pipeline segment (if one runs), records
    /// every batch it finished, in order, and reports a worker's error.
    fn drain(
        &mut self,
        held: Held<'_, M>,
        log: &mut EpochLog<'_>,
    ) -> (ModelState<M>, Result<(), TrainError>) {
        let finished = held.gather();
        for done in finished.losses {
            let (at, samples) = (done.at, done.samples);
            self.record
                .record_step(at, samples, &done.outcome(), log.position, log.sink);
        }
        (finished.state, finished.error.map_or(Ok(()), Err))
    }

    /// Runs a step on this thread (not in a pipeline); a local step times every module into
    /// `timings`. Always hands the state back, with the updates made before any error.
    pub(super) fn run_here(
        &mut self,
        state: ModelState<M>,
        kind: StepKind,
        batch: BatchTensors,
        at: StepAt,
        timings: &mut Vec<f64>,
    ) -> (ModelState<M>, Result<StepOutcome, TrainError>) {
        let env = StepEnv {
            loss_fn: &self.loss_fn,
            at,
        };
        let modules = state.num_modules();
        let replay = self.replay.as_ref();
        if kind == StepKind::Local {
            let span = ModuleSpan::whole(modules);
            let cx = LocalContext { replay, env, span };
            return step::local_step(state, batch, &cx, timings);
        }
        // Plain end-to-end training is plain backprop: no aux losses, no partial steps.
        let plain = self.schedule.is_plain_end_to_end();
        let guidance = &self.settings.guidance;
        let depth = guidance.global_depth.filter(|_| !plain);
        let cx = GlobalContext {
            env,
            guidance,
            plain,
            depth: depth.unwrap_or(modules).min(modules),
            replay,
        };
        let (state, done) = if cx.depth < modules {
            partial_global_step(state, batch, &cx)
        } else {
            global_step(state, batch, &cx)
        };
        let outcome = done.map(|(outcome, replay)| {
            if replay.is_some() {
                self.replay = replay;
            }
            outcome
        });
        (state, outcome)
    }
}
