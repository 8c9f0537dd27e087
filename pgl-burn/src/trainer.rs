//! [`Trainer`]: runs the local and global steps a guidance schedule chooses, epoch after
//! epoch. The loop reads like the algorithm — ask the schedule, run a step, record it — and
//! delegates the rest: the steps themselves to [`step`], pipelined local steps
//! to [`pipeline`](crate::pipeline), epoch bookkeeping and metrics to [`epoch`](crate::epoch).

use std::thread::Scope;
use std::time::Instant;

use burn::nn::loss::CrossEntropyLoss;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use pgl_core::{EpochMetrics, EventSink, GuidanceSchedule, StepKind, TrainEvent};
use pgl_data::loader::{receive, spawn_batches};
use pgl_data::{Batch, DatasetSplits, EpochPlan, ImageDataset, LoaderStats};

use crate::activation::{Activation, batch_tensors};
use crate::diagnose::explain_non_finite;
use crate::epoch::EpochPosition;
use crate::error::TrainError;
use crate::eval::{Evaluation, evaluate};
use crate::global;
use crate::interrupt::StopHandle;
use crate::model::DecoupledModel;
use crate::objective::ObjectiveHeads;
use crate::partial::partial_global_step;
use crate::pipeline::{PipelinePlan, Segment, Work};
use crate::progress::{RunRecord, TrainerProgress, TrainerState};
use crate::replay::ReplayBuffer;
use crate::settings::TrainSettings;
use crate::step::{self, LocalObjectivePass, StepAt, StepEnv, StepOutcome};

/// Trains a [`DecoupledModel`] with one optimizer per module, following a guidance schedule.
pub struct Trainer<M: DecoupledModel> {
    /// The model; `None` only while a pipeline segment holds it.
    model: Option<M>,
    /// The local objective's extra heads (empty with `ce`; taken by a running pipeline
    /// segment).
    heads: ObjectiveHeads,
    /// One optimizer per module for local steps (and global steps with a shared optimizer),
    /// then, with [`GlobalOptimizer::Separate`](pgl_core::GlobalOptimizer::Separate), one
    /// more per module for global steps. While a pipeline segment runs, only the global ones.
    optimizers: Vec<ModuleOptimizer>,
    /// The gradients the latest global step left for local steps to replay (`None`: replay
    /// off, or no global step yet).
    replay: Option<ReplayBuffer<M>>,
    schedule: Box<dyn GuidanceSchedule>,
    settings: TrainSettings,
    device: Device,
    loss_fn: CrossEntropyLoss,
    /// Counters, recent losses, metrics.
    record: RunRecord,
    /// How local steps are pipelined (`None`: sequentially).
    pipeline: Option<PipelinePlan>,
    /// Stops this trainer at the next batch boundary when requested.
    stop: StopHandle,
}

impl<M: DecoupledModel> Trainer<M> {
    /// A trainer for `model` (already on the autodiff `device`) with one fresh optimizer per
    /// module; fails when the settings cannot run with this model and schedule (a pipeline of
    /// more workers than modules, or with a schedule that reads losses), or when the local
    /// objective cannot train this model ([`pgl_core::objective::check_modules`]) or needs
    /// extra heads and the settings lack the input shape.
    pub fn new(
        model: M,
        schedule: Box<dyn GuidanceSchedule>,
        settings: TrainSettings,
        device: &Device,
    ) -> Result<Self, TrainError> {
        let modules = model.num_modules();
        let pipeline = settings
            .pipeline
            .map(|workers| PipelinePlan::new(workers, modules, &*schedule))
            .transpose()?;
        let optimizers = settings.optimizer.build_per_module(&model, modules);
        let heads = settings.objective_heads(&model, device)?;
        Ok(Self {
            model: Some(model),
            heads,
            optimizers,
            replay: None,
            schedule,
            settings,
            device: device.clone(),
            loss_fn: CrossEntropyLoss::new(None, device),
            record: RunRecord::default(),
            pipeline,
            stop: StopHandle::default(),
        })
    }

    /// A handle that stops this trainer (and no other) at the next batch boundary, with
    /// [`TrainError::Interrupted`]; usable from another thread or an event sink.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// The model being trained.
    pub fn model(&self) -> &M {
        self.model.as_ref().expect("a segment holds the model")
    }

    /// Consumes the trainer, returning the model.
    pub fn into_model(self) -> M {
        self.model.expect("a segment holds the model")
    }

