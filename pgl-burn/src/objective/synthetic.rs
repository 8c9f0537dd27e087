//! The synthetic-gradient term (`--synthetic-gradient α`; DNI, Jaderberg et al. 2017): a
//! [`GradientPredictor`] per module guesses the gradient of the *global* loss at the module's
//! output, and local steps add α times that guess to the module's own gradient.
//!
//! - **Training** (in global steps, [`crate::synthetic`]): a global step computes the true
//!   gradient `g_k = ∂L/∂h_k` at every module boundary; module k's predictor regresses
//!   `B · g_k` (the per-sample gradient of the batch's summed loss) on its output `h_k` and the
//!   labels, by mean squared error, one optimizer step of module k's optimizer.
//! - **Use** (in local steps, this term): with `ĝ = predictor(detach(h_k), y)` held constant,
//!   the term is `Σ (h_k − detach(h_k)) · ĝ / B`, whose value is exactly 0 and whose gradient
//!   with respect to `h_k` is `ĝ / B`; weighted by α in the module's loss, it adds
//!   `α · J_kᵀ ĝ / B` to the module's update — α = 1 adds the predicted global gradient at the
//!   scale of the global loss's own.
//!
//! The predictor is linear: `ĝ = W h + b_y`, a 1×1 map of the output's channels (`W`,
//! `[C, C]`) plus a bias per class and channel (`b_y`, `[classes, C]`), broadcast over the
//! spatial positions — DNI's conditional predictor, as small as it gets. It starts at zero, so
//! local steps are exactly the objective's own until the first global step has trained it.
//!
//! # Shapes
//! - features `[batch, C, h, w]` or `[batch, C]`; labels `[batch]`; the prediction has the
//!   features' shape.

use std::sync::Arc;

use burn::module::{Module, Param};
use burn::prelude::*;
use pgl_core::CoreError;
use pgl_core::objective::{SyntheticGradientTerm, TermDescription, TermSpec};

use super::TermHead;
use super::term::{LossTerm, TermEntry, TermInput, TermSetup, TermSite};
use crate::activation::Activation;

/// `synthetic-gradient` in the term table.
pub const ENTRY: TermEntry = TermEntry {
    name: SyntheticGradientTerm::NAME,
    build,
};

fn build(spec: &TermSpec, _: &TermSetup<'_>) -> Result<Arc<dyn LossTerm>, CoreError> {
    SyntheticGradientTerm::from_spec(spec)?;
    Ok(Arc::new(SyntheticGradientLoss))
}

/// The synthetic-gradient term: see the [module documentation](self).
#[derive(Debug, Clone, Copy)]
pub struct SyntheticGradientLoss;

impl LossTerm for SyntheticGradientLoss {
    fn spec(&self) -> TermSpec {
        SyntheticGradientTerm.spec()
    }

    fn build_head(&self, site: &TermSite<'_>) -> Result<Option<TermHead>, String> {
        let channels = site.features[0];
        let predictor = GradientPredictor::zeros(channels, site.classes, site.device);
        Ok(Some(TermHead::Predictor(predictor)))
    }

    fn loss(&self, input: &TermInput<'_>, head: Option<&TermHead>) -> Tensor<1> {
        let Some(TermHead::Predictor(predictor)) = head else {
            panic!("the synthetic-gradient term's head is a GradientPredictor");
        };
        let batch = input.features.batch_size() as f32;
        let features = input.features.clone();
        let predicted = predictor
            .predict(features.clone().detach(), input.labels)
            .detach();
        let attached = features.clone().dot(predicted.clone());
        let constant = features.detach().dot(predicted);
        (attached - constant).div_scalar(batch)
    }
}

/// The linear gradient predictor of one module: `ĝ = W h + b_y` (see the
/// [module documentation](self)).
#[derive(Module, Debug)]
pub struct GradientPredictor {
    /// `[C, C]`: the predicted gradient's channel `i` is `Σ_j W[i, j] · h[j]` at every position.
    pub weight: Param<Tensor<2>>,
    /// `[classes, C]`: a bias per class and channel.
    pub class_bias: Param<Tensor<2>>,
}

impl GradientPredictor {
    /// A predictor for outputs of `channels` channels (or features) and `classes` classes,
    /// every parameter 0: it predicts a zero gradient until trained.
    pub fn zeros(channels: usize, classes: usize, device: &Device) -> Self {
        Self {
            weight: Param::from_tensor(Tensor::zeros([channels, channels], device)),
            class_bias: Param::from_tensor(Tensor::zeros([classes, channels], device)),
        }
    }

