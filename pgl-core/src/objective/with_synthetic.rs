//! [`WithSyntheticGradient`]: a local objective plus the synthetic-gradient term
//! ([`SyntheticGradientTerm`]) of weight α for every module but the last — what
//! `--synthetic-gradient α` makes of the run's objective. The last module is the classifier:
//! it has no module above it, so no gradient to predict.

use super::{LocalObjective, ModuleTerms, SyntheticGradientTerm, TermDescription};

/// `objective`, each module but the last also learning from a predicted global gradient of
/// weight `alpha` (see the module documentation).
#[derive(Debug, Clone)]
pub struct WithSyntheticGradient {
    /// The objective the run names.
    pub objective: Box<dyn LocalObjective>,
    /// Weight of the predicted gradient (finite, `> 0`).
    pub alpha: f64,
}

impl LocalObjective for WithSyntheticGradient {
    /// The inner objective's spec: the synthetic gradient is a setting of its own
    /// (`synthetic_gradient`), not part of the objective's spec.
    fn spec(&self) -> String {
        self.objective.spec()
    }

    fn terms(&self, module: usize, modules: usize) -> ModuleTerms {
        let terms = self.objective.terms(module, modules);
        if module + 1 < modules {
            terms.with(SyntheticGradientTerm.spec(), self.alpha)
        } else {
            terms
        }
    }

    fn clone_box(&self) -> Box<dyn LocalObjective> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objective::{ObjectiveRegistry, check_modules};

    #[test]
    fn every_module_but_the_last_gets_the_term_with_weight_alpha() {
        let registry = ObjectiveRegistry::with_builtins();
        for spec in ["ce", "infopro", "supcon"] {
            let inner = registry.build(spec).unwrap();
            let objective = WithSyntheticGradient {
                objective: inner.clone(),
                alpha: 0.5,
            };
            assert_eq!(objective.spec(), inner.spec());
            check_modules(&objective, 4).unwrap();
            for k in 0..3 {
                let terms = objective.terms(k, 4);
                assert_eq!(
                    terms.weight_of(SyntheticGradientTerm::NAME),
                    0.5,
                    "{spec} {k}"
                );
                let without: Vec<_> = terms.terms()[..terms.terms().len() - 1].to_vec();
                assert_eq!(without, inner.terms(k, 4).terms(), "{spec} {k}");
            }
            assert_eq!(objective.terms(3, 4), ModuleTerms::ce());
            assert!(!objective.is_plain_ce());
        }
    }
}
