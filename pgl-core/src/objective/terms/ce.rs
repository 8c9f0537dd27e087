//! `ce`: the cross-entropy of a module's head — its aux head, or the network's classifier for
//! the last module. No parameters.

use crate::error::CoreError;
use crate::objective::{TermDescription, TermSpec};

/// The head's cross-entropy (the `ce` term).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CrossEntropyTerm;

impl TermDescription for CrossEntropyTerm {
    const NAME: &'static str = "ce";

    fn spec(&self) -> TermSpec {
        TermSpec::new(Self::NAME, &[])
    }

    fn from_spec(spec: &TermSpec) -> Result<Self, CoreError> {
        spec.no_parameters().map(|()| Self)
    }
}
