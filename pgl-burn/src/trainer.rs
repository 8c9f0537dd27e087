//! [`Trainer`]: executes local and global steps as the guidance schedule decides.
//!
//! **Local step** (greedy local learning, as DGL / InfoPro): for k = 1..K, `h_k = f_k(x_k)`,
//! `loss_k = CE(head_k(h_k), y)`, `backward()` on `loss_k` at once, so module k's autodiff
//! graph is freed before module k+1 runs; module k and its head are stepped by module k's
//! optimizer; `x_{k+1} = detach(h_k)`.
//!
//! **Global step** (periodic guidance): one end-to-end backward of the classifier's loss
//! (plus `aux_weight · Σ aux losses` when `aux_weight > 0`) through every module, no detach;
//! every module's optimizer steps with its share of the gradient.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use burn::nn::loss::CrossEntropyLoss;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use pgl_core::{
    CoreError, EpochMetrics, EventSink, GuidanceSchedule, RunConfig, ScheduleState, StepContext,
    StepKind, TrainEvent,
};
use pgl_data::loader::{receive, spawn_batches};
use pgl_data::{Augment, DatasetSplits, EpochPlan, ImageDataset, LoaderStats};
use serde::{Deserialize, Serialize};

use crate::activation::{Activation, batch_tensors};
use crate::error::TrainError;
use crate::eval::{Evaluation, evaluate};
use crate::interrupt::StopHandle;
use crate::memory::MemoryProbe;
use crate::model::DecoupledModel;
use crate::optim::build_module_optimizers;
use crate::pipeline::{Segment, Work};

/// How many recent classifier losses the schedule sees.
pub const LOSS_HISTORY: usize = 64;

/// The numbers a trainer needs from a run configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainSettings {
    /// Learning rate of every module's optimizer.
    pub lr: f64,
    /// Weight of the auxiliary losses added to a global step's loss (0: none).
    pub aux_weight: f64,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Batch size of evaluation.
    pub eval_batch_size: usize,
    /// Number of epochs `fit` runs.
    pub epochs: u64,
    /// Seed of the data order and augmentation.
    pub seed: u64,
    /// Training augmentation (none by default; the CLI picks the dataset's standard one).
    pub augment: Option<Augment>,
    /// Batches the background loader may prepare ahead of the trainer.
    pub prefetch: usize,
    /// Pipelined local steps with this many worker threads (`None`: sequential).
    pub pipeline: Option<usize>,
}

impl TrainSettings {
    /// The settings of `config`.
    pub fn from_config(config: &RunConfig) -> Self {
        Self {
            lr: config.lr,
            aux_weight: config.aux_weight,
            batch_size: config.batch_size,
            eval_batch_size: config.batch_size.max(256),
            epochs: config.epochs,
            seed: config.seed,
            augment: None,
            prefetch: 4,
            pipeline: None,
        }
    }
}

/// What one training step did.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    /// Which kind of step ran.
    pub kind: StepKind,
    /// The classifier's loss on the batch.
    pub loss: f32,
    /// Loss of each module's head on the batch; `None` for aux heads a global step did not
    /// evaluate (when `aux_weight` is 0). The last entry is the classifier's.
    pub module_losses: Vec<Option<f32>>,
}

/// Where a trainer stands between epochs: everything besides the weights and the optimizer
/// states that a checkpoint must hold to continue exactly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainerProgress {
    /// Epochs completed.
    pub epochs_done: u64,
    /// Global iterations completed.
    pub iteration: u64,
    /// The schedule's loss history (most recent last).
    pub recent_losses: Vec<f32>,
    /// Canonical spec of the schedule.
    pub schedule_spec: String,
    /// The schedule's state.
    pub schedule_state: ScheduleState,
    /// Metrics of every completed epoch.
    pub history: Vec<EpochMetrics>,
    /// Where the current epoch stands when the run stopped in the middle of it (Ctrl-C).
    #[serde(default)]
    pub epoch_position: Option<EpochPosition>,
}

