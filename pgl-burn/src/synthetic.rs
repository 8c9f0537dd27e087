//! Synthetic gradients trained by the global steps (`--synthetic-gradient α`; DNI, Jaderberg
//! et al. 2017). A global step computes the true gradient of the global loss at every module
//! boundary, `g_k = ∂L/∂h_k` (by recomputation, [`crate::recompute`], which hands the
//! boundaries over); after its update, `train_predictors` takes one optimizer step of every
//! module's [`GradientPredictor`] towards `B · g_k`. Local steps then add α times the
//! prediction to each module's gradient (the `synthetic-gradient` loss term,
//! [`crate::objective::synthetic`]), so the global objective keeps acting between global
//! steps, through what the predictors learned from them.
//!
//! The predictors are heads of their module: module k's optimizer steps them (at the global
//! step's learning rate), checkpoints save them with the other heads and their optimizer
//! state, and pipeline workers get their modules' predictors — so runs with synthetic
//! gradients resume exactly and pipeline bit-identically.

use burn::prelude::*;
use pgl_core::objective::{SyntheticGradientTerm, TermDescription};

use crate::activation::Activation;
use crate::model::DecoupledModel;
use crate::objective::{GradientPredictor, TermHead};
use crate::recompute::Boundary;
use crate::state::ModelState;

/// One optimizer step of every module's gradient predictor on the boundaries of a global step
/// (each predictor regresses `B · ∂L/∂h_k` on `h_k` and the labels, by mean squared error), at
/// learning rate `lr`. Modules without a predictor are left alone.
pub(crate) fn train_predictors<M: DecoupledModel>(
    mut state: ModelState<M>,
    boundaries: Vec<Boundary>,
    labels: &Tensor<1, Int>,
    lr: f64,
) -> ModelState<M> {
    for boundary in boundaries {
        let k = boundary.module;
        let Some(predictor) = predictor_of(&state, k) else {
            continue;
        };
        let batch = boundary.output.batch_size() as f32;
        let target = scaled(boundary.gradient, batch);
        let loss = predictor.regression_loss(boundary.output, labels, target);
        let mut grads = loss.backward();
        let ModelState {
            heads, optimizers, ..
        } = &mut state;
        heads.step(k, &mut optimizers[k], lr, &mut grads);
    }
    state
}

/// Module `k`'s gradient predictor, if it has one.
fn predictor_of<M: DecoupledModel>(state: &ModelState<M>, k: usize) -> Option<&GradientPredictor> {
    let heads = state.heads.module(k)?;
    match heads.head_of(SyntheticGradientTerm::NAME)? {
        TermHead::Predictor(predictor) => Some(predictor),
        _ => None,
    }
}

/// `x` times `factor`.
fn scaled(x: Activation, factor: f32) -> Activation {
    match x {
        Activation::Flat(t) => Activation::Flat(t.mul_scalar(factor)),
        Activation::Spatial(t) => Activation::Spatial(t.mul_scalar(factor)),
    }
}
