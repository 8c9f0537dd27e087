//! [`TrainSettings`]: everything a [`Trainer`](crate::Trainer) needs besides the model, the
//! schedule and the device, complete before the trainer is built.

use std::fmt;
use std::sync::Arc;

use pgl_core::objective::WithSyntheticGradient;
use pgl_core::{
    CoreError, GuidanceConfig, LocalObjective, LrSchedule, LrScheduleRegistry, ObjectiveRegistry,
    OptimizerConfig, RunConfig, TrainingConfig,
};
use pgl_data::Augment;

use burn::prelude::Device;

use crate::error::TrainError;
use crate::memory::MemoryProbe;
use crate::model::DecoupledModel;
use crate::objective::{InputImages, ObjectiveHeads, TermEntry, TermRegistry, TermSetup};

/// The typed settings of a trainer. Build them with [`TrainSettings::from_config`] and the
/// `with_*` methods; [`Trainer::new`](crate::Trainer::new) checks them against the model and
/// the schedule.
///
/// The run configuration's groups the engine reads are held as they are (`training`,
/// `optimizer`, `guidance`): a setting such as `aux_weight` is the same field from the
/// command line to the step. Their spec strings are built once, here, into the plugins below.
#[derive(Clone)]
pub struct TrainSettings {
    /// Epochs `fit` runs, mini-batch size, seed of the data order and augmentation.
    pub training: TrainingConfig,
    /// The optimizer every module gets and its base learning rate (`lr`).
    pub optimizer: OptimizerConfig,
    /// How global steps run: aux weight, learning-rate scale, micro-batches, recomputation,
    /// replay, depth, synthetic gradients (handed to every global step as it is).
    pub guidance: GuidanceConfig,
    /// Scales the base learning rate before every iteration (built from
    /// `optimizer.lr_schedule`).
    pub lr_schedule: Box<dyn LrSchedule>,
    /// An extra factor of local steps' learning rate (`None`: none; built from
    /// `optimizer.local_lr_schedule`).
    pub local_lr_schedule: Option<Box<dyn LrSchedule>>,
    /// Batch size of evaluation.
    pub eval_batch_size: usize,
    /// Training augmentation (`None`: off).
    pub augment: Option<Augment>,
    /// Batches the background loader may prepare ahead of the trainer.
    pub prefetch: usize,
    /// Pipelined local steps with this many worker threads (`None`: sequential).
    pub pipeline: Option<usize>,
    /// Measures the peak memory of every step (reported per step kind in the epoch metrics).
    pub memory_probe: Option<Arc<dyn MemoryProbe>>,
    /// What each module learns from in a local step (see [`crate::objective`]).
    pub local_objective: Box<dyn LocalObjective>,
    /// The loss terms the local objective's terms are computed by (the built-ins unless
    /// [`with_loss_term`](Self::with_loss_term) adds one).
    pub loss_terms: TermRegistry,
    /// `[channels, height, width]` of the input images: needed to build the extra heads of an
    /// objective that has some (InfoPro's decoders reconstruct the image).
    pub input_shape: Option<[usize; 3]>,
    /// Per-channel `(mean, std)` the input images were normalised with: needed by InfoPro's
    /// binary cross-entropy reconstruction (`recon=bce`), which compares with the image in
    /// `[0, 1]`.
    pub input_normalization: Option<(Vec<f32>, Vec<f32>)>,
}

impl TrainSettings {
    /// The settings of `config`, its learning-rate schedule built by the built-in registry
    /// (see [`with_lr_schedule`](Self::with_lr_schedule) for others); no augmentation and no
    /// memory probe (the caller knows the dataset's recipe and the process's allocator; see
    /// the `with_*` methods). Fails on a learning-rate schedule or local objective spec that
    /// does not build. The local objective is built by the built-in registry (see
    /// [`with_local_objective`](Self::with_local_objective) for others); an objective with
    /// extra heads also needs [`with_input_shape`](Self::with_input_shape), and one with InfoPro's
    /// binary cross-entropy reconstruction
    /// [`with_input_normalization`](Self::with_input_normalization).
    pub fn from_config(config: &RunConfig) -> Result<Self, CoreError> {
        let lr_schedules = LrScheduleRegistry::with_builtins();
        Self::from_config_with(config, &lr_schedules, &ObjectiveRegistry::with_builtins())
    }

