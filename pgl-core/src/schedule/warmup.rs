//! `warmup:epochs=E[,clock=run|switch],then=SPEC`: end-to-end backprop for the first `E`
//! epochs, then `SPEC`.
//!
//! The inner schedule is only consulted after the warm-up, so a stateful inner schedule (such
//! as `plateau`) starts counting when the warm-up ends. What *time* the inner schedule reads is
//! the `clock`:
//!
//! - `clock=run` (the default): the run's own counters, as if the inner schedule had been
//!   counting from iteration 0. After `warmup:epochs=2,then=periodic:every=30` with 50
//!   iterations per epoch (warm-up = iterations 0..100), the first global step after the
//!   warm-up is iteration 119 (the last of the period 90..120). `unit=epochs` periods line up
//!   with the run's epoch numbers.
//! - `clock=switch`: time since the switch. The inner schedule sees epoch `e − E` and the
//!   iteration counted from the first step after the warm-up, so it behaves exactly as if the
//!   run had started there: the first global step above is iteration 100 + 29 = 129.
//!
//! `run` stays the default so that specs written before `clock` existed (and checkpoints made
//! with them) decide exactly as before; its canonical spec omits `clock`.

use super::registry::{ScheduleEntry, ScheduleRegistry};
use super::spec::{SpecArgs, SpecNode};
use super::{GuidanceSchedule, ScheduleState};
use crate::error::CoreError;
use crate::step::{StepContext, StepKind};

/// `warmup` in the schedule table.
pub const ENTRY: ScheduleEntry = ScheduleEntry {
    name: "warmup",
    summary: "epochs=E[,clock=run|switch][,then=SPEC]: end-to-end for E epochs, then SPEC \
              (default local-only) timed from the run's start (run, default) or the switch",
    build,
};

fn build(
    node: &SpecNode,
    registry: &ScheduleRegistry,
) -> Result<Box<dyn GuidanceSchedule>, CoreError> {
    let args = SpecArgs::new(node, &["epochs", "clock", "then"])?;
    let epochs = args.u64("epochs", None, 0)?;
    let clock = match args.choice("clock", &["run", "switch"], "run")? {
        "switch" => WarmupClock::Switch,
        _ => WarmupClock::Run,
    };
    let then = registry.build(args.raw("then").unwrap_or("local-only"))?;
    Ok(Box::new(Warmup::new(epochs, then).with_clock(clock)))
}

/// The time a [`Warmup`]'s inner schedule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WarmupClock {
    /// The run's own epoch and iteration counters (the default).
    #[default]
    Run,
    /// Epochs and iterations counted from the first step after the warm-up.
    Switch,
}

impl WarmupClock {
    /// The spelling used in specs: `run` or `switch`.
    pub fn as_str(self) -> &'static str {
        match self {
            WarmupClock::Run => "run",
            WarmupClock::Switch => "switch",
        }
    }
}

/// The state key holding the run iteration of the first step after the warm-up
/// (`clock=switch` only, once the switch has happened).
const SWITCH_KEY: &str = "switch_iteration";

/// Global for the first `epochs` epochs, then whatever `then` decides.
#[derive(Debug)]
pub struct Warmup {
    epochs: u64,
    clock: WarmupClock,
    then: Box<dyn GuidanceSchedule>,
    /// Run iteration of the first step after the warm-up, once seen (`clock=switch`).
    switch_iteration: Option<u64>,
}

impl Warmup {
    /// Warm up for `epochs` epochs, then hand over to `then`, on the run's clock.
    pub fn new(epochs: u64, then: Box<dyn GuidanceSchedule>) -> Self {
        Self {
            epochs,
            clock: WarmupClock::Run,
            then,
            switch_iteration: None,
        }
    }

    /// The same warm-up with `then` reading `clock`.
    pub fn with_clock(mut self, clock: WarmupClock) -> Self {
        self.clock = clock;
        self
    }

    /// The clock the inner schedule reads.
    pub fn clock(&self) -> WarmupClock {
        self.clock
    }
}

impl GuidanceSchedule for Warmup {
    fn decide(&mut self, ctx: &StepContext<'_>) -> StepKind {
        if ctx.epoch < self.epochs {
            return StepKind::Global;
        }
        match self.clock {
            WarmupClock::Run => self.then.decide(ctx),
            WarmupClock::Switch => {
                let start = *self.switch_iteration.get_or_insert(ctx.iteration);
                let shifted = StepContext {
                    epoch: ctx.epoch - self.epochs,
                    iteration: ctx.iteration.saturating_sub(start),
                    ..*ctx
                };
                self.then.decide(&shifted)
            }
        }
    }
    fn spec(&self) -> String {
        // `then` comes last: a nested spec with parameters takes the rest of the list.
        let clock = match self.clock {
            WarmupClock::Run => String::new(),
            other => format!(",clock={}", other.as_str()),
        };
        format!(
            "{}:epochs={}{clock},then={}",
            ENTRY.name,
            self.epochs,
            self.then.spec()
        )
    }
    fn state(&self) -> ScheduleState {
        let mut state = ScheduleState::default();
        state.nest("then", self.then.state());
        if let Some(start) = self.switch_iteration {
            state = state.with(SWITCH_KEY, start as f64);
        }
        state
    }
    fn restore(&mut self, state: &ScheduleState) -> Result<(), CoreError> {
        let switch_iteration = match state.values.get(SWITCH_KEY) {
            None => None,
            Some(_) if self.clock == WarmupClock::Run => {
                return Err(CoreError::StateMismatch {
                    schedule: self.spec(),
                    reason: format!("`{SWITCH_KEY}` is only kept with clock=switch"),
                });
            }
            Some(&v) if v >= 0.0 && v.fract() == 0.0 && v < 2f64.powi(53) => Some(v as u64),
            Some(&v) => {
                return Err(CoreError::StateMismatch {
                    schedule: self.spec(),
                    reason: format!("`{SWITCH_KEY}` must be a non-negative integer, got {v}"),
                });
            }
        };
        self.then.restore(&state.child("then"))?;
        self.switch_iteration = switch_iteration;
        Ok(())
    }
    fn uses_losses(&self) -> bool {
        self.then.uses_losses()
    }
    fn clone_box(&self) -> Box<dyn GuidanceSchedule> {
        Box::new(Warmup {
            epochs: self.epochs,
            clock: self.clock,
            then: self.then.clone_box(),
            switch_iteration: self.switch_iteration,
        })
    }
}
