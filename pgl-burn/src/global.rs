//! The global step (periodic guidance): one end-to-end backward of the classifier's loss (plus
//! `aux_weight · Σ aux losses` when `aux_weight > 0`) through every module, no detach; every
//! module's optimizer (its own global one with `--global-optimizer separate`) then steps with
//! its share of the gradient, at the step's learning rate times `--global-lr-scale`.
//!
//! **Bounded memory** (`--global-microbatch M`): the batch is cut into M contiguous
//! micro-batches; each runs forward and backward at once (its loss weighted by its share of
//! the batch, so the accumulated gradient is the batch mean's), so the step holds the
//! activations of one micro-batch at a time. BatchNorm layers then normalise each micro-batch
//! by its own statistics, as with gradient accumulation in any framework. With M = 1 the step
//! is exactly the plain global step.
//!
//! **Bounded memory, 2** (`--global-checkpointing`): gradient checkpointing at module
//! boundaries for global steps only (see [`crate::recompute`]); combines with micro-batches.
//!
//! **Finiteness**: every loss of every micro-batch is read back and checked before any update.

use burn::optim::{GradientsAccumulator, ModuleOptimizer};
use burn::prelude::*;
use pgl_core::StepKind;

use crate::activation::Activation;
use crate::error::TrainError;
use crate::model::DecoupledModel;
use crate::recompute::recomputed_grads;
use crate::replay::ReplayBuffer;
use crate::step::{GradsAndLosses, StepEnv, StepOutcome, non_finite, read_losses};

/// What a global step needs besides the model, its optimizers and the batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlobalStepOptions {
    /// Weight of the aux heads' losses in the step's loss (0: the classifier's loss only).
    pub aux_weight: f64,
    /// The step's learning rate is the schedule's times this factor.
    pub lr_scale: f64,
    /// Micro-batches the batch is cut into (1: none); more than the batch's samples means
    /// one sample each.
    pub microbatches: usize,
    /// Recompute each module's forward pass during the backward pass, holding one module's
    /// autodiff graph at a time (see [`crate::recompute`]).
    pub recompute: bool,
    /// β of global-gradient replay (see [`crate::replay`]): the step leaves β times its
    /// gradients for the following local steps (0: replay off).
    pub replay: f64,
    /// The aux losses train the aux heads only: each head reads its module's features
    /// detached, so only the classifier's loss reaches the modules.
    pub aux_detach: bool,
}

/// The start and length of each of `parts` contiguous micro-batches of a batch of `batch`
/// samples: lengths differ by at most one, the longer ones first.
pub fn microbatch_ranges(batch: usize, parts: usize) -> Vec<(usize, usize)> {
    let parts = parts.clamp(1, batch.max(1));
    let (base, extra) = (batch / parts, batch % parts);
    let mut start = 0;
    (0..parts)
        .map(|i| {
            let len = base + usize::from(i < extra);
            let range = (start, len);
            start += len;
            range
        })
        .collect()
}

/// The losses of one end-to-end forward pass.
pub(crate) struct ForwardLosses {
    /// What the backward pass differentiates: the classifier's loss plus the weighted aux
    /// losses.
    pub total: Tensor<1>,
    /// Every module's loss value (`None` for aux heads not evaluated); the last is the
    /// classifier's.
    pub values: Vec<Option<f32>>,
}