    /// [`from_config`](Self::from_config) with the learning-rate schedules and local
    /// objectives of `lr_schedules` and `objectives` (the built-ins and a program's own): each
    /// spec of `config` is built once, here.
    pub fn from_config_with(
        config: &RunConfig,
        lr_schedules: &LrScheduleRegistry,
        objectives: &ObjectiveRegistry,
    ) -> Result<Self, CoreError> {
        Ok(Self {
            lr_schedule: lr_schedules.build(&config.optimizer.lr_schedule)?,
            local_objective: objectives.build(&config.objective.local_objective)?,
            loss_terms: TermRegistry::with_builtins(),
            input_shape: None,
            input_normalization: None,
            local_lr_schedule: config
                .optimizer
                .local_lr_schedule
                .as_deref()
                .map(|spec| lr_schedules.build(spec))
                .transpose()?,
            eval_batch_size: config.training.batch_size.max(256),
            training: config.training.clone(),
            optimizer: config.optimizer.clone(),
            guidance: config.guidance.clone(),
            augment: None,
            prefetch: 4,
            pipeline: config.runtime.pipeline,
            memory_probe: None,
        })
    }

    /// The extra heads the local objective needs for `model`, after checking that it can
    /// train it and that the settings fit its K (`global_depth` at most K, and not combined
    /// with micro-batches or checkpointed global steps).
    pub(crate) fn objective_heads<M: DecoupledModel>(
        &self,
        model: &M,
        device: &Device,
    ) -> Result<ObjectiveHeads, TrainError> {
        let modules = model.num_modules();
        pgl_core::objective::check_modules(&*self.local_objective, modules)?;
        self.check_global_depth(modules)?;
        self.check_synthetic_gradient()?;
        let objective = self.objective_with_synthetic_gradient();
        let objective = &*objective;
        let missing = |what: &str| invalid("local_objective", objective.spec(), what);
        let plain = (0..modules).all(|k| objective.terms(k, modules).is_ce());
        if objective.is_plain_ce() || plain {
            return Ok(ObjectiveHeads::none());
        }
        let shape = self.input_shape.ok_or_else(|| {
            missing(
                "the input shape in the trainer's settings (TrainSettings::with_input_shape): \
                 its extra heads depend on it",
            )
        })?;
        let input = match &self.input_normalization {
            Some((mean, std)) => InputImages::new(shape, mean.clone(), std.clone()),
            None => InputImages::unnormalised(shape),
        };
        let setup = TermSetup {
            input: &input,
            normalisation_known: self.input_normalization.is_some(),
        };
        let terms = &self.loss_terms;
        ObjectiveHeads::build_with(objective, terms, model, &setup, self.training.seed, device)
            .map_err(|e| missing(&e.to_string()))
    }

    /// The local objective, with the synthetic-gradient term when `synthetic_gradient > 0`.
    fn objective_with_synthetic_gradient(&self) -> Box<dyn LocalObjective> {
        let alpha = self.guidance.synthetic_gradient;
        if alpha > 0.0 {
            Box::new(WithSyntheticGradient {
                objective: self.local_objective.clone(),
                alpha,
            })
        } else {
            self.local_objective.clone()
        }
    }

    /// Synthetic gradients learn from whole-batch, full-depth global steps.
    fn check_synthetic_gradient(&self) -> Result<(), TrainError> {
        let alpha = self.guidance.synthetic_gradient;
        if alpha == 0.0 {
            return Ok(());
        }
        if !(alpha.is_finite() && alpha > 0.0) {
            let expected = "a finite number >= 0 (0: off)";
            return Err(invalid("synthetic_gradient", alpha.to_string(), expected));
        }
        if self.guidance.microbatches() > 1 || self.guidance.global_depth.is_some() {
            let expected = "no global_microbatch or global_depth: the predictors learn from \
                            the boundary gradients of whole-batch, full-depth global steps";
            return Err(invalid("synthetic_gradient", alpha.to_string(), expected));
        }
        Ok(())
    }

