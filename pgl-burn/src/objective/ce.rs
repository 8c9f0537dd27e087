//! The classification term (`ce`): the cross-entropy of a module's head — its aux head, or the
//! network's classifier for the last module — the whole of the `ce` objective (DGL). No head
//! of its own: it uses the module's.

use std::sync::Arc;

use burn::nn::loss::CrossEntropyLoss;
use burn::prelude::*;
use pgl_core::CoreError;
use pgl_core::objective::{CrossEntropyTerm, TermDescription, TermSpec};

use super::TermHead;
use super::term::{LossTerm, TermEntry, TermInput, TermSetup};
use crate::activation::Activation;
use crate::model::DecoupledModel;

/// `ce` in the term table.
pub const ENTRY: TermEntry = TermEntry {
    name: CrossEntropyTerm::NAME,
    build,
};

fn build(spec: &TermSpec, _: &TermSetup<'_>) -> Result<Arc<dyn LossTerm>, CoreError> {
    CrossEntropyTerm::from_spec(spec)?;
    Ok(Arc::new(ClassificationLoss))
}

/// The module head's cross-entropy.
#[derive(Debug, Clone, Copy)]
pub struct ClassificationLoss;

impl LossTerm for ClassificationLoss {
    fn spec(&self) -> TermSpec {
        CrossEntropyTerm.spec()
    }

    fn loss(&self, input: &TermInput<'_>, _head: Option<&TermHead>) -> Tensor<1> {
        let logits = (input.classify)(input.features.clone());
        input.loss_fn.forward(logits, input.labels.clone())
    }
}

/// `CE(head_k(features), labels)`, averaged over the batch: exactly what a local step computed
/// before objectives were plugins.
pub fn classification_term<M: DecoupledModel>(
    model: &M,
    k: usize,
    features: Activation,
    labels: &Tensor<1, Int>,
    loss_fn: &CrossEntropyLoss,
) -> Tensor<1> {
    loss_fn.forward(model.head(k, features), labels.clone())
}
