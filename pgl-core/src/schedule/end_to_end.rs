//! `end-to-end`: always a global step. Plain backprop, the upper-bound baseline.

use super::GuidanceSchedule;
use crate::step::{StepContext, StepKind};

/// Always global: every step is end-to-end backprop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndToEnd;

impl GuidanceSchedule for EndToEnd {
    fn decide(&mut self, _ctx: &StepContext<'_>) -> StepKind {
        StepKind::Global
    }
    fn spec(&self) -> String {
        "end-to-end".to_string()
    }
    fn clone_box(&self) -> Box<dyn GuidanceSchedule> {
        Box::new(*self)
    }
}
