//! `local-only`: never a global step. Pure greedy local learning, the DGL / InfoPro baseline.

use super::GuidanceSchedule;
use super::registry::ScheduleEntry;
use super::spec::SpecArgs;
use crate::step::{StepContext, StepKind};

/// `local-only` in the schedule table.
pub const ENTRY: ScheduleEntry = ScheduleEntry {
    name: "local-only",
    summary: "never global: greedy local learning (DGL/InfoPro baseline)",
    build: |node, _| {
        SpecArgs::new(node, &[])?;
        Ok(Box::new(LocalOnly))
    },
};

/// Never global: every step is a local step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LocalOnly;

impl GuidanceSchedule for LocalOnly {
    fn decide(&mut self, _ctx: &StepContext<'_>) -> StepKind {
        StepKind::Local
    }
    fn spec(&self) -> String {
        ENTRY.name.to_string()
    }
    fn clone_box(&self) -> Box<dyn GuidanceSchedule> {
        Box::new(*self)
    }
}
