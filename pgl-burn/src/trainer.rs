//! [`Trainer`]: runs the local and global steps a guidance schedule chooses, epoch after
//! epoch. The loop reads like the algorithm — ask the schedule, run a step, record it — and
//! delegates the rest: the steps themselves to [`step`](crate::step), pipelined local steps
//! to [`pipeline`](crate::pipeline), epoch bookkeeping and metrics to [`epoch`](crate::epoch).

use std::time::Instant;

use burn::nn::loss::CrossEntropyLoss;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use pgl_core::{EpochMetrics, EventSink, GuidanceSchedule, StepKind, TrainEvent};

mod epoch_loop;
use pgl_data::{DatasetSplits, ImageDataset};

use crate::activation::Activation;
use crate::diagnose::explain_non_finite;
use crate::epoch::EpochPosition;
use crate::error::TrainError;
use crate::eval::{Evaluation, evaluate};
use crate::interrupt::StopHandle;
use crate::local_steps::LocalSteps;
use crate::model::DecoupledModel;
use crate::objective::ObjectiveHeads;
use crate::optim::BuildOptimizers;
use crate::progress::{RunRecord, TrainerProgress, TrainerState};
use crate::replay::ReplayBuffer;
use crate::settings::TrainSettings;
use crate::state::ModelState;
use crate::step::{StepAt, StepOutcome};

/// Why [`Trainer::state`] is always there outside [`Trainer::train_epoch`] and
/// [`Trainer::step`], the only two places that lend it out (to a step, or to the epoch's
/// pipeline segments) and always put it back.
const HELD: &str = "the trainer holds its model state between steps";

/// The batch's input images and labels, as tensors on the training device.
type BatchTensors = (Activation, Tensor<1, Int>);

