//! The two kinds of training step, as functions of a model, its per-module optimizers and a
//! batch; the [`Trainer`](crate::Trainer) decides which one runs, the pipeline runs local
//! passes on worker threads.
//!
//! **Local step** (greedy local learning, as DGL / InfoPro): for k = 1..K, `h_k = f_k(x_k)`,
//! `loss_k` = module k's local objective on `h_k` (with `ce`, the default, `CE(head_k(h_k),
//! y)`; see [`crate::objective`]), `backward()` on `loss_k` at once, so module k's autodiff
//! graph is freed before module k+1 runs; module k, its head and its extra heads are stepped
//! by module k's optimizer; `x_{k+1} = detach(h_k)`.
//!
//! **Global step** (periodic guidance): see [`crate::global`].
//!
//! **Finiteness.** Every loss is read back and checked *before* the update it would drive: a
//! local step checks module k's loss before module k's update, a global step checks the
//! classifier's loss and every aux loss it uses before any update. A non-finite loss stops
//! the step with [`TrainError::NonFiniteLoss`] naming the module, and the model keeps the
//! weights it had before that update.

use std::time::Instant;

use burn::nn::loss::CrossEntropyLoss;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use burn::tensor::Gradients;
use pgl_core::StepKind;
use pgl_core::objective::{LocalObjective, ObjectiveWeights};

use crate::activation::Activation;
use crate::error::TrainError;
use crate::model::DecoupledModel;
use crate::objective::{LocalTargets, ObjectiveHeads, module_loss};
use crate::replay::ReplayBuffer;

/// What one training step did.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    /// Which kind of step ran.
    pub kind: StepKind,
    /// The classifier's loss on the batch.
    pub loss: f32,
    /// Loss of each module's head on the batch; `None` for aux heads a global step did not
    /// evaluate (when `aux_weight` is 0). The last entry is the classifier's.
    pub module_losses: Vec<Option<f32>>,
}

/// Where a step stands in the run (every count starts at 1, as error messages say it) and
/// the learning rate the learning-rate schedule gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StepAt {
    /// Epoch.
    pub epoch: u64,
    /// Global iteration.
    pub iteration: u64,
    /// Batch within the epoch.
    pub batch: u64,
    /// Learning rate of the step: the base rate times the schedule's factor.
    pub lr: f64,
}

/// What a step needs besides the model, its optimizers and the batch.
#[derive(Clone, Copy)]
pub(crate) struct StepEnv<'a> {
    /// The loss of every head.
    pub loss_fn: &'a CrossEntropyLoss,
    /// Where the step stands, and its learning rate.
    pub at: StepAt,
}

/// The modules a local pass covers: `count` modules starting at `first` (0-based) of a network
/// of `total` modules. A pipeline worker covers a contiguous part; a sequential step all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ModuleSpan {
    /// Index of the first module in the whole network.
    pub first: usize,
    /// Number of modules of the whole network.
    pub total: usize,
}

/// The [`TrainError::NonFiniteLoss`] of `value`, the loss of module `module` (0-based, in a
/// network of `total` modules).
pub(crate) fn non_finite(
    value: f32,
    kind: StepKind,
    module: usize,
    total: usize,
    at: StepAt,
) -> TrainError {
    let number = module + 1;
    TrainError::NonFiniteLoss {
        epoch: at.epoch,
        iteration: at.iteration,
        batch: at.batch,
        kind,
        module: number,
        location: if number == total {
            format!("classifier after module {number}")
        } else {
            format!("aux head of module {number}")
        },
        value,
        hint: String::new(), // the trainer's diagnosis (crate::diagnose)
    }
}

/// Module k's part of a local step, up to its update: see [`local_module_backward`].
pub struct ModuleBackward {
    /// Module k's output, detached: the next module's input. Nothing computed from it can
    /// send a gradient back into module k or earlier.
    pub output: Activation,
    /// The value of module k's head loss.
    pub loss: f32,
    /// The gradients of that loss; `None` when the loss is not finite (no backward ran).
    pub grads: Option<Gradients>,
}

