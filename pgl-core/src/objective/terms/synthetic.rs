//! `synthetic-gradient`: a module's update from a *predicted* gradient of the global loss at
//! its output (DNI, Jaderberg et al. 2017), the term behind `--synthetic-gradient α`. Global
//! steps train a small predictor per module on the true gradient `∂L/∂h_k` they compute at the
//! module's boundary; local steps then add `α ·` the predicted gradient to the module's own.
//! The term's value is 0 (it adds a gradient, not a loss), so module losses read as before.
//! No parameters: its weight in the module's term list is α.

use crate::error::CoreError;
use crate::objective::{TermDescription, TermSpec};

/// The synthetic-gradient term (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SyntheticGradientTerm;

impl TermDescription for SyntheticGradientTerm {
    const NAME: &'static str = "synthetic-gradient";

    fn spec(&self) -> TermSpec {
        TermSpec::new(Self::NAME, &[])
    }

    fn from_spec(spec: &TermSpec) -> Result<Self, CoreError> {
        spec.no_parameters().map(|()| Self)
    }
}
