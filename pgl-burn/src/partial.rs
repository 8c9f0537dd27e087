//! Partial global steps (`--global-depth J`): a global step whose backward pass reaches the
//! top J modules only. Modules `1..K-J` take a local step on the batch (their local objective,
//! `backward()` per module, their local optimizers, the base learning rate); the detached
//! output of module K-J feeds the top J modules, which are trained end to end by the
//! classifier's loss (plus `aux_weight ·` their aux losses), like a global step of a network of
//! J modules, with the global step's optimizers and learning-rate scale.
//!
//! Cheaper than a full global step in time and memory (the autodiff graph spans J modules),
//! so a schedule can afford more of them. Counted fairly: the step's backward crosses module
//! boundaries, so it is a global step in every share and table (for J ≥ 2; J = 1 is a local
//! step with the global step's optimizer settings).

use burn::optim::GradientsParams;
use burn::prelude::*;

use crate::activation::Activation;
use crate::error::TrainError;
use crate::global::{GlobalContext, GlobalDone, first_non_finite, forward_losses};
use crate::model::DecoupledModel;
use crate::replay::ReplayBuffer;
use crate::state::ModelState;
use crate::step::{LocalBatch, LocalContext, ModuleSpan, StepOutcome, local_pass};

/// A partial global step of the top `cx.depth` modules (see the module documentation): the
/// bottom K-J modules learn with their local optimizers, the top J with the global step's
/// (the same ones with a shared optimizer). Every loss is checked before the update it drives;
/// on a non-finite one the state comes back with the updates made before it and the error.
pub(crate) fn partial_global_step<M: DecoupledModel>(
    state: ModelState<M>,
    (images, labels): (Activation, Tensor<1, Int>),
    cx: &GlobalContext<'_, M>,
) -> (ModelState<M>, Result<GlobalDone<M>, TrainError>) {
    let env = cx.env;
    let modules = state.num_modules();
    let first = modules - cx.depth;
    let targets = state.heads.needs_images().then(|| images.clone());
    let batch = LocalBatch {
        input: images,
        labels: &labels,
        images: targets.as_ref(),
    };
    let local = LocalContext {
        replay: cx.replay,
        env,
        span: ModuleSpan {
            first: 0,
            count: first,
            total: modules,
        },
    };
    let (state, pass) = local_pass(state, batch, &local, None);
    let pass = match pass {
        Ok(pass) => pass,
        Err(error) => return (state, Err(error)),
    };
    let loss = cx.loss();
    let forward = forward_losses(&state.model, first, (pass.output, labels), loss);
    if let Some(error) = first_non_finite(&forward.values, env) {
        return (state, Err(error));
    }
    let mut grads = forward.total.backward();
    let top_grads: Vec<GradientsParams> = (first..modules)
        .map(|k| state.model.module_grads(k, &mut grads))
        .collect();
    let beta = cx.guidance.global_replay;
    let replay = (beta > 0.0).then(|| ReplayBuffer::capture(&state.model, &top_grads, beta));
    let state = state.apply_global(first, env.at.lr * cx.guidance.global_lr_scale, top_grads);
    let mut module_losses: Vec<Option<f32>> = pass.losses.into_iter().map(Some).collect();
    module_losses.extend_from_slice(&forward.values[first..]);
    (state, Ok((StepOutcome::global(module_losses), replay)))
}
