//! Schedule specs: parsing never panics or overflows the stack; a spec that builds has a
//! canonical form that builds again to the same canonical form, and decides without panicking;
//! its state survives the checkpoint manifest's JSON encoding and restores exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgl_core::schedule::conformance::{same_state, through_json};
use pgl_core::schedule::spec::split_spec_list;
use pgl_core::{ScheduleRegistry, StepContext};

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = std::str::from_utf8(data) else {
        return;
    };
    let registry = ScheduleRegistry::with_builtins();
    let _ = split_spec_list(spec);
    if let Ok(mut schedule) = registry.build(spec) {
        let canonical = schedule.spec();
        let rebuilt = registry
            .build(&canonical)
            .unwrap_or_else(|e| panic!("canonical `{canonical}` of `{spec}` fails: {e}"));
        assert_eq!(rebuilt.spec(), canonical);
        let losses = [1.0f32, 0.5, f32::NAN, f32::INFINITY, 0.25];
        for i in 0..64u64 {
            let ctx =
                StepContext::at_iteration(i, 7).with_losses(&losses[..(i as usize % 6).min(5)]);
            schedule.decide(&ctx);
        }
        let state = schedule.state();
        let read = through_json(&state).unwrap_or_else(|e| {
            panic!("state {state:?} of `{canonical}` does not survive JSON: {e}")
        });
        assert!(
            same_state(&read, &state),
            "`{canonical}`: {state:?} -> JSON -> {read:?}"
        );
        let mut fresh = registry.build(&canonical).unwrap();
        fresh.restore(&read).unwrap();
        assert!(same_state(&fresh.state(), &state));
    }
});