    /// The schedule in use.
    pub fn schedule(&self) -> &dyn GuidanceSchedule {
        &*self.schedule
    }

    /// The settings in use.
    pub fn settings(&self) -> &TrainSettings {
        &self.settings
    }

    /// Module counts of the pipeline's groups, once the first local steps have measured each
    /// module's cost (`None` before, or without a pipeline).
    pub fn pipeline_groups(&self) -> Option<&[usize]> {
        self.pipeline.as_ref().and_then(PipelinePlan::groups)
    }

    /// The training device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Global iterations done so far.
    pub fn iteration(&self) -> u64 {
        self.record.iteration
    }

    /// Epochs completed.
    pub fn epochs_done(&self) -> u64 {
        self.record.epochs_done
    }

    /// Metrics of every completed epoch (restored ones included).
    pub fn history(&self) -> &[EpochMetrics] {
        &self.record.history
    }

    /// The per-module optimizers, module order.
    pub fn optimizers(&self) -> &[ModuleOptimizer] {
        &self.optimizers
    }

    /// The local objective's extra heads (empty when it has none).
    pub fn objective_heads(&self) -> &ObjectiveHeads {
        &self.heads
    }

    /// Replaces the extra heads with `heads` loaded from a checkpoint of this run.
    pub(crate) fn restore_objective_heads(&mut self, heads: ObjectiveHeads) {
        self.heads = heads;
    }

    /// The gradients the latest global step left for local steps to replay (`None` with
    /// replay off or before the first global step).
    pub fn replay(&self) -> Option<&ReplayBuffer<M>> {
        self.replay.as_ref()
    }

    /// Replaces the replayed gradients with `replay`, loaded from a checkpoint of this run.
    pub(crate) fn restore_replay(&mut self, replay: Option<ReplayBuffer<M>>) {
        self.replay = replay;
    }

    /// The trainer's progress, for a checkpoint.
    pub fn progress(&self) -> TrainerProgress {
        self.record
            .save(&*self.schedule, &*self.settings.lr_schedule)
    }

    /// Continues from `state` (saved from a trainer of the same configuration and schedule):
    /// weights, optimizer states, counters, schedule state and metrics.
    pub fn restore(&mut self, state: TrainerState<M>) -> Result<(), TrainError> {
        if state.optimizers.len() != self.optimizers.len() {
            return Err(TrainError::Pipeline {
                reason: format!(
                    "{} optimizers restored for {} modules",
                    state.optimizers.len(),
                    self.optimizers.len()
                ),
            });
        }
        let lr_schedule = &mut *self.settings.lr_schedule;
        self.record = RunRecord::load(state.progress, &mut *self.schedule, lr_schedule)?;
        self.model = Some(state.model);
        self.optimizers = state.optimizers;
        Ok(())
    }

    /// One step of the given kind on a batch, outside an epoch: counters do not move and the
    /// base learning rate is used. A non-finite loss is an error and no update is applied
    /// after it.
    pub fn step(
        &mut self,
        kind: StepKind,
        images: Activation,
        labels: Tensor<1, Int>,
    ) -> Result<StepOutcome, TrainError> {
        let at = StepAt {
            epoch: self.record.epochs_done + 1,
            iteration: self.record.iteration + 1,
            batch: 1,
            lr: self.settings.lr,
        };
        self.run_step(kind, images, labels, at, &mut Vec::new())
            .map_err(|e| explain_non_finite(e, self.model(), &self.heads))
    }