/// Running totals of an epoch, so that an epoch interrupted in the middle can be finished
/// with exactly the metrics it would have had.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochPosition {
    /// Batches of the epoch completed.
    pub batches_done: u64,
    /// Local steps taken.
    pub steps_local: u64,
    /// Global steps taken.
    pub steps_global: u64,
    /// Sum of the classifier's losses.
    pub loss_sum: f64,
    /// Sum and count of each module's head losses.
    pub module_sums: Vec<(f64, u64)>,
    /// Highest transient memory of a local step so far.
    pub peak_local: Option<u64>,
    /// Highest transient memory of a global step so far.
    pub peak_global: Option<u64>,
    /// Training seconds so far.
    pub train_seconds: f64,
    /// Seconds waited for data so far.
    pub data_wait_seconds: f64,
}

impl EpochPosition {
    fn new(modules: usize) -> Self {
        Self {
            module_sums: vec![(0.0, 0); modules],
            ..Self::default()
        }
    }

    fn record(&mut self, kind: StepKind, loss: f32, module_losses: &[Option<f32>]) {
        match kind {
            StepKind::Local => self.steps_local += 1,
            StepKind::Global => self.steps_global += 1,
        }
        self.loss_sum += f64::from(loss);
        for (sum, value) in self.module_sums.iter_mut().zip(module_losses) {
            if let Some(v) = value {
                sum.0 += f64::from(*v);
                sum.1 += 1;
            }
        }
        self.batches_done += 1;
    }

    fn record_peak(&mut self, kind: StepKind, peak: u64) {
        let slot = match kind {
            StepKind::Local => &mut self.peak_local,
            StepKind::Global => &mut self.peak_global,
        };
        *slot = Some(slot.map_or(peak, |p| p.max(peak)));
    }
}

/// Trains a [`DecoupledModel`] with one optimizer per module, following a guidance schedule.
pub struct Trainer<M: DecoupledModel> {
    model: Option<M>,
    optimizers: Vec<ModuleOptimizer>,
    schedule: Box<dyn GuidanceSchedule>,
    settings: TrainSettings,
    device: Device,
    loss_fn: CrossEntropyLoss,
    epochs_done: u64,
    iteration: u64,
    recent_losses: VecDeque<f32>,
    history: Vec<EpochMetrics>,
    position: Option<EpochPosition>,
    probe: Option<Arc<dyn MemoryProbe>>,
    /// Seconds per module measured by the first local steps of a pipelined run.
    module_costs: Vec<f64>,
    /// Timed local steps still to run before the pipeline's groups are chosen.
    calibration_left: usize,
    /// Stops this trainer at the next batch boundary when requested.
    stop: StopHandle,
    /// Module counts of the pipeline's worker groups, once chosen.
    groups: Option<Vec<usize>>,
}

/// Local steps timed module by module before a pipeline chooses its groups.
pub const CALIBRATION_STEPS: usize = 2;

impl<M: DecoupledModel> Trainer<M> {
    /// A trainer for `model` (already on the autodiff `device`), with one fresh optimizer per
    /// module as `config` says.
    pub fn new(
        model: M,
        config: &RunConfig,
        schedule: Box<dyn GuidanceSchedule>,
        device: &Device,
    ) -> Self {
        let optimizers = build_module_optimizers(config, model.num_modules());
        Self {
            model: Some(model),
            optimizers,
            schedule,
            settings: TrainSettings::from_config(config),
            device: device.clone(),
            loss_fn: CrossEntropyLoss::new(None, device),
            epochs_done: 0,
            iteration: 0,
            recent_losses: VecDeque::with_capacity(LOSS_HISTORY),
            history: Vec::new(),
            position: None,
            probe: None,
            module_costs: Vec::new(),
            calibration_left: CALIBRATION_STEPS,
            stop: StopHandle::default(),
            groups: None,
        }
    }

    /// A handle that stops this trainer (and no other) at the next batch boundary, with
    /// [`TrainError::Interrupted`]; usable from another thread or an event sink.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// The model being trained.
    pub fn model(&self) -> &M {
        self.model
            .as_ref()
            .expect("model is only taken during a step")
    }

