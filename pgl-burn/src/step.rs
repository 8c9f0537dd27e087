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
use burn::prelude::*;
use burn::tensor::Gradients;
use pgl_core::StepKind;

use crate::activation::Activation;
use crate::error::TrainError;
use crate::model::DecoupledModel;
use crate::objective::{LocalTargets, ModuleHeads, ObjectiveHeads, module_loss};
use crate::replay::ReplayBuffer;
use crate::state::ModelState;

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

impl StepOutcome {
    /// A local step's outcome from every module's loss, in module order.
    pub(crate) fn local(losses: Vec<f32>) -> Self {
        Self {
            kind: StepKind::Local,
            loss: *losses.last().expect("at least one module"),
            module_losses: losses.into_iter().map(Some).collect(),
        }
    }

    /// A global step's outcome from every module's loss (`None` for aux heads it did not
    /// evaluate), in module order; the last is the classifier's.
    pub(crate) fn global(module_losses: Vec<Option<f32>>) -> Self {
        Self {
            kind: StepKind::Global,
            loss: module_losses
                .last()
                .copied()
                .flatten()
                .expect("the classifier's loss"),
            module_losses,
        }
    }
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

/// What every step needs besides the model state and the batch.
#[derive(Clone, Copy)]
pub(crate) struct StepEnv<'a> {
    /// The loss of every head.
    pub loss_fn: &'a CrossEntropyLoss,
    /// Where the step stands, and its learning rate.
    pub at: StepAt,
}

/// The modules a local pass trains: the first `count` modules of the model it is given, which
/// are modules `first..first + count` (0-based) of a network of `total` modules. A pipeline
/// worker covers its group, a sequential step all modules, a partial global step the bottom
/// ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ModuleSpan {
    /// Index of the first module in the whole network.
    pub first: usize,
    /// Number of modules the pass trains.
    pub count: usize,
    /// Number of modules of the whole network.
    pub total: usize,
}

impl ModuleSpan {
    /// Every module of a network of `modules` modules.
    pub fn whole(modules: usize) -> Self {
        Self {
            first: 0,
            count: modules,
            total: modules,
        }
    }
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
    module_backward(model, k, input, targets, None, loss_fn)
}

/// [`local_module_backward`] with a local objective: module `k` (of the whole network `model`)
/// learns from its terms with their heads in `heads` (those of every module of `model`, as
/// [`ObjectiveHeads::build`] makes them). Exposed so that tests can check gradient isolation
/// with every objective.
pub fn local_module_backward_with<M: DecoupledModel>(
    model: &M,
    heads: &ObjectiveHeads,
    k: usize,
    input: Activation,
    targets: LocalTargets<'_>,
    loss_fn: &CrossEntropyLoss,
) -> ModuleBackward {
    module_backward(model, k, input, targets, heads.module(k), loss_fn)
}

fn module_backward<M: DecoupledModel>(
    model: &M,
    k: usize,
    input: Activation,
    targets: LocalTargets<'_>,
    heads: Option<&ModuleHeads>,
    loss_fn: &CrossEntropyLoss,
) -> ModuleBackward {
    let features = model.forward_module(k, input);
    let output = features.clone().detach();
    let loss = module_loss(model, k, features, targets, heads, loss_fn);
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

/// A batch as a local pass sees it.
pub(crate) struct LocalBatch<'a> {
    /// The input of the pass's first module: the images, or (in a pipeline group after the
    /// first, or above a partial global step's local part) a detached activation.
    pub input: Activation,
    /// Class labels `[batch]`.
    pub labels: &'a Tensor<1, Int>,
    /// The network's input images, when a module's decoder reconstructs them.
    pub images: Option<&'a Activation>,
}

/// What every module of a local pass learns from besides its batch and its state's loss terms:
/// the gradients the latest global step left to replay, where the step stands, and which
/// modules the pass trains.
pub(crate) struct LocalContext<'a, M> {
    /// Global gradients added to every module's local gradients (shaped like the pass's
    /// model; `None`: replay off or no global step yet). See [`crate::replay`].
    pub replay: Option<&'a ReplayBuffer<M>>,
    /// The loss function and the step's place and learning rate.
    pub env: StepEnv<'a>,
    /// The modules the pass trains.
    pub span: ModuleSpan,
}

/// The local-step work of the first `cx.span.count` modules of `state`, in order: forward on
/// the detached output of the previous module, its local objective's loss, a finiteness check,
/// `backward()` at once, a step of that module's optimizer (over the module, its head and its
/// extra heads). Records each module's wall-clock seconds into `timings` when given (the loss
/// read-back makes them cover the module's work). Always hands the state back; on a
/// non-finite loss it holds every update made before that module's.
pub(crate) fn local_pass<M: DecoupledModel>(
    mut state: ModelState<M>,
    batch: LocalBatch<'_>,
    cx: &LocalContext<'_, M>,
    mut timings: Option<&mut Vec<f64>>,
) -> (ModelState<M>, Result<LocalPass, TrainError>) {
    let (span, at) = (cx.span, cx.env.at);
    let mut losses = Vec::with_capacity(span.count);
    let mut input = batch.input;
    let targets = LocalTargets {
        labels: batch.labels,
        images: batch.images,
    };
    for k in 0..span.count {
        let started = Instant::now();
        let heads = state.heads.module(k);
        let backward = module_backward(&state.model, k, input, targets, heads, cx.env.loss_fn);
        let Some(mut grads) = backward.grads else {
            let module = span.first + k;
            let error = non_finite(backward.loss, StepKind::Local, module, span.total, at);
            return (state, Err(error));
        };
        let mut module_grads = state.model.module_grads(k, &mut grads);
        if let Some(replay) = cx.replay {
            replay.add_to(&mut module_grads);
        }
        let optimizer = &mut state.optimizers[k];
        state.model = optimizer.step(at.lr, state.model, module_grads);
        state.heads.step(k, optimizer, at.lr, &mut grads);
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
    (state, Ok(pass))
}

/// A local step over the whole network on `images` and `labels`: [`local_pass`] over every
/// module (`cx.span` covers them all), timing every module into `timings`.
pub(crate) fn local_step<M: DecoupledModel>(
    state: ModelState<M>,
    (images, labels): (Activation, Tensor<1, Int>),
    cx: &LocalContext<'_, M>,
    timings: &mut Vec<f64>,
) -> (ModelState<M>, Result<StepOutcome, TrainError>) {
    let targets = state.heads.needs_images().then(|| images.clone());
    let batch = LocalBatch {
        input: images,
        labels: &labels,
        images: targets.as_ref(),
    };
    let (state, pass) = local_pass(state, batch, cx, Some(timings));
    (state, pass.map(|pass| StepOutcome::local(pass.losses)))
}

/// Every module's gradients and every module's loss (`None` for aux heads not evaluated; the
/// last is the classifier's): what a global step's backward pass hands to the optimizers.
pub(crate) type GradsAndLosses = (Vec<burn::optim::GradientsParams>, Vec<Option<f32>>);

/// Reads a list of scalar losses in one transfer.
pub(crate) fn read_losses(losses: Vec<Tensor<1>>) -> Vec<f32> {
    Tensor::cat(losses, 0).into_data().iter::<f32>().collect()
}
