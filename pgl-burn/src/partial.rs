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

use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use pgl_core::StepKind;

use crate::activation::Activation;
use crate::error::TrainError;
use crate::global::{GlobalDone, GlobalStepOptions, first_non_finite, forward_losses};
use crate::model::DecoupledModel;
use crate::replay::ReplayBuffer;
use crate::step::{LocalObjectivePass, ModuleSpan, StepEnv, StepOutcome, local_pass};

/// A partial global step (see the module documentation). `optimizers` are the local
/// optimizers of the bottom K-J modules and the global-step optimizers of the top J (the same
/// ones with a shared optimizer). Every loss is checked before the update it drives; on a
/// non-finite one the model comes back with the updates made before it and the error.
pub(crate) fn partial_global_step<M: DecoupledModel>(
    model: M,
    optimizers: (&mut [ModuleOptimizer], &mut [ModuleOptimizer]),
    local: LocalObjectivePass<'_, M>,
    images: Activation,
    labels: Tensor<1, Int>,
    env: StepEnv<'_>,
    options: GlobalStepOptions,
) -> (M, Result<GlobalDone<M>, TrainError>) {
    let (bottom, top) = optimizers;
    let modules = model.num_modules();
    let first = bottom.len();
    let span = ModuleSpan {
        first: 0,
        total: modules,
    };
    // `local_pass` runs one module per optimizer it is given: the bottom K-J.
    let (mut model, pass) = local_pass(model, bottom, local, images, &labels, env, span, None);
    let pass = match pass {
        Ok(pass) => pass,
        Err(error) => return (model, Err(error)),
    };
    let forward = forward_losses(&model, first, pass.output, labels, env, options);
    if let Some(error) = first_non_finite(&forward.values, env) {
        return (model, Err(error));
    }
    let mut grads = forward.total.backward();
    let top_grads: Vec<GradientsParams> = (first..modules)
        .map(|k| model.module_grads(k, &mut grads))
        .collect();
    let replay =
        (options.replay > 0.0).then(|| ReplayBuffer::capture(&model, &top_grads, options.replay));
    let lr = env.at.lr * options.lr_scale;
    for (optimizer, grads) in top.iter_mut().zip(top_grads) {
        model = optimizer.step(lr, model, grads);
    }
    let mut module_losses: Vec<Option<f32>> = pass.losses.into_iter().map(Some).collect();
    module_losses.extend_from_slice(&forward.values[first..]);
    let outcome = StepOutcome {
        kind: StepKind::Global,
        loss: module_losses[modules - 1].expect("the classifier's loss"),
        module_losses,
    };
    (model, Ok((outcome, replay)))
}