    /// Consumes the trainer, returning the model.
    pub fn into_model(self) -> M {
        self.model.expect("model is only taken during a step")
    }

    /// The schedule in use.
    pub fn schedule(&self) -> &dyn GuidanceSchedule {
        &*self.schedule
    }

    /// The settings in use.
    pub fn settings(&self) -> &TrainSettings {
        &self.settings
    }

    /// Measures the peak memory of every step with `probe` (reported per step kind in the
    /// epoch metrics).
    pub fn set_memory_probe(&mut self, probe: Option<Arc<dyn MemoryProbe>>) {
        self.probe = probe;
    }

    /// Runs local steps through a pipeline of `workers` threads (`None`: sequentially). The
    /// schedule must not read losses (a pipeline cannot give it the previous step's loss in
    /// time) and there can be at most one worker per module.
    pub fn set_pipeline(&mut self, workers: Option<usize>) -> Result<(), TrainError> {
        if let Some(w) = workers {
            let modules = self.model().num_modules();
            let reason = if w == 0 {
                Some("--pipeline needs at least 1 worker".to_string())
            } else if w > modules {
                Some(format!(
                    "--pipeline {w} needs at least {w} modules, the model has K={modules}"
                ))
            } else if self.schedule.uses_losses() {
                Some(format!(
                    "schedule `{}` reads the loss of the previous step, which a pipeline has not finished yet; use an iteration- or epoch-based schedule",
                    self.schedule.spec()
                ))
            } else {
                None
            };
            if let Some(reason) = reason {
                return Err(TrainError::Pipeline { reason });
            }
        }
        self.settings.pipeline = workers;
        self.groups = None;
        self.module_costs.clear();
        self.calibration_left = CALIBRATION_STEPS;
        Ok(())
    }

    /// Module counts of the pipeline's groups, once the first local steps have measured each
    /// module's cost (`None` before, or without a pipeline).
    pub fn pipeline_groups(&self) -> Option<&[usize]> {
        self.groups.as_deref()
    }

    /// Changes the training augmentation (`None`: off).
    pub fn set_augment(&mut self, augment: Option<Augment>) {
        self.settings.augment = augment;
    }

    /// The training device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Global iterations done so far.
    pub fn iteration(&self) -> u64 {
        self.iteration
    }

    /// Epochs completed.
    pub fn epochs_done(&self) -> u64 {
        self.epochs_done
    }

    /// Metrics of every completed epoch (restored ones included).
    pub fn history(&self) -> &[EpochMetrics] {
        &self.history
    }

    /// The per-module optimizers, module order.
    pub fn optimizers(&self) -> &[ModuleOptimizer] {
        &self.optimizers
    }

    /// Replaces the model (e.g. with weights loaded from a checkpoint).
    pub fn set_model(&mut self, model: M) {
        self.model = Some(model);
    }

    /// Replaces the per-module optimizers (e.g. with states loaded from a checkpoint).
    ///
    /// # Panics
    /// When the number of optimizers is not the number of modules.
    pub fn set_optimizers(&mut self, optimizers: Vec<ModuleOptimizer>) {
        assert_eq!(
            optimizers.len(),
            self.optimizers.len(),
            "one optimizer per module"
        );
        self.optimizers = optimizers;
    }

    /// Changes the number of epochs [`fit`](Self::fit) runs to.
    pub fn set_epochs(&mut self, epochs: u64) {
        self.settings.epochs = epochs;
    }

    /// The trainer's progress, for a checkpoint.
    pub fn progress(&self) -> TrainerProgress {
        TrainerProgress {
            epochs_done: self.epochs_done,
            iteration: self.iteration,
            recent_losses: self.recent_losses.iter().copied().collect(),
            schedule_spec: self.schedule.spec(),
            schedule_state: self.schedule.state(),
            history: self.history.clone(),
            epoch_position: self.position.clone(),
        }
    }