    /// The predicted gradient for `features` of samples labelled `labels` (same shape as
    /// `features`).
    pub fn predict(&self, features: Activation, labels: &Tensor<1, Int>) -> Activation {
        let bias = self.class_bias.val().select(0, labels.clone());
        let map = self.weight.val().transpose();
        match features {
            Activation::Flat(h) => Activation::Flat(h.matmul(map) + bias),
            Activation::Spatial(h) => {
                let [batch, channels, height, width] = h.dims();
                let rows = h
                    .swap_dims(1, 3)
                    .reshape([batch * width * height, channels]);
                let mapped = rows
                    .matmul(map)
                    .reshape([batch, width, height, channels])
                    .swap_dims(1, 3);
                Activation::Spatial(mapped + bias.reshape([batch, channels, 1, 1]))
            }
        }
    }

    /// The mean squared error of the prediction for `features` (detached) against `target`,
    /// the gradient it should predict: what a global step trains the predictor on.
    pub fn regression_loss(
        &self,
        features: Activation,
        labels: &Tensor<1, Int>,
        target: Activation,
    ) -> Tensor<1> {
        let predicted = self.predict(features.detach(), labels).into_flat();
        let error = predicted - target.into_flat();
        (error.clone() * error).mean()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::loss::CrossEntropyLoss;

    fn device() -> Device {
        Device::flex().autodiff()
    }

    /// A predictor with the given weights.
    fn predictor(weight: Tensor<2>, class_bias: Tensor<2>) -> GradientPredictor {
        GradientPredictor {
            weight: Param::from_tensor(weight),
            class_bias: Param::from_tensor(class_bias),
        }
    }

    #[test]
    fn a_spatial_prediction_is_the_channel_map_plus_the_class_bias_at_every_position() {
        let device = device();
        let weight = Tensor::<2>::from_floats([[1.0, 2.0], [0.0, -1.0]], &device);
        let bias = Tensor::<2>::from_floats([[0.5, 0.0], [0.0, 3.0], [1.0, 1.0]], &device);
        let p = predictor(weight, bias);
        // Two samples, 2 channels, 1×2 positions.
        let h = Tensor::<4>::from_floats(
            [[[[1.0, 2.0]], [[3.0, 4.0]]], [[[0.0, 1.0]], [[1.0, 0.0]]]],
            &device,
        );
        let labels = Tensor::<1, Int>::from_ints([0, 1], &device);
        let got = p.predict(Activation::Spatial(h), &labels).into_spatial();
        let expected = [
            // sample 0 (class 0: bias 0.5, 0): channel 0 = h0 + 2 h1 + 0.5, channel 1 = -h1
            [[[1.0 + 6.0 + 0.5, 2.0 + 8.0 + 0.5]], [[-3.0, -4.0]]],
            // sample 1 (class 1: bias 0, 3)
            [[[2.0, 1.0]], [[-1.0 + 3.0, 0.0 + 3.0]]],
        ];
        let expected = Tensor::<4>::from_floats(expected, &device);
        got.into_data()
            .assert_approx_eq::<f32>(&expected.into_data(), Default::default());
    }

    #[test]
    fn the_term_is_zero_and_its_gradient_is_the_prediction_over_the_batch() {
        let device = device();
        let p = predictor(
            Tensor::<2>::from_floats([[0.5, 0.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], &device),
            Tensor::<2>::from_floats([[1.0, -1.0, 0.0], [0.0, 2.0, 0.5]], &device),
        );
        let h =
            Tensor::<2>::from_floats([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]], &device).require_grad();
        let labels = Tensor::<1, Int>::from_ints([1, 0], &device);
        let loss_fn = CrossEntropyLoss::new(None, &device);
        let classify = |x: Activation| x.into_flat();
        let input = TermInput {
            features: Activation::Flat(h.clone()),
            labels: &labels,
            images: None,
            classify: &classify,
            loss_fn: &loss_fn,
        };
        let head = TermHead::Predictor(p);
        let loss = SyntheticGradientLoss.loss(&input, Some(&head));
        assert_eq!(loss.clone().into_scalar::<f32>(), 0.0);
        let grads = loss.backward();
        let got = h.grad(&grads).expect("a gradient");
        let TermHead::Predictor(p) = &head else {
            unreachable!()
        };
        let predicted = p.predict(Activation::Flat(h.detach()), &labels).into_flat();
        got.into_data()
            .assert_approx_eq::<f32>(&predicted.div_scalar(2.0).into_data(), Default::default());
        // The predictor gets no gradient in a local step.
        assert!(p.weight.val().grad(&grads).is_none());
    }
}