    /// Runs a step here (not in a pipeline); a local step times every module into `timings`.
    fn run_step(
        &mut self,
        kind: StepKind,
        images: Activation,
        labels: Tensor<1, Int>,
        at: StepAt,
        timings: &mut Vec<f64>,
    ) -> Result<StepOutcome, TrainError> {
        let model = self.model.take().expect("a segment holds the model");
        let env = StepEnv {
            loss_fn: &self.loss_fn,
            at,
        };
        let modules = model.num_modules();
        let (local, separate) = self.optimizers.split_at_mut(modules);
        let (model, outcome) = match kind {
            StepKind::Local => {
                let objective = &*self.settings.local_objective;
                let heads = &mut self.heads;
                let replay = self.replay.as_ref();
                step::local_step(
                    model, local, objective, heads, replay, images, &labels, env, timings,
                )
            }
            StepKind::Global => {
                let plain = self.schedule.is_plain_end_to_end();
                let mut options = self.settings.global_step_options();
                let depth = self.settings.global_depth.filter(|_| !plain);
                let depth = depth.unwrap_or(modules).min(modules);
                if plain {
                    options.aux_weight = 0.0; // the baseline is plain backprop
                }
                let (model, done) = if depth < modules {
                    // Bottom modules: local optimizers; top: the global steps' ones.
                    let (bottom, shared_top) = local.split_at_mut(modules - depth);
                    let top = if separate.is_empty() {
                        shared_top
                    } else {
                        &mut separate[modules - depth..]
                    };
                    let targets = self.heads.needs_images().then(|| images.clone());
                    let pass = LocalObjectivePass {
                        objective: &*self.settings.local_objective,
                        heads: &mut self.heads,
                        images: targets.as_ref(),
                        replay: self.replay.as_ref(),
                    };
                    let optimizers = (bottom, top);
                    partial_global_step(model, optimizers, pass, images, labels, env, options)
                } else {
                    let global = if separate.is_empty() { local } else { separate };
                    global::global_step(model, global, images, labels, env, options)
                };
                let outcome = done.map(|(outcome, replay)| {
                    if replay.is_some() {
                        self.replay = replay;
                    }
                    outcome
                });
                (model, outcome)
            }
        };
        self.model = Some(model);
        outcome
    }