    /// Continues from `progress` (saved by [`progress`](Self::progress) with the same schedule).
    pub fn restore_progress(&mut self, progress: &TrainerProgress) -> Result<(), CoreError> {
        if progress.schedule_spec != self.schedule.spec() {
            return Err(CoreError::StateMismatch {
                schedule: self.schedule.spec(),
                reason: format!(
                    "the checkpoint was made with schedule `{}`",
                    progress.schedule_spec
                ),
            });
        }
        self.schedule.restore(&progress.schedule_state)?;
        self.epochs_done = progress.epochs_done;
        self.iteration = progress.iteration;
        self.recent_losses = progress.recent_losses.iter().copied().collect();
        self.history = progress.history.clone();
        self.position = progress.epoch_position.clone();
        Ok(())
    }

    fn take_model(&mut self) -> M {
        self.model
            .take()
            .expect("model is only taken during a step")
    }

    fn cross_entropy(&self, logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
        self.loss_fn.forward(logits, labels)
    }

    /// One local step on a batch: every module learns from its own head, inputs detached.
    pub fn local_step(&mut self, images: Activation, labels: Tensor<1, Int>) -> StepOutcome {
        self.local_step_timed(images, labels, None)
    }

    fn local_step_timed(
        &mut self,
        images: Activation,
        labels: Tensor<1, Int>,
        timings: Option<&mut Vec<f64>>,
    ) -> StepOutcome {
        let model = self.take_model();
        let (model, _, losses) = local_pass_timed(
            model,
            &mut self.optimizers,
            images,
            &labels,
            self.settings.lr,
            &self.loss_fn,
            timings,
        );
        self.model = Some(model);
        let values = read_losses(losses);
        StepOutcome {
            kind: StepKind::Local,
            loss: *values.last().expect("at least one module"),
            module_losses: values.into_iter().map(Some).collect(),
        }
    }

    /// One global step on a batch: end-to-end backprop through every module.
    pub fn global_step(&mut self, images: Activation, labels: Tensor<1, Int>) -> StepOutcome {
        let mut model = self.take_model();
        let modules = model.num_modules();
        let aux_weight = self.settings.aux_weight;
        let mut x = images;
        let mut aux_losses = Vec::new();
        for k in 0..modules {
            x = model.forward_module(k, x);
            if aux_weight > 0.0 && k + 1 < modules {
                aux_losses.push(self.cross_entropy(model.head(k, x.clone()), labels.clone()));
            }
        }
        let classifier_loss = self.cross_entropy(model.head(modules - 1, x), labels);
        let mut total = classifier_loss.clone();
        for aux in &aux_losses {
            total = total + aux.clone() * (aux_weight as f32);
        }
        let mut grads = total.backward();
        let lr = self.settings.lr;
        for k in 0..modules {
            let module_grads = model.module_grads(k, &mut grads);
            model = self.optimizers[k].step(lr, model, module_grads);
        }
        self.model = Some(model);
        let mut reported: Vec<Tensor<1>> = aux_losses.into_iter().map(|l| l.detach()).collect();
        reported.push(classifier_loss.detach());
        let values = read_losses(reported);
        let classifier = *values.last().expect("classifier loss");
        let mut module_losses: Vec<Option<f32>> = vec![None; modules];
        if aux_weight > 0.0 {
            for (slot, v) in module_losses.iter_mut().zip(&values) {
                *slot = Some(*v);
            }
        }
        module_losses[modules - 1] = Some(classifier);
        StepOutcome {
            kind: StepKind::Global,
            loss: classifier,
            module_losses,
        }
    }

