//! `growing:every=N`: periodic guidance whose period grows every epoch — front-loaded
//! guidance, an example of a guidance schedule written outside pgl.
//!
//! In epoch e (0-based) the period is N·(e+1) iterations: the last iteration of every period
//! is a global step, counted from the start of the epoch. The share of global steps therefore
//! falls from about 1/N in the first epoch to 1/(N·E) in the last. The schedule keeps no state:
//! its decision is a function of the step's clock, so it resumes from a checkpoint for free.

#![deny(missing_docs)]

use pgl_core::schedule::{SpecArgs, SpecNode};
use pgl_core::{CoreError, GuidanceSchedule, ScheduleRegistry, StepContext, StepKind};

/// The name the schedule registers under.
pub const NAME: &str = "growing";

/// The line `pgl schedules` shows for it.
pub const SUMMARY: &str =
    "every=N: in epoch e the last of every N*(e+1) steps is global (front-loaded guidance)";

/// Front-loaded periodic guidance (see the crate documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Growing {
    every: u64,
}

impl Growing {
    /// The schedule with base period `every` (at least 1).
    pub fn new(every: u64) -> Result<Self, CoreError> {
        if every == 0 {
            return Err(CoreError::BadValue {
                schedule: NAME.to_string(),
                key: "every".to_string(),
                value: every.to_string(),
                expected: "an integer >= 1".to_string(),
            });
        }
        Ok(Self { every })
    }

    /// The period in epoch `epoch` (0-based).
    pub fn period(&self, epoch: u64) -> u64 {
        self.every.saturating_mul(epoch.saturating_add(1))
    }
}

impl GuidanceSchedule for Growing {
    fn decide(&mut self, ctx: &StepContext<'_>) -> StepKind {
        let period = self.period(ctx.epoch);
        if (ctx.iteration_in_epoch + 1).is_multiple_of(period) {
            StepKind::Global
        } else {
            StepKind::Local
        }
    }

    fn spec(&self) -> String {
        format!("{NAME}:every={}", self.every)
    }

    fn clone_box(&self) -> Box<dyn GuidanceSchedule> {
        Box::new(*self)
    }
}

/// Builds `growing:every=N` from its parsed spec (registered with
/// [`ScheduleRegistry::register`] or [`pgl_cli::App::with_schedule`]).
pub fn build(
    node: &SpecNode,
    _: &ScheduleRegistry,
) -> Result<Box<dyn GuidanceSchedule>, CoreError> {
    let args = SpecArgs::new(node, &["every"])?;
    Ok(Box::new(Growing::new(args.u64("every", None, 1)?)?))
}

/// The built-in schedules plus this one.
pub fn registry() -> ScheduleRegistry {
    let mut registry = ScheduleRegistry::with_builtins();
    registry
        .register(NAME, SUMMARY, build)
        .expect("`growing` is not a built-in name");
    registry
}
