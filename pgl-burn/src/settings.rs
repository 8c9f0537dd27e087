//! [`TrainSettings`]: everything a [`Trainer`](crate::Trainer) needs besides the model, the
//! schedule and the device, complete before the trainer is built.

use std::fmt;
use std::sync::Arc;

use pgl_core::{CoreError, LrSchedule, LrScheduleRegistry, RunConfig};
use pgl_data::Augment;

use crate::memory::MemoryProbe;
use crate::optim::OptimizerSettings;

/// The typed settings of a trainer. Build them with [`TrainSettings::from_config`] and the
/// `with_*` methods; [`Trainer::new`](crate::Trainer::new) checks them against the model and
/// the schedule.
#[derive(Clone)]
pub struct TrainSettings {
    /// Base learning rate of every module's optimizer.
    pub lr: f64,
    /// Scales the base learning rate before every iteration.
    pub lr_schedule: Box<dyn LrSchedule>,
    /// The optimizer every module gets.
    pub optimizer: OptimizerSettings,
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
    /// Training augmentation (`None`: off).
    pub augment: Option<Augment>,
    /// Batches the background loader may prepare ahead of the trainer.
    pub prefetch: usize,
    /// Pipelined local steps with this many worker threads (`None`: sequential).
    pub pipeline: Option<usize>,
    /// Measures the peak memory of every step (reported per step kind in the epoch metrics).
    pub memory_probe: Option<Arc<dyn MemoryProbe>>,
}

impl TrainSettings {
    /// The settings of `config`, its learning-rate schedule built by the built-in registry
    /// (see [`with_lr_schedule`](Self::with_lr_schedule) for others); no augmentation and no
    /// memory probe (the caller knows the dataset's recipe and the process's allocator; see
    /// the `with_*` methods). Fails on a learning-rate schedule spec that does not build.
    pub fn from_config(config: &RunConfig) -> Result<Self, CoreError> {
        Ok(Self {
            lr: config.lr,
            lr_schedule: LrScheduleRegistry::with_builtins().build(&config.lr_schedule)?,
            optimizer: OptimizerSettings::from_config(config),
            aux_weight: config.aux_weight,
            batch_size: config.batch_size,
            eval_batch_size: config.batch_size.max(256),
            epochs: config.epochs,
            seed: config.seed,
            augment: None,
            prefetch: 4,
            pipeline: config.pipeline,
            memory_probe: None,
        })
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
    pub fn with_epochs(self, epochs: u64) -> Self {
        Self { epochs, ..self }
    }
}

impl fmt::Debug for TrainSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrainSettings")
            .field("lr", &self.lr)
            .field("lr_schedule", &self.lr_schedule.spec())
            .field("optimizer", &self.optimizer)
            .field("aux_weight", &self.aux_weight)
            .field("batch_size", &self.batch_size)
            .field("eval_batch_size", &self.eval_batch_size)
            .field("epochs", &self.epochs)
            .field("seed", &self.seed)
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