    /// One step of the given kind.
    pub fn step(
        &mut self,
        kind: StepKind,
        images: Activation,
        labels: Tensor<1, Int>,
    ) -> StepOutcome {
        match kind {
            StepKind::Local => self.local_step(images, labels),
            StepKind::Global => self.global_step(images, labels),
        }
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
        let epoch = self.epochs_done;
        let modules = self.model().num_modules();
        let plan = EpochPlan::new(
            &data.train,
            self.settings.batch_size,
            self.settings.seed,
            epoch,
            self.settings.augment,
        );
        let per_epoch = plan.order.num_batches();
        let mut position = self
            .position
            .take()
            .unwrap_or_else(|| EpochPosition::new(modules));
        let start = position.batches_done as usize;
        let started = Instant::now();
        let device = self.device.clone();
        let mut loader = LoaderStats::default();
        let stop = self.stop.clone();
        let result = std::thread::scope(|scope| -> Result<(), TrainError> {
            let batches = spawn_batches(scope, &data.train, &plan, self.settings.prefetch, start);
            let mut segment: Option<Segment<'_, M>> = None;
            let mut outcome = Ok(());
            for b in start..per_epoch {
                if stop.is_requested() {
                    outcome = Err(TrainError::Interrupted {
                        epoch: epoch + 1,
                        batches: b as u64,
                    });
                    break;
                }
                let Some(batch) = receive(&batches, &mut loader) else {
                    break;
                };
                let (images, labels) = batch_tensors(&batch, &device);
                let history: Vec<f32> = self.recent_losses.iter().copied().collect();
                let context = StepContext {
                    epoch,
                    iteration: self.iteration,
                    iteration_in_epoch: b as u64,
                    iterations_per_epoch: per_epoch as u64,
                    recent_losses: &history,
                };
                let kind = self.schedule.decide(&context);
                if let (StepKind::Local, Some(groups)) = (kind, self.groups.clone()) {
                    let running = segment.get_or_insert_with(|| {
                        let model = self
                            .model
                            .take()
                            .expect("model is only taken during a step");
                        let optimizers = std::mem::take(&mut self.optimizers);
                        Segment::start(
                            scope,
                            model,
                            optimizers,
                            &groups,
                            2,
                            self.settings.lr,
                            &device,
                        )
                    });
                    self.iteration += 1;
                    let work = Work {
                        batch: b,
                        epoch: epoch + 1,
                        iteration: self.iteration,
                        input: images,
                        labels,
                    };
                    if !running.send(work) {
                        break; // a worker failed; its error comes out of `finish`
                    }
                    continue;
                }
                if let Some(running) = segment.take() {
                    self.finish_segment(running, &mut position, epoch, sink)?;
                }
                let probe = self.probe.clone();
                if let Some(probe) = &probe {
                    probe.begin();
                }
                // A step ends by reading its losses back, which synchronises the device.
                let step = match (kind, self.settings.pipeline) {
                    (StepKind::Local, Some(workers)) => {
                        // Calibration: time each module, then cut the pipeline's groups.
                        let mut timings = Vec::new();
                        let step = self.local_step_timed(images, labels, Some(&mut timings));
                        if self.module_costs.is_empty() {
                            self.module_costs = timings;
                        } else {
                            self.module_costs
                                .iter_mut()
                                .zip(timings)
                                .for_each(|(c, t)| *c += t);
                        }
                        self.calibration_left = self.calibration_left.saturating_sub(1);
                        if self.calibration_left == 0 {
                            self.groups = Some(balanced_groups(&self.module_costs, workers));
                        }
                        step
                    }
                    _ => self.step(kind, images, labels),
                };
                if let Some(probe) = &probe {
                    position.record_peak(kind, probe.peak());
                }
                check_finite(&step, epoch + 1, self.iteration + 1, b as u64 + 1)?;
                position.record(kind, step.loss, &step.module_losses);
                self.push_loss(step.loss);
                self.iteration += 1;
                sink.on_event(&TrainEvent::StepFinished {
                    epoch: epoch + 1,
                    iteration_in_epoch: b as u64,
                    kind,
                    loss: step.loss,
                });
            }
            if let Some(running) = segment.take() {
                self.finish_segment(running, &mut position, epoch, sink)?;
            }
            drop(batches);
            outcome
        });
        position.train_seconds += started.elapsed().as_secs_f64();
        position.data_wait_seconds += loader.wait.as_secs_f64();
        if let Err(error) = result {
            if matches!(error, TrainError::Interrupted { .. }) {
                self.position = Some(position);
            }
            return Err(error);
        }
        sink.on_event(&TrainEvent::EvaluationStarted { epoch: epoch + 1 });
        let eval_started = Instant::now();
        let evaluation = self.evaluate(&data.test);
        self.epochs_done += 1;
        let metrics = EpochMetrics {
            epoch: epoch + 1,
            steps_local: position.steps_local,
            steps_global: position.steps_global,
            train_loss: position.loss_sum / per_epoch.max(1) as f64,
            module_train_loss: position
                .module_sums
                .iter()
                .map(|(sum, n)| (*n > 0).then(|| sum / *n as f64))
                .collect(),
            test_loss: evaluation.loss,
            test_accuracy: evaluation.accuracy,
            module_accuracy: evaluation.module_accuracy,
            train_seconds: position.train_seconds,
            data_wait_seconds: position.data_wait_seconds,
            peak_memory_bytes_local: position.peak_local,
            peak_memory_bytes_global: position.peak_global,
            eval_seconds: eval_started.elapsed().as_secs_f64(),
            images_per_second: data.train.len() as f64 / position.train_seconds.max(1e-9),
        };
        self.history.push(metrics.clone());
        sink.on_event(&TrainEvent::EpochFinished(metrics.clone()));
        Ok(metrics)
    }

