//! `constant`: the base learning rate throughout (factor 1).

use super::registry::LrScheduleEntry;
use super::{LrContext, LrSchedule};
use crate::schedule::SpecArgs;

/// `constant` in the LR schedule table.
pub const ENTRY: LrScheduleEntry = LrScheduleEntry {
    name: "constant",
    summary: "factor 1: the base learning rate throughout",
    build: |node, _| {
        SpecArgs::new(node, &[])?;
        Ok(Box::new(Constant))
    },
};

/// Factor 1 at every iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Constant;

impl LrSchedule for Constant {
    fn factor(&self, _ctx: &LrContext) -> f64 {
        1.0
    }
    fn spec(&self) -> String {
        ENTRY.name.to_string()
    }
    fn clone_box(&self) -> Box<dyn LrSchedule> {
        Box::new(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::super::conformance::check_lr_schedule;
    use super::*;
    use crate::error::CoreError;
    use crate::lr::LrScheduleRegistry;

    #[test]
    fn constant_passes_the_conformance_kit_and_is_one() {
        let registry = LrScheduleRegistry::with_builtins();
        check_lr_schedule(&registry, "constant", 7, 5, 13);
        let schedule = registry.build("constant").unwrap();
        assert!((0..50).all(|i| schedule.factor(&LrContext::at_iteration(i, 7, 5)) == 1.0));
    }

    #[test]
    fn constant_takes_no_parameters() {
        let err = LrScheduleRegistry::with_builtins()
            .build("constant:min=1")
            .unwrap_err();
        assert!(
            matches!(err, CoreError::UnknownKey { ref key, .. } if key == "min"),
            "{err}"
        );
    }
}
