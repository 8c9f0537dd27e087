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
use pgl_data::{Augment, DatasetSplits, EpochPlan, ImageDataset, for_each_batch};
use serde::{Deserialize, Serialize};

use crate::activation::{Activation, batch_tensors};
use crate::error::TrainError;
use crate::eval::{Evaluation, evaluate};
use crate::memory::MemoryProbe;
use crate::model::DecoupledModel;
use crate::optim::build_module_optimizers;

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
    probe: Option<Arc<dyn MemoryProbe>>,
}

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
            probe: None,
        }
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
        let mut model = self.take_model();
        let modules = model.num_modules();
        let mut losses = Vec::with_capacity(modules);
        let mut input = images;
        let lr = self.settings.lr;
        for k in 0..modules {
            let features = model.forward_module(k, input);
            let next_input = features.clone().detach();
            let loss = self.cross_entropy(model.head(k, features), labels.clone());
            let mut grads = loss.backward();
            let module_grads = model.module_grads(k, &mut grads);
            model = self.optimizers[k].step(lr, model, module_grads);
            losses.push(loss.detach());
            input = next_input;
        }
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
    /// every step and the epoch's metrics to `sink`.
    pub fn train_epoch(
        &mut self,
        data: &DatasetSplits,
        sink: &mut dyn EventSink,
    ) -> Result<EpochMetrics, TrainError> {
        let epoch = self.epochs_done;
        let plan = EpochPlan::new(
            &data.train,
            self.settings.batch_size,
            self.settings.seed,
            epoch,
            self.settings.augment,
        );
        let per_epoch = plan.order.num_batches() as u64;
        let modules = self.model().num_modules();
        let mut steps = [0u64; 2];
        let mut loss_sum = 0f64;
        let mut module_sums = vec![(0f64, 0u64); modules];
        let mut peaks: [Option<u64>; 2] = [None, None];
        let started = Instant::now();
        let device = self.device.clone();
        let probe = self.probe.clone();
        let loader = for_each_batch(&data.train, &plan, self.settings.prefetch, |b, batch| {
            let (images, labels) = batch_tensors(&batch, &device);
            let history: Vec<f32> = self.recent_losses.iter().copied().collect();
            let context = StepContext {
                epoch,
                iteration: self.iteration,
                iteration_in_epoch: b as u64,
                iterations_per_epoch: per_epoch,
                recent_losses: &history,
            };
            let kind = self.schedule.decide(&context);
            let slot = usize::from(kind == StepKind::Global);
            if let Some(probe) = &probe {
                probe.begin();
            }
            // A step ends by reading its losses back, which synchronises the device.
            let outcome = self.step(kind, images, labels);
            if let Some(probe) = &probe {
                let peak = probe.peak();
                peaks[slot] = Some(peaks[slot].map_or(peak, |p: u64| p.max(peak)));
            }
            check_finite(&outcome, epoch + 1, self.iteration + 1, b as u64 + 1)?;
            steps[slot] += 1;
            loss_sum += f64::from(outcome.loss);
            for (sum, value) in module_sums.iter_mut().zip(&outcome.module_losses) {
                if let Some(v) = value {
                    sum.0 += f64::from(*v);
                    sum.1 += 1;
                }
            }
            if self.recent_losses.len() == LOSS_HISTORY {
                self.recent_losses.pop_front();
            }
            self.recent_losses.push_back(outcome.loss);
            self.iteration += 1;
            sink.on_event(&TrainEvent::StepFinished {
                epoch: epoch + 1,
                iteration_in_epoch: b as u64,
                kind,
                loss: outcome.loss,
            });
            Ok::<(), TrainError>(())
        })?;
        let train_seconds = started.elapsed().as_secs_f64();
        sink.on_event(&TrainEvent::EvaluationStarted { epoch: epoch + 1 });
        let eval_started = Instant::now();
        let evaluation = self.evaluate(&data.test);
        self.epochs_done += 1;
        let metrics = EpochMetrics {
            epoch: epoch + 1,
            steps_local: steps[0],
            steps_global: steps[1],
            train_loss: loss_sum / per_epoch.max(1) as f64,
            module_train_loss: module_sums
                .iter()
                .map(|(sum, n)| (*n > 0).then(|| sum / *n as f64))
                .collect(),
            test_loss: evaluation.loss,
            test_accuracy: evaluation.accuracy,
            module_accuracy: evaluation.module_accuracy,
            train_seconds,
            data_wait_seconds: loader.wait.as_secs_f64(),
            peak_memory_bytes_local: peaks[0],
            peak_memory_bytes_global: peaks[1],
            eval_seconds: eval_started.elapsed().as_secs_f64(),
            images_per_second: data.train.len() as f64 / train_seconds.max(1e-9),
        };
        self.history.push(metrics.clone());
        sink.on_event(&TrainEvent::EpochFinished(metrics.clone()));
        Ok(metrics)
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

/// Reads a list of scalar losses in one transfer.
fn read_losses(losses: Vec<Tensor<1>>) -> Vec<f32> {
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
