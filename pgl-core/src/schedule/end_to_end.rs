//! `end-to-end`: always a global step. Plain backprop, the upper-bound baseline.

use super::GuidanceSchedule;
use super::registry::ScheduleEntry;
use super::spec::SpecArgs;
use crate::step::{StepContext, StepKind};

/// `end-to-end` in the schedule table.
pub const ENTRY: ScheduleEntry = ScheduleEntry {
    name: "end-to-end",
    summary: "always global: plain end-to-end backprop",
    build: |node, _| {
        SpecArgs::new(node, &[])?;
        Ok(Box::new(EndToEnd))
    },
};

/// Always global: every step is end-to-end backprop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndToEnd;

impl GuidanceSchedule for EndToEnd {
    fn decide(&mut self, _ctx: &StepContext<'_>) -> StepKind {
        StepKind::Global
    }
    fn spec(&self) -> String {
        ENTRY.name.to_string()
    }
    fn clone_box(&self) -> Box<dyn GuidanceSchedule> {
        Box::new(*self)
    }
    fn is_plain_end_to_end(&self) -> bool {
        true
    }
}
