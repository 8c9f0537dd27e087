//! A conformance kit every local objective's tests call.
//!
//! [`check_objective`] asserts the properties every [`LocalObjective`] must have: its spec
//! round-trips through the registry (the rebuilt objective has the same spec and the same
//! terms, parameters and weights for every module), its terms are a pure function of
//! `(module, K)`, and every network it accepts passes [`check_modules`] (valid terms,
//! cross-entropy alone for the last module). Use it for your own objectives too.

use super::{LocalObjective, ModuleTerms, ObjectiveRegistry, check_modules};

/// Every module's terms for every K in `1..=max_modules`.
pub fn term_table(objective: &dyn LocalObjective, max_modules: usize) -> Vec<ModuleTerms> {
    (1..=max_modules)
        .flat_map(|n| (0..n).map(move |k| (k, n)))
        .map(|(k, n)| objective.terms(k, n))
        .collect()
}

/// Asserts every conformance property of the objective built from `spec`, for networks of
/// 1 to `max_modules` modules.
///
/// # Panics
/// When a property fails (this is a test helper), with a message naming the spec and what
/// failed.
pub fn check_objective(registry: &ObjectiveRegistry, spec: &str, max_modules: usize) {
    let build = |s: &str| {
        registry
            .build(s)
            .unwrap_or_else(|e| panic!("objective spec `{s}` does not build: {e}"))
    };
    let objective = build(spec);
    let canonical = objective.spec();
    let rebuilt = build(&canonical);
    assert_eq!(
        rebuilt.spec(),
        canonical,
        "`{spec}`: the canonical spec does not rebuild itself"
    );
    let table = term_table(&*objective, max_modules);
    assert_eq!(
        term_table(&*rebuilt, max_modules),
        table,
        "`{spec}`: the rebuilt objective's terms differ"
    );
    assert_eq!(
        term_table(&*objective.clone_box(), max_modules),
        table,
        "`{spec}`: a clone's terms differ (or the terms are not a pure function)"
    );
    for n in 1..=max_modules {
        if let Err(e) = check_modules(&*objective, n) {
            panic!("`{spec}` with K={n}: {e}");
        }
    }
    if objective.is_plain_ce() {
        assert!(
            table.iter().all(ModuleTerms::is_ce),
            "`{spec}` says it is plain cross-entropy but its terms are not"
        );
    }
}