    /// Evaluates the current model on `data`.
    pub fn evaluate(&self, data: &ImageDataset) -> Evaluation {
        evaluate(
            self.model(),
            data,
            self.settings.eval_batch_size,
            &self.device,
        )
    }

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
        let plan = EpochPlan::new(&data.train, s.batch_size, s.seed, epoch, s.augment);
        let batches_in_epoch = plan.order.num_batches() as u64;
        let modules = self.model().num_modules();
        let position = self.record.position.take();
        let mut position = position.unwrap_or_else(|| EpochPosition::new(modules));
        let (started, mut loader) = (Instant::now(), LoaderStats::default());
        let result = std::thread::scope(|scope| {
            let first = position.batches_done;
            let prefetch = self.settings.prefetch;
            let batches = spawn_batches(scope, &data.train, &plan, prefetch, first as usize);
            let mut segment = None;
            let outcome = (first..batches_in_epoch).try_for_each(|batch_index| {
                self.stop.check(epoch + 1, batch_index)?;
                let Some(batch) = receive(&batches, &mut loader) else {
                    return Ok(()); // the loader stopped: nothing left to train on
                };
                let (kind, at) = self.record.next_step(
                    &mut *self.schedule,
                    &self.settings,
                    (epoch, batch_index, batches_in_epoch),
                );
                self.take_step(scope, &mut segment, kind, at, &batch, &mut position, sink)
            });
            let drained = self.drain(segment, &mut position, sink);
            outcome.and(drained)
        });
        position.train_seconds += started.elapsed().as_secs_f64();
        position.data_wait_seconds += loader.wait.as_secs_f64();
        if let Err(error) = result {
            if matches!(error, TrainError::Interrupted { .. }) {
                self.record.position = Some(position);
            }
            return Err(explain_non_finite(error, self.model(), &self.heads));
        }
        Ok(self.finish_epoch(position, data, sink))
    }

    /// Runs one step of `kind` on `batch`: into the pipeline `segment` when it is a local step
    /// of a calibrated pipeline (its result is recorded when the segment drains), otherwise
    /// here, after draining any segment, with its memory measured and its result recorded.
    #[allow(clippy::too_many_arguments)]
    fn take_step<'scope>(
        &mut self,
        scope: &'scope Scope<'scope, '_>,
        segment: &mut Option<Segment<'scope, M>>,
        kind: StepKind,
        at: StepAt,
        batch: &Batch,
        position: &mut EpochPosition,
        sink: &mut dyn EventSink,
    ) -> Result<(), TrainError>
    where
        M: 'scope,
    {
        let (images, labels) = batch_tensors(batch, &self.device);
        let groups = self.pipeline.as_ref().and_then(PipelinePlan::groups);
        if let (StepKind::Local, Some(groups)) = (kind, groups) {
            let groups = groups.to_vec();
            let running = segment.get_or_insert_with(|| {
                let model = self.model.take().expect("a segment holds the model");
                // The segment takes the local optimizers; separate global ones stay here.
                let modules = model.num_modules();
                let optimizers = self.optimizers.drain(..modules).collect();
                let heads = std::mem::replace(&mut self.heads, ObjectiveHeads::none());
                let objective = &*self.settings.local_objective;
                let parts = (model, heads, optimizers, self.replay.clone());
                Segment::start(scope, parts, objective, &groups, 2, &self.device)
            });
            self.record.iteration += 1;
            let samples = batch.len();
            // A failed worker closes its queue; its error comes out when the segment drains.
            running.send(Work {
                at,
                samples,
                images: running.needs_images().then(|| images.clone()),
                input: images,
                labels,
            });
            return Ok(());
        }
        self.drain(segment.take(), position, sink)?;
        let probe = self.settings.memory_probe.clone();
        if let Some(probe) = &probe {
            probe.begin();
        }
        let mut timings = Vec::new();
        let outcome = self.run_step(kind, images, labels, at, &mut timings)?;
        if let (StepKind::Local, Some(plan)) = (kind, self.pipeline.as_mut()) {
            plan.add_timings(&timings); // calibration: the pipeline's groups follow the costs
        }
        if let Some(probe) = &probe {
            position.record_peak(kind, probe.peak());
        }
        self.record.iteration += 1;
        self.record
            .record_step(at, batch.len(), &outcome, position, sink);
        Ok(())
    }

    /// Drains a pipeline segment (if one runs): takes the model and optimizers back and
    /// records every finished batch in order, then reports a worker's error.
    fn drain(
        &mut self,
        segment: Option<Segment<'_, M>>,
        position: &mut EpochPosition,
        sink: &mut dyn EventSink,
    ) -> Result<(), TrainError> {
        let Some(segment) = segment else {
            return Ok(());
        };
        let finished = segment.finish();
        self.model = Some(finished.model);
        self.heads = finished.heads;
        let global = std::mem::replace(&mut self.optimizers, finished.optimizers);
        self.optimizers.extend(global);
        for done in finished.losses {
            let outcome = StepOutcome {
                kind: StepKind::Local,
                loss: *done.losses.last().expect("at least one module"),
                module_losses: done.losses.into_iter().map(Some).collect(),
            };
            self.record
                .record_step(done.at, done.samples, &outcome, position, sink);
        }
        finished.error.map_or(Ok(()), Err)
    }

    /// Evaluates the finished epoch, appends its metrics to the history and reports them.
    fn finish_epoch(
        &mut self,
        position: EpochPosition,
        data: &DatasetSplits,
        sink: &mut dyn EventSink,
    ) -> EpochMetrics {
        let epoch = self.record.epochs_done + 1;
        sink.on_event(&TrainEvent::EvaluationStarted { epoch });
        let eval_started = Instant::now();
        let evaluation = self.evaluate(&data.test);
        let eval_seconds = eval_started.elapsed().as_secs_f64();
        let metrics = position.into_metrics(epoch, evaluation, eval_seconds, data.train.len());
        self.record.epochs_done = epoch;
        self.record.history.push(metrics.clone());
        sink.on_event(&TrainEvent::EpochFinished(metrics.clone()));
        metrics
    }

    /// Runs every remaining epoch of the settings; returns the metrics of every epoch of the
    /// run (restored ones included).
    pub fn fit(
        &mut self,
        data: &DatasetSplits,
        sink: &mut dyn EventSink,
    ) -> Result<Vec<EpochMetrics>, TrainError> {
        self.fit_with(data, sink, &mut |_| Ok(()))
    }

    /// Like [`fit`](Self::fit), calling `after_epoch` after every epoch (to write checkpoints);
    /// an error from it stops training.
    pub fn fit_with(
        &mut self,
        data: &DatasetSplits,
        sink: &mut dyn EventSink,
        after_epoch: &mut dyn FnMut(&Self) -> Result<(), TrainError>,
    ) -> Result<Vec<EpochMetrics>, TrainError> {
        let per_epoch = data.train.len().div_ceil(self.settings.batch_size) as u64;
        sink.on_event(&TrainEvent::RunStarted {
            epochs: self.settings.epochs,
            iterations_per_epoch: per_epoch,
        });
        while self.record.epochs_done < self.settings.epochs {
            self.train_epoch(data, sink)?;
            after_epoch(self)?;
        }
        Ok(self.record.history.clone())
    }
}
