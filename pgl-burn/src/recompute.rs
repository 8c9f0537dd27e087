//! Gradient checkpointing at module boundaries for global steps (`--global-checkpointing`):
//! the end-to-end gradient of a global step while holding the autodiff graph of one module at
//! a time, plus the K module-boundary activations.
//!
//! 1. Forward through every module without gradient tracking (no graph is built), keeping
//!    each module's input.
//! 2. Backward from the last module to the first: recompute module k's forward from its saved
//!    input (which now requires a gradient), differentiate the classifier's loss (k = K) or
//!    `Σ h_k · g_k` (the upstream gradient `g_k` of module k+1's input, a constant; plus
//!    `aux_weight ·` module k's aux loss when used), take module k's parameter gradients and
//!    the gradient of its input, which becomes `g_{k-1}`.
//!
//! By the chain rule this is the plain global step's gradient. Recomputing a forward pass in
//! training mode would move BatchNorm's running statistics a second time with the same batch,
//! so they are saved after the first pass and put back after the recomputation: the step
//! leaves them exactly as a plain global step does. The first pass also runs every head the
//! loss has a term for (without its loss), so that heads with BatchNorm (`1c2f`) move their
//! running statistics once, as in a plain global step, before they are saved.

use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Shape;

use crate::activation::Activation;
use crate::error::TrainError;
use crate::global_loss::GlobalLoss;
use crate::model::DecoupledModel;
use crate::step::{GradsAndLosses, StepAt, non_finite};
use pgl_core::StepKind;

/// A module boundary as a global step saw it: module `module`'s output (detached) and the
/// gradient of the step's loss with respect to it (what synthetic gradients learn from, see
/// [`crate::synthetic`]).
pub struct Boundary {
    /// The module (0-based) whose output this is; never the last one.
    pub module: usize,
    /// The module's output `h_k`, detached.
    pub output: Activation,
    /// `∂L/∂h_k`.
    pub gradient: Activation,
}

/// Every module's gradients of a global step and every module's loss (`None` for aux heads
/// not evaluated; the last is the classifier's), computed with one module's graph at a time;
/// the gradients are those of the losses times `scale` when given (a micro-batch's share).
/// The model's buffers (running statistics) end as one plain forward pass leaves them. With
/// `boundaries`, every boundary between modules is pushed to it, top first.
pub(crate) fn recomputed_grads<M: DecoupledModel>(
    model: M,
    (images, labels): (Activation, Tensor<1, Int>),
    global_loss: GlobalLoss<'_>,
    (at, scale): (StepAt, Option<f32>),
    mut boundaries: Option<&mut Vec<Boundary>>,
) -> (M, Result<GradsAndLosses, TrainError>) {
    let modules = model.num_modules();
    let mut inputs = Vec::with_capacity(modules);
    let mut x = images;
    {
        // Without gradient tracking, so that no graph is built (Burn frees the graph of a
        // forward pass nobody differentiates only at the next backward); BatchNorm still
        // normalises by the batch and updates its running statistics.
        let untracked = model.clone().no_grad();
        for k in 0..modules {
            let output = untracked.forward_module(k, x.clone());
            if global_loss.has_head_loss(k, modules) {
                // With `aux_detach` the head reads detached features: the same values.
                let _ = untracked.head(k, output.clone());
            }
            inputs.push(x);
            x = output;
        }
    }
    drop(x);
    let buffers = BufferSnapshot::take(&model);
    let mut grads_of: Vec<GradientsParams> = (0..modules).map(|_| GradientsParams::new()).collect();
    let mut losses: Vec<Option<f32>> = vec![None; modules];
    let mut upstream: Option<Activation> = None;
    for k in (0..modules).rev() {
        let input = inputs.pop().expect("one input per module");
        let input = if k > 0 { input.require_grad() } else { input };
        let features = model.forward_module(k, input.clone());
        let head_loss = global_loss.head_loss(&model, k, &features, &labels);
        if let Some(loss) = &head_loss {
            let value = loss.clone().into_scalar::<f32>();
            if !value.is_finite() {
                let error = non_finite(value, StepKind::Global, k, modules, at);
                return (buffers.restore(model), Err(error));
            }
            losses[k] = Some(value);
        }
        let head_loss = head_loss.map(|loss| match scale {
            Some(scale) => loss * scale,
            None => loss,
        });
        if let (Some(list), Some(gradient)) = (boundaries.as_mut(), &upstream) {
            list.push(Boundary {
                module: k,
                output: features.clone().detach(),
                gradient: gradient.clone(),
            });
        }
        let objective = match (upstream.take(), head_loss) {
            (None, Some(loss)) => loss,
            (Some(gradient), None) => features.dot(gradient),
            (Some(gradient), Some(aux)) => {
                features.dot(gradient) + aux * global_loss.weight(k, modules)
            }
            (None, None) => unreachable!("the last module always has the classifier's loss"),
        };
        let mut grads = objective.backward();
        grads_of[k] = model.module_grads(k, &mut grads);
        if k > 0 {
            upstream = Some(
                input
                    .grad(&grads)
                    .expect("a module's input takes part in its output"),
            );
        }
    }
    (buffers.restore(model), Ok((grads_of, losses)))
}

/// The values of a model's buffers (parameters no optimizer trains: BatchNorm's running mean
/// and variance), by id, flattened with their shapes.
struct BufferSnapshot(HashMap<ParamId, (Tensor<1>, Shape)>);

impl BufferSnapshot {
    /// The buffers of `model` as they are now (pending running-statistics updates included).
    fn take<M: Module>(model: &M) -> Self {
        /// Collects buffers.
        struct Collect(HashMap<ParamId, (Tensor<1>, Shape)>);
        impl ModuleVisitor for Collect {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                let value = param.val();
                if !value.is_require_grad() {
                    let shape = value.shape();
                    let flat = value.reshape([shape.num_elements()]);
                    self.0.insert(param.id, (flat, shape));
                }
            }
        }
        // `valid` folds the running statistics' pending updates into their values.
        let _ = model.valid();
        let mut collect = Collect(HashMap::new());
        model.visit(&mut collect);
        Self(collect.0)
    }

    /// `model` with its buffers set back to this snapshot.
    fn restore<M: Module>(self, model: M) -> M {
        /// Replaces buffers by their saved values.
        struct Put(HashMap<ParamId, (Tensor<1>, Shape)>);
        impl ModuleMapper for Put {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                match self.0.remove(&param.id) {
                    Some((flat, shape)) => {
                        Param::initialized(param.id, flat.reshape(shape).set_require_grad(false))
                    }
                    None => param,
                }
            }
        }
        // Fold the recomputation's pending updates first, so that nothing overwrites the
        // restored values later.
        let _ = model.valid();
        model.map(&mut Put(self.0))
    }
}
