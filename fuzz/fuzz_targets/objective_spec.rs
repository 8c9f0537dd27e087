//! Local objective specs: parsing never panics; a spec that builds has a canonical spec that
//! rebuilds the same objective (heads, temperature and every module's weights for K up to
//! 16), every size it asks for is bounded (building its heads cannot exhaust memory), and
//! checking it against each K either accepts it (the last module then learns from
//! cross-entropy alone) or refuses it with an error, never a panic.
//!
//! (Not the conformance kit's `check_objective`: it also asserts that the objective trains
//! every K, which the built-ins' defaults do but a user's weights need not: `infopro:ixx_1=0`
//! leaves module 1 of K = 4 nothing to learn from, and the trainer refuses that K, naming it.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgl_core::ObjectiveRegistry;
use pgl_core::objective::{LocalObjective, MAX_PROJECTION_DIM, ObjectiveWeights, check_modules};

/// Every module's weights for every K up to 16, as bits.
fn weights(objective: &dyn LocalObjective) -> Vec<[u64; 3]> {
    (1..=16)
        .flat_map(|k| (0..k).map(move |m| (m, k)))
        .map(|(m, k)| {
            let w = objective.weights(m, k);
            [w.reconstruction, w.classification, w.contrastive].map(f64::to_bits)
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(spec) = std::str::from_utf8(data) else {
        return;
    };
    let registry = ObjectiveRegistry::with_builtins();
    let Ok(objective) = registry.build(spec) else {
        return;
    };
    let canonical = objective.spec();
    let rebuilt = registry
        .build(&canonical)
        .unwrap_or_else(|e| panic!("canonical `{canonical}` of `{spec}` fails: {e}"));
    assert_eq!(rebuilt.spec(), canonical, "`{spec}`");
    assert_eq!(rebuilt.extra_heads(), objective.extra_heads(), "`{spec}`");
    assert_eq!(
        rebuilt.temperature().to_bits(),
        objective.temperature().to_bits(),
        "`{spec}`"
    );
    assert_eq!(weights(&*rebuilt), weights(&*objective), "`{spec}`");
    if let Some(dim) = objective.extra_heads().projection {
        assert!(
            (1..=MAX_PROJECTION_DIM).contains(&dim),
            "`{spec}`: projection of {dim} outputs"
        );
    }
    for modules in 1..=16 {
        if check_modules(&*objective, modules).is_ok() {
            assert_eq!(
                objective.weights(modules - 1, modules),
                ObjectiveWeights::CE,
                "`{spec}`: the last of {modules} modules"
            );
        }
    }
});
