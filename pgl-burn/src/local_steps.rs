//! How local steps run ([`LocalSteps`]: one after another on the trainer's thread, or through
//! a pipeline of worker threads) and where the model state is during an epoch ([`Held`]: with
//! the trainer, or split among a running pipeline's workers).

use burn::prelude::Device;
use pgl_core::GuidanceSchedule;

use crate::error::TrainError;
use crate::model::DecoupledModel;
use crate::pipeline::{Finished, PipelinePlan, Segment, Work};
use crate::replay::ReplayBuffer;
use crate::state::ModelState;

/// How a trainer runs its local steps.
pub(crate) enum LocalSteps {
    /// On the trainer's thread, module after module.
    Sequential,
    /// Through a pipeline of worker threads (see [`crate::pipeline`]), once its plan is
    /// calibrated; sequentially until then.
    Pipelined(PipelinePlan),
}

impl LocalSteps {
    /// Sequential local steps without `workers`, otherwise a pipeline of that many workers
    /// for a model of `modules` modules trained with `schedule` (or why it cannot run).
    pub fn new(
        workers: Option<usize>,
        modules: usize,
        schedule: &dyn GuidanceSchedule,
    ) -> Result<Self, TrainError> {
        Ok(match workers {
            None => Self::Sequential,
            Some(workers) => Self::Pipelined(PipelinePlan::new(workers, modules, schedule)?),
        })
    }

    /// Module counts of the pipeline's groups once calibrated (`None`: local steps run
    /// sequentially now).
    pub fn groups(&self) -> Option<&[usize]> {
        match self {
            Self::Sequential => None,
            Self::Pipelined(plan) => plan.groups(),
        }
    }

    /// Records the per-module seconds of a local step run sequentially (the pipeline's
    /// calibration: its groups follow the costs).
    pub fn add_timings(&mut self, timings: &[f64]) {
        if let Self::Pipelined(plan) = self {
            plan.add_timings(timings);
        }
    }
}

/// Where the model state is during an epoch.
pub(crate) enum Held<'scope, M> {
    /// With the trainer, ready for a step on its thread.
    Here(ModelState<M>),
    /// Split among the workers of a running pipeline segment.
    Pipelined(Segment<'scope, M>),
}

/// What a pipelined local step needs to start a segment when none runs.
pub(crate) struct SegmentStart<'a, M> {
    /// The gradients to replay (each worker gets its group's copy).
    pub replay: Option<&'a ReplayBuffer<M>>,
    /// The module counts of the groups.
    pub groups: &'a [usize],
    /// The training device.
    pub device: &'a Device,
}

impl<'scope, M: DecoupledModel + Send + 'scope> Held<'scope, M> {
    /// Sends one batch into the pipeline, starting a segment first when the state is here;
    /// `work_for` makes the batch's work item knowing whether it must carry the images.
    pub fn pipeline<'env>(
        self,
        scope: &'scope std::thread::Scope<'scope, 'env>,
        start: SegmentStart<'_, M>,
        work_for: impl FnOnce(bool) -> Work,
    ) -> Self {
        let mut segment = match self {
            Self::Pipelined(segment) => segment,
            Self::Here(state) => {
                let replay = start.replay.cloned();
                Segment::start(scope, state, replay, start.groups, start.device)
            }
        };
        // A failed worker closes its queue; its error comes out when the segment drains.
        let work = work_for(segment.needs_images());
        segment.send(work);
        Self::Pipelined(segment)
    }

    /// The whole state back here: drains a running segment (see [`Finished`]; nothing to
    /// record when the state was here already).
    pub fn gather(self) -> Finished<M> {
        match self {
            Self::Here(state) => Finished {
                state,
                losses: Vec::new(),
                error: None,
            },
            Self::Pipelined(segment) => segment.finish(),
        }
    }
}
