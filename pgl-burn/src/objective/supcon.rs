//! The supervised contrastive term: a [`Projection`] head per module and the supervised
//! contrastive loss of its normalised outputs ([`supcon_loss`]).
//!
//! The loss follows `SupConLoss` in InfoPro's `Experiments on CIFAR-SVHN-STL10/networks/
//! losses.py` (`blackfeather-wang/InfoPro-Pytorch`, after Khosla et al., "Supervised
//! Contrastive Learning", 2020) with one view per sample and every sample an anchor:
//!
//! ```text
//! z_i = p_i / max(‖p_i‖, 1e-12)                 (p = projection(h))
//! s_ij = z_i·z_j / T − max_j' (z_i·z_j' / T)     (the max is a constant: no gradient)
//! log q_ij = s_ij − log Σ_{j' ≠ i} exp(s_ij')
//! ℓ_i = −(T / 0.07) · Σ_{j ≠ i, y_j = y_i} log q_ij / max(1, #{j ≠ i : y_j = y_i})
//! loss = mean_i ℓ_i
//! ```
//!
//! (`0.07` is the reference's `base_temperature`, so the factor is 1 at the default
//! temperature.) An anchor without a positive in the batch contributes 0 but still counts in
//! the mean, as in the reference (`losses.py`, lines 12–96; InfoPro calls it with
//! `temperature=0.07` in `auxiliary_nets.py`, line 232). A batch of one sample has no contrast
//! at all (the sum over `j' ≠ i` is empty, and the reference's `log 0` makes its loss NaN): the
//! sum is clamped to at least [`MIN_CONTRAST`], so such an anchor, which has no positive
//! either, contributes 0 and gets no gradient; a sum of that size or more is left exactly as
//! it was.
//!
//! The projection goes through one of two heads (`proj=` of the objective spec; `proj=auto`, the
//! default, is `aux` when the model makes such a head and `mlp` when it does not). `proj=aux`:
//! a head of the module's aux-head design with `feature_dim` outputs, made by
//! the model ([`DecoupledModel::aux_head_like`](crate::DecoupledModel::aux_head_like)), as
//! InfoPro's `AuxClassifier` in `contrast` mode (`auxiliary_nets.py`, lines 39–224: with
//! `1c2f`, conv3×3 → BN → ReLU → pool → linear 128 → ReLU → linear 128). `proj=mlp`: this file's
//! [`Projection`], InfoPro's `0c2f` network with `feature_dim` outputs: global average pooling
//! (of spatial features) → linear C → D → ReLU → linear D → D.
//!
//! # Shapes
//! - features `[batch, C, h, w]` or `[batch, C]`; projections `[batch, D]`; labels `[batch]`.

use std::sync::Arc;

use burn::module::Module;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::prelude::*;
use pgl_core::CoreError;
use pgl_core::objective::{ContrastiveTerm, ProjectionHead, TermDescription, TermSpec};

use super::TermHead;
use super::term::{LossTerm, TermEntry, TermInput, TermSetup, TermSite};
use crate::activation::Activation;

/// `supcon` in the term table.
pub const ENTRY: TermEntry = TermEntry {
    name: ContrastiveTerm::NAME,
    build,
};

fn build(spec: &TermSpec, _: &TermSetup<'_>) -> Result<Arc<dyn LossTerm>, CoreError> {
    Ok(Arc::new(ContrastiveLoss(ContrastiveTerm::from_spec(spec)?)))
}

/// The supervised contrastive term: a projection head per module and [`supcon_loss`].
#[derive(Debug, Clone, Copy)]
pub struct ContrastiveLoss(pub ContrastiveTerm);

impl LossTerm for ContrastiveLoss {
    fn spec(&self) -> TermSpec {
        self.0.spec()
    }

    fn build_head(&self, site: &TermSite<'_>) -> Result<Option<TermHead>, String> {
        let dim = self.0.dim;
        let mlp = || {
            let channels = Projection::input_size(site.features);
            TermHead::Projection(Projection::new(channels, dim, site.device))
        };
        let head = match self.0.projection {
            ProjectionHead::Mlp => mlp(),
            ProjectionHead::Aux => TermHead::Stack((site.aux_head_like)(dim).ok_or(
                "the model cannot make a head of its aux head's design for the contrastive \
                 term (proj=aux); use proj=auto or proj=mlp",
            )?),
            ProjectionHead::Auto => (site.aux_head_like)(dim).map_or_else(mlp, TermHead::Stack),
        };
        Ok(Some(head))
    }

