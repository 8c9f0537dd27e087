//! A conformance kit every local objective's tests call.
//!
//! [`check_objective`] asserts the properties every [`LocalObjective`] must have: its spec
//! round-trips through the registry (the rebuilt objective has the same spec, heads,
//! temperature, reconstruction loss, projection head and weights), its weights are a pure function of `(module, K)`, and every
//! network it accepts passes [`check_modules`] (valid weights, cross-entropy for the last
//! module, the extra heads it uses declared). Use it for your own objectives too.

use super::{LocalObjective, ObjectiveRegistry, ObjectiveWeights, check_modules};

/// Every module's weights for every K in `1..=max_modules`.
pub fn weight_table(objective: &dyn LocalObjective, max_modules: usize) -> Vec<ObjectiveWeights> {
    (1..=max_modules)
        .flat_map(|n| (0..n).map(move |k| (k, n)))
        .map(|(k, n)| objective.weights(k, n))
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
    assert_eq!(
        rebuilt.extra_heads(),
        objective.extra_heads(),
        "`{spec}`: heads"
    );
    assert_eq!(
        rebuilt.temperature().to_bits(),
        objective.temperature().to_bits(),
        "`{spec}`: temperature"
    );
    assert_eq!(
        rebuilt.reconstruction(),
        objective.reconstruction(),
        "`{spec}`: reconstruction loss"
    );
    assert_eq!(
        rebuilt.projection_head(),
        objective.projection_head(),
        "`{spec}`: projection head"
    );
    let table = weight_table(&*objective, max_modules);
    assert_eq!(
        weight_table(&*rebuilt, max_modules),
        table,
        "`{spec}`: the rebuilt objective's weights differ"
    );
    assert_eq!(
        weight_table(&*objective.clone_box(), max_modules),
        table,
        "`{spec}`: a clone's weights differ (or the weights are not a pure function)"
    );
    for n in 1..=max_modules {
        if let Err(e) = check_modules(&*objective, n) {
            panic!("`{spec}` with K={n}: {e}");
        }
    }
    if objective.is_plain_ce() {
        assert!(
            table.iter().all(ObjectiveWeights::is_ce),
            "`{spec}` says it is plain cross-entropy but its weights are not"
        );
    }
}
