//! Combinators: `any(A,B,..)` (global when any inner schedule says global) and
//! `all(A,B,..)` (global only when all of them do). Every inner schedule is asked at every
//! step, so stateful inner schedules keep counting.
//!
//! `any(periodic:every=50, plateau:patience=20)` guides periodically *and* on plateaus;
//! `all(periodic:every=10, warmup:epochs=2,then=end-to-end)` is an "after" combinator.

use super::{GuidanceSchedule, ScheduleState};
use crate::error::CoreError;
use crate::step::{StepContext, StepKind};

fn decide_all(inner: &mut [Box<dyn GuidanceSchedule>], ctx: &StepContext<'_>) -> Vec<StepKind> {
    inner.iter_mut().map(|s| s.decide(ctx)).collect()
}

fn spec_of(name: &str, inner: &[Box<dyn GuidanceSchedule>]) -> String {
    let parts: Vec<String> = inner.iter().map(|s| s.spec()).collect();
    format!("{name}({})", parts.join(","))
}

fn state_of(inner: &[Box<dyn GuidanceSchedule>]) -> ScheduleState {
    let mut state = ScheduleState::default();
    for (i, s) in inner.iter().enumerate() {
        state.nest(&i.to_string(), s.state());
    }
    state
}

fn restore_all(
    inner: &mut [Box<dyn GuidanceSchedule>],
    state: &ScheduleState,
) -> Result<(), CoreError> {
    for (i, s) in inner.iter_mut().enumerate() {
        s.restore(&state.child(&i.to_string()))?;
    }
    Ok(())
}

/// Global when at least one inner schedule says global (logical or).
#[derive(Debug, Clone)]
pub struct Any {
    inner: Vec<Box<dyn GuidanceSchedule>>,
}

impl Any {
    /// Combines `inner` (at least one schedule).
    pub fn new(inner: Vec<Box<dyn GuidanceSchedule>>) -> Self {
        Self { inner }
    }
}

impl GuidanceSchedule for Any {
    fn decide(&mut self, ctx: &StepContext<'_>) -> StepKind {
        if decide_all(&mut self.inner, ctx).contains(&StepKind::Global) {
            StepKind::Global
        } else {
            StepKind::Local
        }
    }
    fn spec(&self) -> String {
        spec_of("any", &self.inner)
    }
    fn state(&self) -> ScheduleState {
        state_of(&self.inner)
    }
    fn restore(&mut self, state: &ScheduleState) -> Result<(), CoreError> {
        restore_all(&mut self.inner, state)
    }
    fn clone_box(&self) -> Box<dyn GuidanceSchedule> {
        Box::new(self.clone())
    }
    fn uses_losses(&self) -> bool {
        self.inner.iter().any(|s| s.uses_losses())
    }
}

/// Global only when every inner schedule says global (logical and).
#[derive(Debug, Clone)]
pub struct All {
    inner: Vec<Box<dyn GuidanceSchedule>>,
}

impl All {
    /// Combines `inner` (at least one schedule).
    pub fn new(inner: Vec<Box<dyn GuidanceSchedule>>) -> Self {
        Self { inner }
    }
}

impl GuidanceSchedule for All {
    fn decide(&mut self, ctx: &StepContext<'_>) -> StepKind {
        if decide_all(&mut self.inner, ctx)
            .iter()
            .all(|k| *k == StepKind::Global)
        {
            StepKind::Global
        } else {
            StepKind::Local
        }
    }
    fn spec(&self) -> String {
        spec_of("all", &self.inner)
    }
    fn state(&self) -> ScheduleState {
        state_of(&self.inner)
    }
    fn restore(&mut self, state: &ScheduleState) -> Result<(), CoreError> {
        restore_all(&mut self.inner, state)
    }
    fn clone_box(&self) -> Box<dyn GuidanceSchedule> {
        Box::new(self.clone())
    }
    fn uses_losses(&self) -> bool {
        self.inner.iter().any(|s| s.uses_losses())
    }
}