    fn loss(&self, input: &TermInput<'_>, head: Option<&TermHead>) -> Tensor<1> {
        let projections = match head {
            Some(TermHead::Projection(mlp)) => mlp.forward(input.features.clone()),
            Some(TermHead::Stack(stack)) => stack.forward(input.features.clone()),
            _ => panic!("the contrastive term's projection head (the trainer builds it)"),
        };
        supcon_loss(projections, input.labels, self.0.temperature)
    }
}

/// The reference's `base_temperature`: the loss is scaled by `temperature / BASE_TEMPERATURE`.
pub const BASE_TEMPERATURE: f64 = 0.07;

/// The smallest contrast sum `Σ_{j' ≠ i} exp(s_ij')` the loss takes the logarithm of: an
/// anchor alone in its batch has an empty sum (0), whose logarithm would make the loss NaN.
pub const MIN_CONTRAST: f64 = 1e-30;

/// The projection head of one module.
#[derive(Module, Debug)]
pub struct Projection {
    first: Linear,
    relu: Relu,
    second: Linear,
}

impl Projection {
    /// A head from `channels` features (after pooling) to `dim` outputs.
    pub fn new(channels: usize, dim: usize, device: &Device) -> Self {
        Self {
            first: LinearConfig::new(channels, dim).init(device),
            relu: Relu::new(),
            second: LinearConfig::new(dim, dim).init(device),
        }
    }

    /// The number of features the head takes from a module output of shape `features`
    /// (without the batch dimension): the channels of a spatial output, the size of a flat one.
    pub fn input_size(features: &[usize]) -> usize {
        features.first().copied().unwrap_or(0)
    }

    /// `[batch, D]` projections (not normalised) of `features`.
    pub fn forward(&self, features: Activation) -> Tensor<2> {
        let x = match features {
            Activation::Flat(t) => t,
            // Global average pooling: the mean over height and width.
            Activation::Spatial(t) => {
                let [b, c, h, w] = t.dims();
                t.reshape([b, c, h * w]).mean_dim(2).reshape([b, c])
            }
        };
        self.second
            .forward(self.relu.forward(self.first.forward(x)))
    }
}

/// The supervised contrastive loss of `projections` (`[batch, D]`, normalised here) with
/// `labels` at `temperature`; see the [module documentation](self).
pub fn supcon_loss(projections: Tensor<2>, labels: &Tensor<1, Int>, temperature: f64) -> Tensor<1> {
    let [batch, _] = projections.dims();
    let device = projections.device();
    let norms = (projections.clone() * projections.clone())
        .sum_dim(1)
        .sqrt()
        .clamp_min(1e-12);
    let z = projections / norms;
    let logits = z.clone().matmul(z.transpose()) / temperature;
    let logits = logits.clone() - logits.max_dim(1).detach();
    // Everything but the diagonal: a sample is not its own contrast.
    let others = Tensor::<2, Bool>::diag_mask([batch, batch], 0, &device).float();
    let column = labels.clone().reshape([batch, 1]).expand([batch, batch]);
    let row = labels.clone().reshape([1, batch]).expand([batch, batch]);
    let positives = column.equal(row).float() * others.clone();
    let exp_sum = (logits.clone().exp() * others)
        .sum_dim(1)
        .clamp_min(MIN_CONTRAST);
    let log_prob = logits - exp_sum.log();
    let count = positives.clone().sum_dim(1).clamp_min(1.0);
    let mean_log_prob = (positives * log_prob).sum_dim(1) / count;
    (mean_log_prob * (-(temperature / BASE_TEMPERATURE))).mean()
}

/// Module k's contrastive term: the loss of `projection(features)`.
pub fn contrastive_term(
    projection: &Projection,
    features: Activation,
    labels: &Tensor<1, Int>,
    temperature: f64,
) -> Tensor<1> {
    supcon_loss(projection.forward(features), labels, temperature)
}
