//! Combinators: `any(A,B,..)` (global when any inner schedule says global) and
//! `all(A,B,..)` (global only when all of them do). Every inner schedule is asked at every
//! step, so stateful inner schedules keep counting.
//!
//! `any(periodic:every=50, plateau:patience=20)` guides periodically *and* on plateaus;
//! `all(periodic:every=10, warmup:epochs=2,then=end-to-end)` is an "after" combinator.
//!
//! Both are one type, [`Combinator`], told apart by its [`Join`] rule; [`Any`] and [`All`]
//! name the two instances.

use std::marker::PhantomData;

use super::registry::{ScheduleEntry, ScheduleRegistry};
use super::spec::SpecNode;
use super::{GuidanceSchedule, ScheduleState};
use crate::error::CoreError;
use crate::step::{StepContext, StepKind};

/// `any` in the schedule table.
pub const ANY_ENTRY: ScheduleEntry = ScheduleEntry {
    name: Or::NAME,
    summary: "any(A,B,..): global when any inner schedule says global",
    build: build::<Or>,
};

/// `all` in the schedule table.
pub const ALL_ENTRY: ScheduleEntry = ScheduleEntry {
    name: And::NAME,
    summary: "all(A,B,..): global when every inner schedule says global",
    build: build::<And>,
};

fn build<J: Join>(
    node: &SpecNode,
    registry: &ScheduleRegistry,
) -> Result<Box<dyn GuidanceSchedule>, CoreError> {
    Ok(Box::new(Combinator::<J>::new(registry.build_args(node)?)))
}

/// How a [`Combinator`] joins the decisions of its inner schedules.
pub trait Join: std::fmt::Debug + Clone + Send + 'static {
    /// The combinator's name in specs.
    const NAME: &'static str;
    /// True when the combined step is global, given whether each inner schedule said global.
    fn is_global(inner_global: &[bool]) -> bool;
}

/// Logical or: the rule of [`Any`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Or;

impl Join for Or {
    const NAME: &'static str = "any";
    fn is_global(inner_global: &[bool]) -> bool {
        inner_global.iter().any(|g| *g)
    }
}

/// Logical and: the rule of [`All`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct And;

impl Join for And {
    const NAME: &'static str = "all";
    fn is_global(inner_global: &[bool]) -> bool {
        inner_global.iter().all(|g| *g)
    }
}

/// Asks every inner schedule at every step and joins their decisions with `J`. Inner states
/// are saved under `"0."`, `"1."`, … in the order written.
#[derive(Debug, Clone)]
pub struct Combinator<J: Join> {
    inner: Vec<Box<dyn GuidanceSchedule>>,
    join: PhantomData<J>,
}

/// Global when at least one inner schedule says global (logical or).
pub type Any = Combinator<Or>;

/// Global only when every inner schedule says global (logical and).
pub type All = Combinator<And>;

impl<J: Join> Combinator<J> {
    /// Combines `inner` (at least one schedule).
    pub fn new(inner: Vec<Box<dyn GuidanceSchedule>>) -> Self {
        Self {
            inner,
            join: PhantomData,
        }
    }
}

impl<J: Join> GuidanceSchedule for Combinator<J> {
    fn decide(&mut self, ctx: &StepContext<'_>) -> StepKind {
        let global: Vec<bool> = self
            .inner
            .iter_mut()
            .map(|s| s.decide(ctx) == StepKind::Global)
            .collect();
        if J::is_global(&global) {
            StepKind::Global
        } else {
            StepKind::Local
        }
    }
    fn spec(&self) -> String {
        let parts: Vec<String> = self.inner.iter().map(|s| s.spec()).collect();
        format!("{}({})", J::NAME, parts.join(","))
    }
    fn state(&self) -> ScheduleState {
        let mut state = ScheduleState::default();
        for (i, s) in self.inner.iter().enumerate() {
            state.nest(&i.to_string(), s.state());
        }
        state
    }
    fn restore(&mut self, state: &ScheduleState) -> Result<(), CoreError> {
        for (i, s) in self.inner.iter_mut().enumerate() {
            s.restore(&state.child(&i.to_string()))?;
        }
        Ok(())
    }
    fn clone_box(&self) -> Box<dyn GuidanceSchedule> {
        Box::new(self.clone())
    }
    fn uses_losses(&self) -> bool {
        self.inner.iter().any(|s| s.uses_losses())
    }
}
