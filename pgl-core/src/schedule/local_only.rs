//! `local-only`: never a global step. Pure greedy local learning, the DGL / InfoPro baseline.

use super::GuidanceSchedule;
use crate::step::{StepContext, StepKind};

/// Never global: every step is a local step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LocalOnly;

impl GuidanceSchedule for LocalOnly {
    fn decide(&mut self, _ctx: &StepContext<'_>) -> StepKind {
        StepKind::Local
    }
    fn spec(&self) -> String {
        "local-only".to_string()
    }
    fn clone_box(&self) -> Box<dyn GuidanceSchedule> {
        Box::new(*self)
    }
}