/// Module `k`'s part of a local step up to (not including) its update: forward on `input`,
/// its head's cross-entropy, the loss read back and, when finite, `backward()` at once, so
/// module k's autodiff graph is freed before module k+1 runs. Exposed so that tests can check
/// that the gradients of module k's loss reach no earlier module.
pub fn local_module_backward<M: DecoupledModel>(
    model: &M,
    k: usize,
    input: Activation,
    labels: &Tensor<1, Int>,
    loss_fn: &CrossEntropyLoss,
) -> ModuleBackward {
    let targets = LocalTargets {
        labels,
        images: None,
    };
    let objective = ModuleObjective {
        weights: ObjectiveWeights::CE,
        temperature: 0.0,
        heads: &ObjectiveHeads::none(),
    };
    module_backward(model, k, input, targets, objective, loss_fn)
}

/// [`local_module_backward`] with a local objective: module `k` (of the whole network `model`)
/// learns from `objective`'s loss for it, with its extra heads in `heads` (those of every
/// module of `model`, as [`ObjectiveHeads::build`] makes them). Exposed so that tests can
/// check gradient isolation with every objective.
pub fn local_module_backward_with<M: DecoupledModel>(
    model: &M,
    heads: &ObjectiveHeads,
    objective: &dyn LocalObjective,
    k: usize,
    input: Activation,
    targets: LocalTargets<'_>,
    loss_fn: &CrossEntropyLoss,
) -> ModuleBackward {
    let module = ModuleObjective {
        weights: objective.weights(k, model.num_modules()),
        temperature: objective.temperature(),
        heads,
    };
    module_backward(model, k, input, targets, module, loss_fn)
}

/// Module k's weights, contrastive temperature, and the heads it is computed with.
#[derive(Clone, Copy)]
struct ModuleObjective<'a> {
    weights: ObjectiveWeights,
    temperature: f64,
    /// The extra heads of every module of the model (or group) `k` indexes.
    heads: &'a ObjectiveHeads,
}

fn module_backward<M: DecoupledModel>(
    model: &M,
    k: usize,
    input: Activation,
    targets: LocalTargets<'_>,
    objective: ModuleObjective<'_>,
    loss_fn: &CrossEntropyLoss,
) -> ModuleBackward {
    let features = model.forward_module(k, input);
    let output = features.clone().detach();
    let heads = objective.heads.module(k);
    let loss = module_loss(
        model,
        heads,
        k,
        objective.weights,
        objective.temperature,
        features,
        targets,
        loss_fn,
    );
    // Reading the value waits for the module's forward work to finish.
    let value = loss.clone().into_scalar::<f32>();
    let grads = value.is_finite().then(|| loss.backward());
    ModuleBackward {
        output,
        loss: value,
        grads,
    }
}

/// The result of a local pass: the last module's detached output and every module's loss.
pub(crate) struct LocalPass {
    /// The detached output of the last module of the span.
    pub output: Activation,
    /// The loss of every module of the span, in order.
    pub losses: Vec<f32>,
}

/// What every module of a local pass learns from: the run's local objective, the extra heads
/// of the pass's modules, the network's input images when a decoder needs them (a pipeline
/// group after the first gets activations as its input, not the images), and the gradients
/// the latest global step left to replay.
pub(crate) struct LocalObjectivePass<'a, M> {
    /// The run's local objective.
    pub objective: &'a dyn LocalObjective,
    /// The extra heads of the pass's modules (stepped by their modules' optimizers).
    pub heads: &'a mut ObjectiveHeads,
    /// The input images of the batch (`None` when no module of the pass has a decoder).
    pub images: Option<&'a Activation>,
    /// Global gradients added to every module's local gradients (shaped like the pass's
    /// model; `None`: replay off or no global step yet). See [`crate::replay`].
    pub replay: Option<&'a ReplayBuffer<M>>,
}

