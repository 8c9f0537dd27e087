//! The two kinds of training step, as functions of a model, its per-module optimizers and a
//! batch; the [`Trainer`](crate::Trainer) decides which one runs, the pipeline runs local
//! passes on worker threads.
//!
//! **Local step** (greedy local learning, as DGL / InfoPro): for k = 1..K, `h_k = f_k(x_k)`,
//! `loss_k = CE(head_k(h_k), y)`, `backward()` on `loss_k` at once, so module k's autodiff
//! graph is freed before module k+1 runs; module k and its head are stepped by module k's
//! optimizer; `x_{k+1} = detach(h_k)`.
//!
//! **Global step** (periodic guidance): one end-to-end backward of the classifier's loss
//! (plus `aux_weight · Σ aux losses` when `aux_weight > 0`) through every module, no detach;
//! every module's optimizer steps with its share of the gradient.
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

use crate::activation::Activation;
use crate::error::TrainError;
use crate::model::DecoupledModel;

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
fn non_finite(value: f32, kind: StepKind, module: usize, total: usize, at: StepAt) -> TrainError {
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
    let features = model.forward_module(k, input);
    let output = features.clone().detach();
    let loss = loss_fn.forward(model.head(k, features), labels.clone());
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

/// The local-step work of every module of `model`, in order: forward on the detached output
/// of the previous module, its head's cross-entropy, a finiteness check, `backward()` at once,
/// a step of that module's optimizer. Records each module's wall-clock seconds into `timings`
/// when given (the loss read-back makes them cover the module's work). Always hands the model
/// back; on a non-finite loss it holds every update made before that module's.
pub(crate) fn local_pass<M: DecoupledModel>(
    mut model: M,
    optimizers: &mut [ModuleOptimizer],
    images: Activation,
    labels: &Tensor<1, Int>,
    env: StepEnv<'_>,
    span: ModuleSpan,
    mut timings: Option<&mut Vec<f64>>,
) -> (M, Result<LocalPass, TrainError>) {
    let modules = model.num_modules();
    let mut losses = Vec::with_capacity(modules);
    let mut input = images;
    for (k, optimizer) in optimizers.iter_mut().enumerate().take(modules) {
        let started = Instant::now();
        let backward = local_module_backward(&model, k, input, labels, env.loss_fn);
        let Some(mut grads) = backward.grads else {
            let module = span.first + k;
            let error = non_finite(backward.loss, StepKind::Local, module, span.total, env.at);
            return (model, Err(error));
        };
        let module_grads = model.module_grads(k, &mut grads);
        model = optimizer.step(env.at.lr, model, module_grads);
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

/// A local step over the whole network: [`local_pass`] over every module.
pub(crate) fn local_step<M: DecoupledModel>(
    model: M,
    optimizers: &mut [ModuleOptimizer],
    images: Activation,
    labels: &Tensor<1, Int>,
    env: StepEnv<'_>,
    timings: &mut Vec<f64>,
) -> (M, Result<StepOutcome, TrainError>) {
    let span = ModuleSpan {
        first: 0,
        total: model.num_modules(),
    };
    let (model, pass) = local_pass(model, optimizers, images, labels, env, span, Some(timings));
    let outcome = pass.map(|pass| StepOutcome {
        kind: StepKind::Local,
        loss: *pass.losses.last().expect("at least one module"),
        module_losses: pass.losses.into_iter().map(Some).collect(),
    });
    (model, outcome)
}

/// A global step: end-to-end backprop of the classifier's loss, plus `aux_weight` times every
/// aux head's loss when `aux_weight > 0`, through every module; every module's optimizer then
/// steps with its share of the gradient. Every loss is checked before any update.
pub(crate) fn global_step<M: DecoupledModel>(
    mut model: M,
    optimizers: &mut [ModuleOptimizer],
    images: Activation,
    labels: Tensor<1, Int>,
    env: StepEnv<'_>,
    aux_weight: f64,
) -> (M, Result<StepOutcome, TrainError>) {
    let modules = model.num_modules();
    let mut x = images;
    let mut aux_losses = Vec::new();
    for k in 0..modules {
        x = model.forward_module(k, x);
        if aux_weight > 0.0 && k + 1 < modules {
            aux_losses.push(
                env.loss_fn
                    .forward(model.head(k, x.clone()), labels.clone()),
            );
        }
    }
    let classifier_loss = env.loss_fn.forward(model.head(modules - 1, x), labels);
    let mut total = classifier_loss.clone();
    for aux in &aux_losses {
        total = total + aux.clone() * (aux_weight as f32);
    }
    // The aux losses (when used) in module order, then the classifier's: one read-back.
    let mut reported: Vec<Tensor<1>> = aux_losses.into_iter().map(|l| l.detach()).collect();
    reported.push(classifier_loss.detach());
    let values = read_losses(reported);
    let classifier = *values.last().expect("classifier loss");
    let mut module_losses: Vec<Option<f32>> = vec![None; modules];
    if aux_weight > 0.0 {
        for (slot, v) in module_losses.iter_mut().zip(&values) {
            *slot = Some(*v);
        }
    }
    module_losses[modules - 1] = Some(classifier);
    let first_bad = module_losses
        .iter()
        .enumerate()
        .find_map(|(k, v)| v.filter(|v| !v.is_finite()).map(|v| (k, v)));
    if let Some((k, value)) = first_bad {
        let error = non_finite(value, StepKind::Global, k, modules, env.at);
        return (model, Err(error));
    }
    let mut grads = total.backward();
    for (k, optimizer) in optimizers.iter_mut().enumerate().take(modules) {
        let module_grads = model.module_grads(k, &mut grads);
        model = optimizer.step(env.at.lr, model, module_grads);
    }
    let outcome = StepOutcome {
        kind: StepKind::Global,
        loss: classifier,
        module_losses,
    };
    (model, Ok(outcome))
}

/// Reads a list of scalar losses in one transfer.
fn read_losses(losses: Vec<Tensor<1>>) -> Vec<f32> {
    Tensor::cat(losses, 0).into_data().iter::<f32>().collect()
}
