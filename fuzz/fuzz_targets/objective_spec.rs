//! Local objective specs: parsing never panics; a spec that builds has a canonical spec that
//! rebuilds the same objective (every module's terms, parameters and weights for K up to 16),
//! every term reads back its own parameters and every projection size it asks for is bounded
//! (building its heads cannot exhaust memory), and
//! checking it against each K either accepts it (the last module then learns from
//! cross-entropy alone) or refuses it with an error, never a panic.
//!
//! (Not the conformance kit's `check_objective`: it also asserts that the objective trains
//! every K, which the built-ins' defaults do but a user's weights need not: `infopro:ixx_1=0`
//! leaves module 1 of K = 4 nothing to learn from, and the trainer refuses that K, naming it.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgl_core::ObjectiveRegistry;
use pgl_core::objective::{
    ContrastiveTerm, LocalObjective, MAX_PROJECTION_DIM, ModuleTerms, TermDescription,
    check_modules,
};

/// Every module's terms for every K up to 16: each term's spec and its weight's bits.
fn terms(objective: &dyn LocalObjective) -> Vec<Vec<(String, u64)>> {
    (1..=16)
        .flat_map(|k| (0..k).map(move |m| (m, k)))
        .map(|(m, k)| {
            let terms = objective.terms(m, k);
            let terms = terms.terms().iter();
            terms.map(|t| (t.term.to_string(), t.weight.to_bits())).collect()
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
    assert_eq!(terms(&*rebuilt), terms(&*objective), "`{spec}`");
    for module in objective.terms(0, 16).terms() {
        if module.term.name() == ContrastiveTerm::NAME {
            let term = ContrastiveTerm::from_spec(&module.term)
                .unwrap_or_else(|e| panic!("`{spec}`: `{}` does not read back: {e}", module.term));
            assert!(
                (1..=MAX_PROJECTION_DIM).contains(&term.dim),
                "`{spec}`: projection of {} outputs",
                term.dim
            );
        }
    }
    for modules in 1..=16 {
        if check_modules(&*objective, modules).is_ok() {
            assert_eq!(
                objective.terms(modules - 1, modules),
                ModuleTerms::ce(),
                "`{spec}`: the last of {modules} modules"
            );
        }
    }
});