/// The local-step work of every module of `model`, in order: forward on the detached output
/// of the previous module, its local objective's loss, a finiteness check, `backward()` at
/// once, a step of that module's optimizer (over the module, its head and its extra heads).
/// Records each module's wall-clock seconds into `timings` when given (the loss read-back
/// makes them cover the module's work). Always hands the model back; on a non-finite loss it
/// holds every update made before that module's.
#[allow(clippy::too_many_arguments)]
pub(crate) fn local_pass<M: DecoupledModel>(
    mut model: M,
    optimizers: &mut [ModuleOptimizer],
    local: LocalObjectivePass<'_, M>,
    images: Activation,
    labels: &Tensor<1, Int>,
    env: StepEnv<'_>,
    span: ModuleSpan,
    mut timings: Option<&mut Vec<f64>>,
) -> (M, Result<LocalPass, TrainError>) {
    let modules = model.num_modules();
    let mut losses = Vec::with_capacity(modules);
    let mut input = images;
    let targets = LocalTargets {
        labels,
        images: local.images,
    };
    let temperature = local.objective.temperature();
    for (k, optimizer) in optimizers.iter_mut().enumerate().take(modules) {
        let started = Instant::now();
        let objective = ModuleObjective {
            weights: local.objective.weights(span.first + k, span.total),
            temperature,
            heads: &*local.heads,
        };
        let backward = module_backward(&model, k, input, targets, objective, env.loss_fn);
        let Some(mut grads) = backward.grads else {
            let module = span.first + k;
            let error = non_finite(backward.loss, StepKind::Local, module, span.total, env.at);
            return (model, Err(error));
        };
        let mut module_grads = model.module_grads(k, &mut grads);
        if let Some(replay) = local.replay {
            replay.add_to(&mut module_grads);
        }
        model = optimizer.step(env.at.lr, model, module_grads);
        local.heads.step(k, optimizer, env.at.lr, &mut grads);
        if let Some(timings) = timings.as_deref_mut() {
            timings.push(started.elapsed().as_secs_f64());
        }
        losses.push(backward.loss);
        input = backward.output;
    }
    let pass = LocalPass {
        output: input,
        losses,
    };
    (model, Ok(pass))
}

/// A local step over the whole network: [`local_pass`] over every module, adding `replay`'s
/// gradients to the local ones when given.
#[allow(clippy::too_many_arguments)]
pub(crate) fn local_step<M: DecoupledModel>(
    model: M,
    optimizers: &mut [ModuleOptimizer],
    objective: &dyn LocalObjective,
    heads: &mut ObjectiveHeads,
    replay: Option<&ReplayBuffer<M>>,
    images: Activation,
    labels: &Tensor<1, Int>,
    env: StepEnv<'_>,
    timings: &mut Vec<f64>,
) -> (M, Result<StepOutcome, TrainError>) {
    let span = ModuleSpan {
        first: 0,
        total: model.num_modules(),
    };
    let targets = heads.needs_images().then(|| images.clone());
    let local = LocalObjectivePass {
        objective,
        heads,
        images: targets.as_ref(),
        replay,
    };
    let timings = Some(timings);
    let (model, pass) = local_pass(model, optimizers, local, images, labels, env, span, timings);
    let outcome = pass.map(|pass| StepOutcome {
        kind: StepKind::Local,
        loss: *pass.losses.last().expect("at least one module"),
        module_losses: pass.losses.into_iter().map(Some).collect(),
    });
    (model, outcome)
}

/// Every module's gradients and every module's loss (`None` for aux heads not evaluated; the
/// last is the classifier's): what a global step's backward pass hands to the optimizers.
pub(crate) type GradsAndLosses = (Vec<burn::optim::GradientsParams>, Vec<Option<f32>>);

/// Reads a list of scalar losses in one transfer.
pub(crate) fn read_losses(losses: Vec<Tensor<1>>) -> Vec<f32> {
    Tensor::cat(losses, 0).into_data().iter::<f32>().collect()
}
