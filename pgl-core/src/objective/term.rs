//! Loss terms: what a module's local loss is a weighted sum of, described without tensors.
//!
//! An objective gives every module a [`ModuleTerms`]: a list of `(term, weight)` pairs
//! ([`WeightedTerm`]). A term is named by a [`TermSpec`] — its name and its parameters, e.g.
//! `supcon:temperature=0.07,dim=128,proj=aux` — and pgl-burn computes it under that name
//! (`pgl_burn::objective::LossTerm`). A term's typed description ([`TermDescription`]: its
//! parameters as Rust values, their spec and their validation) lives in [`super::terms`], one
//! file per term, so that the tensor side parses a term's parameters once, through the same
//! code that wrote them.

use std::fmt;

use crate::error::CoreError;

/// A loss term as objectives name it: a name and its parameters in a fixed order (the
/// canonical spec `name` or `name:key=value,…`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TermSpec {
    name: String,
    params: Vec<(String, String)>,
}

impl TermSpec {
    /// The term `name` with `params`, in the order given.
    pub fn new(name: &str, params: &[(&str, String)]) -> Self {
        Self {
            name: name.to_string(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect(),
        }
    }

    /// The term's name: what pgl-burn's term table computes it under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value of parameter `key`, if the spec has it.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every parameter, in order.
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// An error about parameter `key` of this term: `value` is not what was `expected`.
    pub fn bad_value(&self, key: &str, value: &str, expected: &str) -> CoreError {
        CoreError::BadValue {
            schedule: self.name.clone(),
            key: key.to_string(),
            value: value.to_string(),
            expected: expected.to_string(),
        }
    }

    /// The value of parameter `key`, or an error naming the term and the key when it is
    /// missing.
    pub fn required(&self, key: &str) -> Result<&str, CoreError> {
        self.param(key)
            .ok_or_else(|| self.bad_value(key, "(missing)", "a value"))
    }

    /// Checks that the spec has no parameter (a term without any); the error names the term
    /// and the first parameter given.
    pub fn no_parameters(&self) -> Result<(), CoreError> {
        match self.params().next() {
            None => Ok(()),
            Some((key, value)) => Err(self.bad_value(key, value, "no parameter")),
        }
    }
}

impl fmt::Display for TermSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for (i, (k, v)) in self.params.iter().enumerate() {
            write!(f, "{}{k}={v}", if i == 0 { ':' } else { ',' })?;
        }
        Ok(())
    }
}

/// A term's typed description: its parameters as values, written as and read from a
/// [`TermSpec`]. One per term, in [`super::terms`] for the built-ins.
pub trait TermDescription: Sized {
    /// The term's name ([`TermSpec::name`]).
    const NAME: &'static str;

    /// The spec of this term with these parameters.
    fn spec(&self) -> TermSpec;

    /// The description of `spec` (whose name is [`NAME`](Self::NAME)); the error names the
    /// term and the parameter that is wrong.
    fn from_spec(spec: &TermSpec) -> Result<Self, CoreError>;
}

/// One term of a module's loss with its weight.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightedTerm {
    /// The term.
    pub term: TermSpec,
    /// Its weight in the module's loss.
    pub weight: f64,
}

/// A module's local loss: `Σ weight · term`, in the order of the list. Terms of weight 0 are
/// left out (they are not computed at all).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModuleTerms {
    terms: Vec<WeightedTerm>,
}

impl ModuleTerms {
    /// No term yet (add them with [`with`](Self::with)).
    pub fn new() -> Self {
        Self::default()
    }

    /// The aux head's (or, for the last module, the classifier's) cross-entropy alone, weight
    /// 1: what `ce` gives every module and every objective gives the last one.
    pub fn ce() -> Self {
        Self::new().with(super::terms::ce::CrossEntropyTerm.spec(), 1.0)
    }

    /// These terms and `term` with `weight` (left out when the weight is exactly 0).
    pub fn with(mut self, term: TermSpec, weight: f64) -> Self {
        if weight != 0.0 {
            self.terms.push(WeightedTerm { term, weight });
        }
        self
    }

    /// The terms, in order.
    pub fn terms(&self) -> &[WeightedTerm] {
        &self.terms
    }

    /// The total weight of the terms named `name` (0 when there is none).
    pub fn weight_of(&self, name: &str) -> f64 {
        self.terms
            .iter()
            .filter(|t| t.term.name() == name)
            .map(|t| t.weight)
            .sum()
    }

    /// Whether this is [`ModuleTerms::ce`]: the loss is the head's cross-entropy, computed
    /// exactly as without objectives.
    pub fn is_ce(&self) -> bool {
        *self == Self::ce()
    }

    /// Whether there is at least one term and every weight is finite and `> 0`.
    pub fn is_valid(&self) -> bool {
        !self.terms.is_empty()
            && self
                .terms
                .iter()
                .all(|t| t.weight.is_finite() && t.weight > 0.0)
    }
}

impl fmt::Display for ModuleTerms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.terms.is_empty() {
            return f.write_str("(no term)");
        }
        for (i, t) in self.terms.iter().enumerate() {
            let plus = if i == 0 { "" } else { " + " };
            write!(f, "{plus}{}·{}", t.weight, t.term)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_term_spec_prints_canonically_and_reads_its_parameters() {
        let spec = TermSpec::new(
            "supcon",
            &[("temperature", "0.1".into()), ("dim", "8".into())],
        );
        assert_eq!(spec.to_string(), "supcon:temperature=0.1,dim=8");
        assert_eq!(spec.param("dim"), Some("8"));
        assert!(spec.required("proj").is_err());
        assert_eq!(TermSpec::new("ce", &[]).to_string(), "ce");
    }

    #[test]
    fn zero_weights_are_left_out_and_validity_needs_positive_finite_weights() {
        let rec = TermSpec::new("reconstruction", &[]);
        let terms = ModuleTerms::new().with(rec.clone(), 0.0);
        assert!(terms.terms().is_empty() && !terms.is_valid());
        assert!(ModuleTerms::ce().is_valid() && ModuleTerms::ce().is_ce());
        assert!(!ModuleTerms::new().with(rec.clone(), -1.0).is_valid());
        assert!(!ModuleTerms::new().with(rec.clone(), f64::NAN).is_valid());
        let two = ModuleTerms::ce().with(rec, 2.0);
        assert!(!two.is_ce());
        assert_eq!(
            (two.weight_of("ce"), two.weight_of("reconstruction")),
            (1.0, 2.0)
        );
        assert_eq!(two.to_string(), "1·ce + 2·reconstruction");
    }
}
