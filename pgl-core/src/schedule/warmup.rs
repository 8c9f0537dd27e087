//! `warmup:epochs=E,then=SPEC`: end-to-end backprop for the first `E` epochs, then `SPEC`.
//!
//! The inner schedule is only consulted after the warm-up, so a stateful inner schedule starts
//! counting when the warm-up ends.

use super::{GuidanceSchedule, ScheduleState};
use crate::error::CoreError;
use crate::step::{StepContext, StepKind};

/// Global for the first `epochs` epochs, then whatever `then` decides.
#[derive(Debug)]
pub struct Warmup {
    epochs: u64,
    then: Box<dyn GuidanceSchedule>,
}

impl Warmup {
    /// Warm up for `epochs` epochs, then hand over to `then`.
    pub fn new(epochs: u64, then: Box<dyn GuidanceSchedule>) -> Self {
        Self { epochs, then }
    }
}

impl GuidanceSchedule for Warmup {
    fn decide(&mut self, ctx: &StepContext<'_>) -> StepKind {
        if ctx.epoch < self.epochs {
            StepKind::Global
        } else {
            self.then.decide(ctx)
        }
    }
    fn spec(&self) -> String {
        format!("warmup:epochs={},then={}", self.epochs, self.then.spec())
    }
    fn state(&self) -> ScheduleState {
        let mut state = ScheduleState::default();
        state.nest("then", self.then.state());
        state
    }
    fn restore(&mut self, state: &ScheduleState) -> Result<(), CoreError> {
        self.then.restore(&state.child("then"))
    }
    fn uses_losses(&self) -> bool {
        self.then.uses_losses()
    }
    fn clone_box(&self) -> Box<dyn GuidanceSchedule> {
        Box::new(Warmup {
            epochs: self.epochs,
            then: self.then.clone_box(),
        })
    }
}
