//! The classification term: the cross-entropy of a module's head (its aux head, or the
//! network's classifier for the last module) — the whole of the `ce` objective (DGL).

use burn::nn::loss::CrossEntropyLoss;
use burn::prelude::*;

use crate::activation::Activation;
use crate::model::DecoupledModel;

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