    /// `global_depth` is at most K and runs whole-batch, uncheckpointed global steps.
    fn check_global_depth(&self, modules: usize) -> Result<(), TrainError> {
        let Some(depth) = self.guidance.global_depth else {
            return Ok(());
        };
        let value = depth.to_string();
        if depth == 0 || depth > modules {
            let expected = format!("an integer in [1, {modules}] (the model's K)");
            return Err(invalid("global_depth", value, &expected));
        }
        if self.guidance.microbatches() > 1 || self.guidance.global_checkpointing {
            let expected = "no global_microbatch or global_checkpointing: partial global \
                            steps run whole-batch, plain backward passes";
            return Err(invalid("global_depth", value, expected));
        }
        Ok(())
    }

    /// The same settings with the loss term `entry` among those local objectives can use (a
    /// term of your own crate: a [`TermEntry`] whose name your objective's terms give);
    /// refused when its name is taken.
    pub fn with_loss_term(mut self, entry: TermEntry) -> Result<Self, CoreError> {
        self.loss_terms.register(entry)?;
        Ok(self)
    }

    /// The same settings with the local objective `local_objective`.
    pub fn with_local_objective(self, local_objective: Box<dyn LocalObjective>) -> Self {
        Self {
            local_objective,
            ..self
        }
    }

    /// The same settings for input images of shape `[channels, height, width]`.
    pub fn with_input_shape(self, input_shape: [usize; 3]) -> Self {
        Self {
            input_shape: Some(input_shape),
            ..self
        }
    }

    /// The same settings for input images normalised per channel with `mean` and `std` (the
    /// dataset's: `ImageDataset::{mean, std}`).
    pub fn with_input_normalization(self, mean: Vec<f32>, std: Vec<f32>) -> Self {
        Self {
            input_normalization: Some((mean, std)),
            ..self
        }
    }

    /// The same settings with the learning-rate schedule `lr_schedule`.
    pub fn with_lr_schedule(self, lr_schedule: Box<dyn LrSchedule>) -> Self {
        Self {
            lr_schedule,
            ..self
        }
    }

    /// The same settings with training augmentation `augment`.
    pub fn with_augment(self, augment: Option<Augment>) -> Self {
        Self { augment, ..self }
    }

    /// The same settings with local steps pipelined over `workers` threads (`None`: none).
    pub fn with_pipeline(self, workers: Option<usize>) -> Self {
        Self {
            pipeline: workers,
            ..self
        }
    }

    /// The same settings with step memory measured by `probe`.
    pub fn with_memory_probe(self, probe: Option<Arc<dyn MemoryProbe>>) -> Self {
        Self {
            memory_probe: probe,
            ..self
        }
    }

    /// The same settings running `epochs` epochs.
    pub fn with_epochs(mut self, epochs: u64) -> Self {
        self.training.epochs = epochs;
        self
    }
}

impl fmt::Debug for TrainSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrainSettings")
            .field("training", &self.training)
            .field("lr_schedule", &self.lr_schedule.spec())
            .field("local_objective", &self.local_objective.spec())
            .field("input_shape", &self.input_shape)
            .field("input_normalization", &self.input_normalization)
            .field("optimizer", &self.optimizer)
            .field("guidance", &self.guidance)
            .field(
                "local_lr_schedule",
                &self.local_lr_schedule.as_ref().map(|s| s.spec()),
            )
            .field("eval_batch_size", &self.eval_batch_size)
            .field("augment", &self.augment)
            .field("prefetch", &self.prefetch)
            .field("pipeline", &self.pipeline)
            .field(
                "memory_probe",
                &self.memory_probe.as_ref().map(|p| p.describe()),
            )
            .finish()
    }
}

/// A configuration error naming `field` of the run configuration.
fn invalid(field: &str, value: String, expected: &str) -> TrainError {
    TrainError::Core(CoreError::InvalidConfig {
        field: field.to_string(),
        value,
        expected: expected.to_string(),
    })
}
