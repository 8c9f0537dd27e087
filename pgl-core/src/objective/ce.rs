//! `ce`: the cross-entropy of each module's aux head — greedy supervised learning as in DGL
//! (Belilovsky et al., 2020). The default local objective; a local step with it is the step
//! pgl always took.

use super::registry::ObjectiveEntry;
use super::{LocalObjective, ModuleTerms, ObjectiveRegistry};
use crate::error::CoreError;
use crate::schedule::{SpecArgs, SpecNode};

/// `ce` in the objective table.
pub const ENTRY: ObjectiveEntry = ObjectiveEntry {
    name: "ce",
    summary: "cross-entropy of each module's aux head (greedy supervised learning, DGL); the default",
    build: from_spec,
};

/// Every module learns from its head's cross-entropy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CrossEntropy;

impl LocalObjective for CrossEntropy {
    fn spec(&self) -> String {
        "ce".to_string()
    }
    fn terms(&self, _module: usize, _modules: usize) -> ModuleTerms {
        ModuleTerms::ce()
    }
    fn clone_box(&self) -> Box<dyn LocalObjective> {
        Box::new(*self)
    }
    fn is_plain_ce(&self) -> bool {
        true
    }
}

/// Builds `ce` (no parameters).
fn from_spec(
    node: &SpecNode,
    _registry: &ObjectiveRegistry,
) -> Result<Box<dyn LocalObjective>, CoreError> {
    SpecArgs::new(node, &[])?;
    Ok(Box::new(CrossEntropy))
}

#[cfg(test)]
mod tests {
    use super::super::conformance::check_objective;
    use super::*;

    #[test]
    fn ce_passes_the_conformance_kit_and_takes_no_parameters() {
        let registry = ObjectiveRegistry::with_builtins();
        check_objective(&registry, "ce", 16);
        let err = registry.build("ce:weight=2").unwrap_err();
        assert!(
            matches!(err, CoreError::UnknownKey { ref key, .. } if key == "weight"),
            "{err}"
        );
    }
}
