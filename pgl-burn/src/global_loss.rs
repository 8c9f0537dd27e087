//! [`GlobalLoss`]: the loss a global step differentiates, built module by module, so that the
//! plain global step ([`crate::global`]), the recomputed one ([`crate::recompute`]) and the
//! partial one ([`crate::partial`]) all differentiate the same function.

use burn::nn::loss::CrossEntropyLoss;
use burn::prelude::*;

use crate::activation::Activation;
use crate::model::DecoupledModel;

/// The loss of a global step, module by module: the classifier's cross-entropy after the last
/// module plus, when `aux_weight > 0`, `aux_weight` times each aux head's cross-entropy (on
/// detached features with `aux_detach`). Plain and recomputed global steps both build their
/// loss from it, so they differentiate the same function.
#[derive(Clone, Copy)]
pub(crate) struct GlobalLoss<'a> {
    /// The cross-entropy of every head.
    pub loss_fn: &'a CrossEntropyLoss,
    /// Weight of the aux losses (0: the classifier's loss only).
    pub aux_weight: f64,
    /// The aux losses train the aux heads only.
    pub aux_detach: bool,
}

impl GlobalLoss<'_> {
    /// Module `k`'s head loss (unweighted) on its output `features`, when the global loss
    /// has a term for it: always for the last module (the classifier), for the others only
    /// when `aux_weight > 0`.
    pub fn head_loss<M: DecoupledModel>(
        &self,
        model: &M,
        k: usize,
        features: &Activation,
        labels: &Tensor<1, Int>,
    ) -> Option<Tensor<1>> {
        let last = k + 1 == model.num_modules();
        if !self.has_head_loss(k, model.num_modules()) {
            return None;
        }
        let features = if self.aux_detach && !last {
            features.clone().detach()
        } else {
            features.clone()
        };
        Some(
            self.loss_fn
                .forward(model.head(k, features), labels.clone()),
        )
    }

    /// Whether the loss has a term for module `k`'s head in a network of `modules` modules:
    /// the classifier always, an aux head when `aux_weight > 0`.
    pub fn has_head_loss(&self, k: usize, modules: usize) -> bool {
        k + 1 == modules || self.aux_weight > 0.0
    }

    /// The weight of module `k`'s head loss in a network of `modules` modules.
    pub fn weight(&self, k: usize, modules: usize) -> f32 {
        if k + 1 == modules {
            1.0
        } else {
            self.aux_weight as f32
        }
    }
}
