//! `periodic:every=N,len=L,unit=iters|epochs`: periodic global guidance.
//!
//! Time is cut into periods of `every` units (iterations or epochs); the last `len` units of
//! every period are global, the others local. With `unit=iters` and `len=1`, exactly
//! `floor(T / every)` of `T` iterations are global.

use super::GuidanceSchedule;
use super::registry::{ScheduleEntry, ScheduleRegistry};
use super::spec::{SpecArgs, SpecNode};
use crate::error::CoreError;
use crate::step::{StepContext, StepKind};

/// `periodic` in the schedule table.
pub const ENTRY: ScheduleEntry = ScheduleEntry {
    name: "periodic",
    summary: "every=N[,len=L][,unit=iters|epochs]: the last L of every N steps/epochs are global",
    build,
};

fn build(node: &SpecNode, _: &ScheduleRegistry) -> Result<Box<dyn GuidanceSchedule>, CoreError> {
    let args = SpecArgs::new(node, &["every", "len", "unit"])?;
    let every = args.u64("every", None, 1)?;
    let len = args.u64("len", Some(1), 1)?;
    let unit = match args.choice("unit", &["iters", "epochs"], "iters")? {
        "epochs" => PeriodUnit::Epochs,
        _ => PeriodUnit::Iterations,
    };
    Ok(Box::new(Periodic::new(every, len, unit)?))
}

/// What a [`Periodic`] schedule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodUnit {
    /// Global iterations (mini-batches).
    Iterations,
    /// Epochs: a global epoch is global for every one of its steps.
    Epochs,
}

impl PeriodUnit {
    /// The spelling used in specs: `iters` or `epochs`.
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodUnit::Iterations => "iters",
            PeriodUnit::Epochs => "epochs",
        }
    }
}

/// The last `len` of every `every` units are global.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Periodic {
    every: u64,
    len: u64,
    unit: PeriodUnit,
}

impl Periodic {
    /// A periodic schedule; `every >= 1` and `1 <= len <= every`, else an error quoting the value.
    pub fn new(every: u64, len: u64, unit: PeriodUnit) -> Result<Self, CoreError> {
        let bad = |key: &str, value: u64, expected: String| CoreError::BadValue {
            schedule: ENTRY.name.to_string(),
            key: key.to_string(),
            value: value.to_string(),
            expected,
        };
        if every == 0 {
            return Err(bad("every", every, "an integer >= 1".to_string()));
        }
        if len == 0 || len > every {
            return Err(bad(
                "len",
                len,
                format!("an integer between 1 and every={every}"),
            ));
        }
        Ok(Self { every, len, unit })
    }

    /// Period length.
    pub fn every(&self) -> u64 {
        self.every
    }

    /// Number of global units at the end of each period.
    pub fn guidance_len(&self) -> u64 {
        self.len
    }

    /// What is counted.
    pub fn unit(&self) -> PeriodUnit {
        self.unit
    }
}

impl GuidanceSchedule for Periodic {
    fn decide(&mut self, ctx: &StepContext<'_>) -> StepKind {
        let position = match self.unit {
            PeriodUnit::Iterations => ctx.iteration,
            PeriodUnit::Epochs => ctx.epoch,
        } % self.every;
        if position >= self.every - self.len {
            StepKind::Global
        } else {
            StepKind::Local
        }
    }
    fn spec(&self) -> String {
        format!(
            "{}:every={},len={},unit={}",
            ENTRY.name,
            self.every,
            self.len,
            self.unit.as_str()
        )
    }
    fn clone_box(&self) -> Box<dyn GuidanceSchedule> {
        Box::new(*self)
    }
}