/// Trains a [`DecoupledModel`] with one optimizer per module, following a guidance schedule.
///
/// The settings come from a [`RunConfig`](pgl_core::RunConfig) (the same one `pgl train`
/// writes to `config.json`), the schedule from a spec string; [`fit`](Self::fit) trains for
/// the configured epochs and returns each epoch's metrics:
///
/// ```
/// use pgl_burn::burn::module::Module;
/// use pgl_burn::burn::nn::{Linear, LinearConfig, Relu};
/// use pgl_burn::burn::prelude::*;
/// use pgl_burn::{Activation, Stage, StagedNet, TrainSettings, Trainer};
/// use pgl_core::{NullSink, RunConfig, ScheduleRegistry};
/// use pgl_data::DatasetSplits;
/// use pgl_data::dataset::ImageShape;
/// use pgl_data::synthetic::random_images;
///
/// /// A linear layer with a ReLU, and a linear head.
/// #[derive(Module, Debug)]
/// struct Dense {
///     body: Linear,
///     head: Linear,
/// }
///
/// impl Stage for Dense {
///     fn forward(&self, input: Activation) -> Activation {
///         Activation::Flat(Relu::new().forward(self.body.forward(input.into_flat())))
///     }
///     fn head(&self, features: Activation) -> Tensor<2> {
///         self.head.forward(features.into_flat())
///     }
/// }
///
/// let device = Device::flex().autodiff();
/// let dense = |inputs, outputs| Dense {
///     body: LinearConfig::new(inputs, outputs).init(&device),
///     head: LinearConfig::new(outputs, 10).init(&device),
/// };
/// let net = StagedNet::new(vec![dense(16, 32), dense(32, 32)]);
///
/// // K = 2 modules, one epoch of batches of 16, a global step after every local one.
/// let mut config = RunConfig::default();
/// config.model.modules = 2;
/// config.training.epochs = 1;
/// config.training.batch_size = 16;
/// config.guidance.schedule = "periodic:every=2".to_string();
/// let schedule = ScheduleRegistry::with_builtins().build(&config.guidance.schedule).unwrap();
/// let settings = TrainSettings::from_config(&config).unwrap().with_input_shape([1, 4, 4]);
/// let mut trainer = Trainer::new(net, schedule, settings, &device).unwrap();
///
/// let shape = ImageShape::new(1, 4, 4);
/// let data = DatasetSplits {
///     train: random_images(shape, 10, 64, 1),
///     test: random_images(shape, 10, 32, 2),
/// };
/// let history = trainer.fit(&data, &mut NullSink).unwrap();
/// let epoch = &history[0];
/// assert_eq!((epoch.steps_local, epoch.steps_global), (2, 2));
/// assert!(epoch.train_loss.is_finite());
/// ```
pub struct Trainer<M: DecoupledModel> {
    /// The model, the local objective's extra heads and every optimizer (see [`HELD`]).
    state: Option<ModelState<M>>,
    /// The gradients the latest global step left for local steps to replay (`None`: replay
    /// off, or no global step yet).
    replay: Option<ReplayBuffer<M>>,
    schedule: Box<dyn GuidanceSchedule>,
    settings: TrainSettings,
    device: Device,
    loss_fn: CrossEntropyLoss,
    /// Counters, recent losses, metrics.
    record: RunRecord,
    /// Sequential or pipelined local steps.
    local_steps: LocalSteps,
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
        let local_steps = LocalSteps::new(settings.pipeline, modules, &*schedule)?;
        let optimizers = settings.optimizer.build_per_module(&model, modules);
        let heads = settings.objective_heads(&model, device)?;
        Ok(Self {
            state: Some(ModelState {
                model,
                heads,
                optimizers,
            }),
            replay: None,
            schedule,
            settings,
            device: device.clone(),
            loss_fn: CrossEntropyLoss::new(None, device),
            record: RunRecord::default(),
            local_steps,
            stop: StopHandle::default(),
        })
    }

    fn held(&self) -> &ModelState<M> {
        self.state.as_ref().expect(HELD)
    }

    fn held_mut(&mut self) -> &mut ModelState<M> {
        self.state.as_mut().expect(HELD)
    }

    /// A handle that stops this trainer (and no other) at the next batch boundary, with
    /// [`TrainError::Interrupted`]; usable from another thread or an event sink.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// The model being trained.
    pub fn model(&self) -> &M {
        &self.held().model
    }

    /// Consumes the trainer, returning the model.
    pub fn into_model(self) -> M {
        self.state.expect(HELD).model
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
        self.local_steps.groups()
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
        &self.held().optimizers
    }

    /// The local objective's extra heads (empty when it has none).
    pub fn objective_heads(&self) -> &ObjectiveHeads {
        &self.held().heads
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

    /// A copy of everything [`restore`](Self::restore) continues from: weights, optimizer
    /// states, the local objective's heads and progress.
    pub fn state(&self) -> TrainerState<M> {
        TrainerState {
            model: self.model().clone(),
            optimizers: self.optimizers().to_vec(),
            objective_heads: Some(self.objective_heads().clone()),
            progress: self.progress(),
        }
    }

    /// Continues from `state` (saved from a trainer of the same configuration and schedule):
    /// weights, optimizer states, the objective's heads (when `state` has them), counters,
    /// schedule state and metrics.
    pub fn restore(&mut self, state: TrainerState<M>) -> Result<(), TrainError> {
        let expected = self.optimizers().len();
        if state.optimizers.len() != expected {
            return Err(TrainError::Pipeline {
                reason: format!(
                    "{} optimizers restored for {expected} modules",
                    state.optimizers.len(),
                ),
            });
        }
        let lr_schedule = &mut *self.settings.lr_schedule;
        self.record = RunRecord::load(state.progress, &mut *self.schedule, lr_schedule)?;
        let held = self.held_mut();
        held.model = state.model;
        held.optimizers = state.optimizers;
        if let Some(heads) = state.objective_heads {
            held.heads = heads;
        }
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
            lr: self.settings.optimizer.lr,
        };
        let state = self.state.take().expect(HELD);
        let (state, outcome) = self.run_here(state, kind, (images, labels), at, &mut Vec::new());
        self.state = Some(state);
        outcome.map_err(|e| explain_non_finite(e, self.model(), self.objective_heads()))
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

    /// Evaluates the finished epoch, appends its metrics to the history and reports them.
    pub(super) fn finish_epoch(
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
        let per_epoch = data.train.len().div_ceil(self.settings.training.batch_size) as u64;
        sink.on_event(&TrainEvent::RunStarted {
            epochs: self.settings.training.epochs,
            iterations_per_epoch: per_epoch,
        });
        while self.record.epochs_done < self.settings.training.epochs {
            self.train_epoch(data, sink)?;
            after_epoch(self)?;
        }
        Ok(self.record.history.clone())
    }
}