/// The forward pass of modules `first..K` of `model` on `input` (module `first`'s input; the
/// images when `first` is 0): the classifier's loss and, when `aux_weight > 0`, the aux
/// losses of modules `first..K-1`; all read back in one transfer.
pub(crate) fn forward_losses<M: DecoupledModel>(
    model: &M,
    first: usize,
    input: Activation,
    labels: Tensor<1, Int>,
    env: StepEnv<'_>,
    options: GlobalStepOptions,
) -> ForwardLosses {
    let modules = model.num_modules();
    let aux_weight = options.aux_weight;
    let mut x = input;
    let mut aux_losses = Vec::new();
    for k in first..modules {
        x = model.forward_module(k, x);
        if aux_weight > 0.0 && k + 1 < modules {
            let features = if options.aux_detach {
                x.clone().detach()
            } else {
                x.clone()
            };
            aux_losses.push(env.loss_fn.forward(model.head(k, features), labels.clone()));
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
    let read = read_losses(reported);
    let mut values: Vec<Option<f32>> = vec![None; modules];
    if aux_weight > 0.0 {
        for (slot, v) in values[first..].iter_mut().zip(&read) {
            *slot = Some(*v);
        }
    }
    values[modules - 1] = read.last().copied();
    ForwardLosses { total, values }
}

/// The first non-finite loss of `values` as an error of a global step.
pub(crate) fn first_non_finite(values: &[Option<f32>], env: StepEnv<'_>) -> Option<TrainError> {
    let modules = values.len();
    values
        .iter()
        .enumerate()
        .find_map(|(k, v)| v.filter(|v| !v.is_finite()).map(|v| (k, v)))
        .map(|(k, value)| non_finite(value, StepKind::Global, k, modules, env.at))
}

/// What a global step did: its outcome and, with replay on, the gradients it leaves for the
/// following local steps.
pub(crate) type GlobalDone<M> = (StepOutcome, Option<ReplayBuffer<M>>);

/// A global step (see the module documentation): every loss is checked before any update;
/// on a non-finite one the model comes back unchanged with the error.
pub(crate) fn global_step<M: DecoupledModel>(
    mut model: M,
    optimizers: &mut [ModuleOptimizer],
    images: Activation,
    labels: Tensor<1, Int>,
    env: StepEnv<'_>,
    options: GlobalStepOptions,
) -> (M, Result<GlobalDone<M>, TrainError>) {
    let modules = model.num_modules();
    let batch = images.batch_size();
    let ranges = microbatch_ranges(batch, options.microbatches);
    let whole = ranges.len() == 1;
    // Gradients are summed over micro-batches; a whole batch's go to the optimizers as they are.
    let mut whole_grads = None;
    let mut accumulators: Vec<GradientsAccumulator<M>> = if whole {
        Vec::new()
    } else {
        (0..modules).map(|_| GradientsAccumulator::new()).collect()
    };
    let mut sums: Vec<Option<f64>> = vec![None; modules];
    for &(start, len) in &ranges {
        let (part_images, part_labels, scale) = if whole {
            (images.clone(), labels.clone(), None)
        } else {
            let share = len as f32 / batch as f32;
            let part_labels = labels.clone().narrow(0, start, len);
            (images.narrow_batch(start, len), part_labels, Some(share))
        };
        let (returned, result) = batch_grads(model, part_images, part_labels, env, options, scale);
        model = returned;
        let (grads, values) = match result {
            Ok(done) => done,
            Err(error) => return (model, Err(error)),
        };
        if whole {
            whole_grads = Some(grads);
        } else {
            for (accumulator, grads) in accumulators.iter_mut().zip(grads) {
                accumulator.accumulate(&model, grads);
            }
        }
        let share = len as f64 / batch as f64;
        for (sum, value) in sums.iter_mut().zip(&values) {
            if let Some(value) = value {
                *sum = Some(sum.unwrap_or(0.0) + share * f64::from(*value));
            }
        }
    }
    let lr = env.at.lr * options.lr_scale;
    let module_grads: Vec<_> =
        whole_grads.unwrap_or_else(|| accumulators.iter_mut().map(|a| a.grads()).collect());
    let replay = (options.replay > 0.0)
        .then(|| ReplayBuffer::capture(&model, &module_grads, options.replay));
    for (optimizer, grads) in optimizers.iter_mut().zip(module_grads) {
        model = optimizer.step(lr, model, grads);
    }
    let module_losses: Vec<Option<f32>> = sums.into_iter().map(|s| s.map(|s| s as f32)).collect();
    let outcome = StepOutcome {
        kind: StepKind::Global,
        loss: module_losses[modules - 1].expect("the classifier's loss"),
        module_losses,
    };
    (model, Ok((outcome, replay)))
}

/// Every module's gradients of the (micro-)batch `images` (of its losses times `scale` when
/// given) and every module's loss: by one end-to-end backward, or with module-boundary
/// recomputation when [`GlobalStepOptions::recompute`] is set.
fn batch_grads<M: DecoupledModel>(
    model: M,
    images: Activation,
    labels: Tensor<1, Int>,
    env: StepEnv<'_>,
    options: GlobalStepOptions,
    scale: Option<f32>,
) -> (M, Result<GradsAndLosses, TrainError>) {
    if options.recompute {
        let aux = (options.aux_weight, options.aux_detach);
        return recomputed_grads(model, images, labels, env, aux, scale);
    }
    let pass = forward_losses(&model, 0, images, labels, env, options);
    if let Some(error) = first_non_finite(&pass.values, env) {
        return (model, Err(error));
    }
    let total = match scale {
        Some(scale) => pass.total * scale,
        None => pass.total,
    };
    let mut grads = total.backward();
    let module_grads = (0..model.num_modules())
        .map(|k| model.module_grads(k, &mut grads))
        .collect();
    (model, Ok((module_grads, pass.values)))
}

#[cfg(test)]
mod tests {
    use super::microbatch_ranges;

    #[test]
    fn microbatches_cover_the_batch_in_order_with_balanced_lengths() {
        for batch in 1..40 {
            for parts in 1..12 {
                let ranges = microbatch_ranges(batch, parts);
                assert_eq!(ranges.len(), parts.min(batch));
                let mut next = 0;
                for &(start, len) in &ranges {
                    assert_eq!(start, next);
                    assert!(len >= 1);
                    next += len;
                }
                assert_eq!(next, batch);
                let lengths: Vec<usize> = ranges.iter().map(|r| r.1).collect();
                let (min, max) = (lengths.iter().min(), lengths.iter().max());
                assert!(max.unwrap() - min.unwrap() <= 1, "{lengths:?}");
            }
        }
    }
}
