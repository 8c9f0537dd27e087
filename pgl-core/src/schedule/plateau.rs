//! `plateau:patience=P,len=L,min_delta=D`: adaptive guidance from the loss history.
//!
//! The schedule tracks the best classifier loss seen so far. When `P` consecutive steps bring
//! no improvement of more than `D` over it, the next `L` steps are global; then the best loss is
//! reset to the latest one and counting starts again. This is the "adaptive trigger" of the
//! design: local learning runs freely until it stalls, then the global objective pulls it back.

use super::registry::{ScheduleEntry, ScheduleRegistry};
use super::spec::{SpecArgs, SpecNode};
use super::{GuidanceSchedule, ScheduleState};
use crate::error::CoreError;
use crate::step::{StepContext, StepKind};

/// `plateau` in the schedule table.
pub const ENTRY: ScheduleEntry = ScheduleEntry {
    name: "plateau",
    summary: "patience=P[,len=L][,min_delta=D]: L global steps when the loss stalls for P steps",
    build,
};

fn build(node: &SpecNode, _: &ScheduleRegistry) -> Result<Box<dyn GuidanceSchedule>, CoreError> {
    let args = SpecArgs::new(node, &["patience", "len", "min_delta"])?;
    Ok(Box::new(Plateau::new(
        args.u64("patience", None, 1)?,
        args.u64("len", Some(1), 1)?,
        args.non_negative_f64("min_delta", 0.0)?,
    )?))
}

/// Global guidance triggered when the loss stops improving.
#[derive(Debug, Clone, PartialEq)]
pub struct Plateau {
    patience: u64,
    len: u64,
    min_delta: f64,
    best: f64,
    since_best: u64,
    global_left: u64,
}

impl Plateau {
    /// A plateau trigger; `patience >= 1`, `len >= 1`, `min_delta >= 0` (finite).
    pub fn new(patience: u64, len: u64, min_delta: f64) -> Result<Self, CoreError> {
        let bad = |key: &str, value: String, expected: &str| CoreError::BadValue {
            schedule: ENTRY.name.to_string(),
            key: key.to_string(),
            value,
            expected: expected.to_string(),
        };
        // Counters are saved as f64 in checkpoints: keep them exact.
        let max = crate::schedule::spec::MAX_SPEC_INTEGER;
        let expected = format!("an integer >= 1 (at most {max})");
        if patience == 0 || patience > max {
            return Err(bad("patience", patience.to_string(), &expected));
        }
        if len == 0 || len > max {
            return Err(bad("len", len.to_string(), &expected));
        }
        if !(min_delta.is_finite() && min_delta >= 0.0) {
            return Err(bad(
                "min_delta",
                min_delta.to_string(),
                "a finite number >= 0",
            ));
        }
        Ok(Self {
            patience,
            len,
            min_delta,
            best: f64::INFINITY,
            since_best: 0,
            global_left: 0,
        })
    }
}

impl GuidanceSchedule for Plateau {
    fn decide(&mut self, ctx: &StepContext<'_>) -> StepKind {
        if let Some(&latest) = ctx.recent_losses.last() {
            let latest = f64::from(latest);
            if latest.is_finite() && latest < self.best - self.min_delta {
                self.best = latest;
                self.since_best = 0;
            } else {
                self.since_best += 1;
            }
            if self.global_left == 0 && self.since_best >= self.patience {
                self.global_left = self.len;
                self.since_best = 0;
                self.best = if latest.is_finite() {
                    latest
                } else {
                    f64::INFINITY
                };
            }
        }
        if self.global_left > 0 {
            self.global_left -= 1;
            StepKind::Global
        } else {
            StepKind::Local
        }
    }
    fn spec(&self) -> String {
        format!(
            "{}:patience={},len={},min_delta={}",
            ENTRY.name, self.patience, self.len, self.min_delta
        )
    }
    fn state(&self) -> ScheduleState {
        ScheduleState::default()
            .with("best", self.best)
            .with("since_best", self.since_best as f64)
            .with("global_left", self.global_left as f64)
    }
    fn restore(&mut self, state: &ScheduleState) -> Result<(), CoreError> {
        let spec = self.spec();
        let best = state.require(&spec, "best")?;
        let since_best = state.require(&spec, "since_best")?;
        let global_left = state.require(&spec, "global_left")?;
        let counter_ok = |v: f64| v >= 0.0 && v.fract() == 0.0 && v < 2f64.powi(53);
        if !counter_ok(since_best) || !counter_ok(global_left) || best.is_nan() {
            return Err(CoreError::StateMismatch {
                schedule: spec,
                reason: format!(
                    "counters must be non-negative integers (since_best={since_best}, global_left={global_left}, best={best})"
                ),
            });
        }
        self.best = best;
        self.since_best = since_best as u64;
        self.global_left = global_left as u64;
        Ok(())
    }
    fn clone_box(&self) -> Box<dyn GuidanceSchedule> {
        Box::new(self.clone())
    }
    fn uses_losses(&self) -> bool {
        true
    }
}
