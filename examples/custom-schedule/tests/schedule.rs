//! The `growing` schedule against pgl-core's conformance kit, and its share of global steps.

use pgl_core::StepContext;
use pgl_core::schedule::conformance::{check_schedule, count_global};
use pgl_core::{GuidanceSchedule, StepKind};
use pgl_example_custom_schedule::{Growing, registry};
use proptest::prelude::*;

#[test]
fn growing_passes_the_schedule_conformance_kit() {
    for spec in ["growing:every=1", "growing:every=3", "growing:every=7"] {
        check_schedule(&registry(), spec, 10, 120, 37);
    }
}

#[test]
fn a_bad_spec_names_the_key() {
    let e = registry().build("growing:every=0").unwrap_err().to_string();
    assert!(e.contains("every") && e.contains(">= 1"), "{e}");
    assert!(registry().build("growing:len=2").is_err());
}

proptest! {
    /// In epoch e exactly floor(T / (N·(e+1))) of its T steps are global.
    #[test]
    fn each_epoch_has_the_share_its_period_says(every in 1u64..6, per_epoch in 1u64..60, epochs in 1u64..5) {
        let mut schedule = Growing::new(every).unwrap();
        for epoch in 0..epochs {
            let kinds: Vec<StepKind> = (0..per_epoch)
                .map(|i| schedule.decide(&StepContext::at_iteration(epoch * per_epoch + i, per_epoch)))
                .collect();
            let expected = per_epoch / (every * (epoch + 1));
            prop_assert_eq!(count_global(&kinds) as u64, expected);
        }
    }
}