    fn push_loss(&mut self, loss: f32) {
        if self.recent_losses.len() == LOSS_HISTORY {
            self.recent_losses.pop_front();
        }
        self.recent_losses.push_back(loss);
    }

    /// Drains a pipeline segment: takes the model and optimizers back and records every
    /// finished batch in order.
    fn finish_segment(
        &mut self,
        segment: Segment<'_, M>,
        position: &mut EpochPosition,
        epoch: u64,
        sink: &mut dyn EventSink,
    ) -> Result<(), TrainError> {
        let finished = segment.finish();
        self.model = Some(finished.model);
        self.optimizers = finished.optimizers;
        if let Some(error) = finished.error {
            return Err(error);
        }
        for (batch, values) in finished.losses {
            let loss = *values.last().expect("at least one module");
            let module_losses: Vec<Option<f32>> = values.into_iter().map(Some).collect();
            position.record(StepKind::Local, loss, &module_losses);
            self.push_loss(loss);
            sink.on_event(&TrainEvent::StepFinished {
                epoch: epoch + 1,
                iteration_in_epoch: batch as u64,
                kind: StepKind::Local,
                loss,
            });
        }
        Ok(())
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
        while self.epochs_done < self.settings.epochs {
            self.train_epoch(data, sink)?;
            after_epoch(self)?;
        }
        Ok(self.history.clone())
    }
}

/// The local-step work of every module of `model`, in order: forward on the detached output
/// of the previous module, its head's cross-entropy, `backward()` at once, a step of that
/// module's optimizer. Returns the model, the last module's detached output and the losses
/// (detached, not yet read).
pub(crate) fn local_pass<M: DecoupledModel>(
    model: M,
    optimizers: &mut [ModuleOptimizer],
    images: Activation,
    labels: &Tensor<1, Int>,
    lr: f64,
    loss_fn: &CrossEntropyLoss,
) -> (M, Activation, Vec<Tensor<1>>) {
    local_pass_timed(model, optimizers, images, labels, lr, loss_fn, None)
}

