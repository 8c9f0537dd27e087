//! [`ObjectiveRegistry`]: builds local objectives from spec strings; user objectives register
//! here.
//!
//! The registry is the generic [`SpecRegistry`] for `dyn LocalObjective`; this module names
//! the kind ([`SpecPlugin`]): its built-ins are the one table [`BUILTINS`] in the parent
//! module, one line each.

use super::{BUILTINS, LocalObjective};
use crate::schedule::{SpecBuildFn, SpecEntry, SpecPlugin, SpecRegistry};

/// A builder as a plain function: what an [`ObjectiveEntry`] holds.
pub type ObjectiveBuildFn = SpecBuildFn<dyn LocalObjective>;

/// One row of the objective table: the name used in specs, the one-line summary
/// `pgl objectives` prints (parameters first, then the loss), and the builder.
///
/// ```
/// use pgl_core::objective::{CrossEntropy, ObjectiveEntry, ObjectiveRegistry};
/// use pgl_core::schedule::SpecArgs;
///
/// const DGL: ObjectiveEntry = ObjectiveEntry {
///     name: "dgl",
///     summary: "another name for ce",
///     build: |node, _| {
///         SpecArgs::new(node, &[])?;
///         Ok(Box::new(CrossEntropy))
///     },
/// };
/// let mut registry = ObjectiveRegistry::with_builtins();
/// registry.register_entry(DGL).unwrap();
/// assert!(registry.build("dgl").is_ok());
/// ```
pub type ObjectiveEntry = SpecEntry<dyn LocalObjective>;

impl SpecPlugin for dyn LocalObjective {
    const KIND: &'static str = "local objectives";
    const BUILTINS: &'static [ObjectiveEntry] = BUILTINS;
}

/// Maps objective names to builders. [`ObjectiveRegistry::with_builtins`] knows every built-in;
/// [`register`](ObjectiveRegistry::register) adds user objectives without touching them.
pub type ObjectiveRegistry = SpecRegistry<dyn LocalObjective>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CoreError;

    #[test]
    fn the_table_lists_every_builtin_once() {
        let registry = ObjectiveRegistry::with_builtins();
        assert_eq!(registry.names(), ["ce", "infopro", "supcon"]);
        assert!(registry.entries().iter().all(|(_, s)| !s.is_empty()));
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let err = ObjectiveRegistry::with_builtins()
            .build("simclr")
            .unwrap_err();
        assert!(
            matches!(err, CoreError::UnknownSchedule { ref known, .. }
                if known == "ce, infopro, supcon"),
            "{err}"
        );
    }
}