/// [`local_pass`], optionally recording each module's wall-clock seconds into `timings`
/// (which synchronises the device after every module).
pub(crate) fn local_pass_timed<M: DecoupledModel>(
    mut model: M,
    optimizers: &mut [ModuleOptimizer],
    images: Activation,
    labels: &Tensor<1, Int>,
    lr: f64,
    loss_fn: &CrossEntropyLoss,
    mut timings: Option<&mut Vec<f64>>,
) -> (M, Activation, Vec<Tensor<1>>) {
    let modules = model.num_modules();
    let mut losses = Vec::with_capacity(modules);
    let mut input = images;
    for (k, optimizer) in optimizers.iter_mut().enumerate().take(modules) {
        let started = Instant::now();
        let features = model.forward_module(k, input);
        let next_input = features.clone().detach();
        let loss = loss_fn.forward(model.head(k, features), labels.clone());
        let mut grads = loss.backward();
        let module_grads = model.module_grads(k, &mut grads);
        model = optimizer.step(lr, model, module_grads);
        if let Some(timings) = timings.as_deref_mut() {
            // Reading a value waits for the module's work to finish.
            let _ = loss.clone().into_scalar::<f32>();
            timings.push(started.elapsed().as_secs_f64());
        }
        losses.push(loss.detach());
        input = next_input;
    }
    (model, input, losses)
}

/// Sizes of `workers` contiguous groups of modules whose costs `costs` (seconds per module)
/// make the slowest group as fast as possible: the pipeline runs at the pace of its slowest
/// worker.
pub fn balanced_groups(costs: &[f64], workers: usize) -> Vec<usize> {
    let k = costs.len();
    let w = workers.clamp(1, k.max(1));
    let prefix: Vec<f64> = std::iter::once(0.0)
        .chain(costs.iter().scan(0.0, |sum, c| {
            *sum += c;
            Some(*sum)
        }))
        .collect();
    // best[g][i]: the smallest possible slowest-group cost of the first i modules in g groups.
    let mut best = vec![vec![f64::INFINITY; k + 1]; w + 1];
    let mut cut = vec![vec![0usize; k + 1]; w + 1];
    best[0][0] = 0.0;
    for g in 1..=w {
        for i in g..=k {
            for j in (g - 1)..i {
                let cost = best[g - 1][j].max(prefix[i] - prefix[j]);
                if cost < best[g][i] {
                    best[g][i] = cost;
                    cut[g][i] = j;
                }
            }
        }
    }
    let mut sizes = vec![0; w];
    let mut end = k;
    for g in (1..=w).rev() {
        let start = cut[g][end];
        sizes[g - 1] = end - start;
        end = start;
    }
    sizes
}

/// Reads a list of scalar losses in one transfer.
pub(crate) fn read_losses(losses: Vec<Tensor<1>>) -> Vec<f32> {
    Tensor::cat(losses, 0).into_data().iter::<f32>().collect()
}

fn check_finite(
    outcome: &StepOutcome,
    epoch: u64,
    iteration: u64,
    batch: u64,
) -> Result<(), TrainError> {
    let modules = outcome.module_losses.len();
    for (k, value) in outcome.module_losses.iter().enumerate() {
        if let Some(v) = value
            && !v.is_finite()
        {
            return Err(TrainError::NonFiniteLoss {
                epoch,
                iteration,
                batch,
                kind: outcome.kind,
                location: if k + 1 == modules {
                    format!("classifier after module {}", k + 1)
                } else {
                    format!("aux head of module {}", k + 1)
                },
                value: *v,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::balanced_groups;

    #[test]
    fn balanced_groups_minimise_the_slowest_group() {
        assert_eq!(balanced_groups(&[1.0, 1.0, 1.0, 1.0], 2), vec![2, 2]);
        assert_eq!(balanced_groups(&[6.0, 1.0, 1.0, 1.0], 2), vec![1, 3]);
        assert_eq!(balanced_groups(&[1.0, 1.0, 1.0, 6.0], 2), vec![3, 1]);
        assert_eq!(
            balanced_groups(&[3.0, 3.0, 2.0, 2.0, 2.0], 3),
            vec![1, 2, 2],
            "3 | 3+2 | 2+2"
        );
        assert_eq!(balanced_groups(&[1.0, 2.0, 3.0], 3), vec![1, 1, 1]);
        assert_eq!(
            balanced_groups(&[1.0, 2.0], 5),
            vec![1, 1],
            "at most one worker per module"
        );
        let sizes = balanced_groups(&[0.5; 16], 4);
        assert_eq!(sizes, vec![4, 4, 4, 4]);
    }
}
