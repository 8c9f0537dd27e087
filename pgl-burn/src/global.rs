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

use burn::optim::GradientsAccumulator;
use burn::prelude::*;
use pgl_core::{GuidanceConfig, StepKind};

use crate::activation::Activation;
use crate::error::TrainError;
use crate::global_loss::GlobalLoss;
use crate::model::DecoupledModel;
use crate::recompute::{Boundary, recomputed_grads};
use crate::replay::ReplayBuffer;
use crate::state::ModelState;
use crate::step::{GradsAndLosses, StepEnv, StepOutcome, non_finite, read_losses};
use crate::synthetic::train_predictors;

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

/// What a global step needs besides the model state and the batch.
pub(crate) struct GlobalContext<'a, M> {
    /// The loss function and the step's place and learning rate.
    pub env: StepEnv<'a>,
    /// How global steps run: aux weight, learning-rate scale, micro-batches, recomputation,
    /// replay, depth (the run's own settings, read where they act).
    pub guidance: &'a GuidanceConfig,
    /// Plain end-to-end training: plain backprop, so no aux losses and no synthetic gradients
    /// whatever `guidance` says.
    pub plain: bool,
    /// Modules the backward pass reaches, counted from the top: K for a global step, fewer
    /// for a partial one (see [`crate::partial`]).
    pub depth: usize,
    /// The gradients to replay in a partial global step's local part.
    pub replay: Option<&'a ReplayBuffer<M>>,
}

impl<'a, M> GlobalContext<'a, M> {
    /// The loss the step differentiates: the classifier's plus `aux_weight` times the aux
    /// heads' (none in plain end-to-end training).
    pub(crate) fn loss(&self) -> GlobalLoss<'a> {
        GlobalLoss {
            loss_fn: self.env.loss_fn,
            aux_weight: if self.plain {
                0.0
            } else {
                self.guidance.aux_weight
            },
            aux_detach: self.guidance.global_aux_detach,
        }
    }

    /// α of synthetic gradients (0: off, and always in plain end-to-end training).
    pub(crate) fn synthetic_gradient(&self) -> f64 {
        if self.plain {
            0.0
        } else {
            self.guidance.synthetic_gradient
        }
    }
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
/// images when `first` is 0): the terms of `loss` for those modules, read back in one
/// transfer.
pub(crate) fn forward_losses<M: DecoupledModel>(
    model: &M,
    first: usize,
    (input, labels): (Activation, Tensor<1, Int>),
    loss: GlobalLoss<'_>,
) -> ForwardLosses {
    let modules = model.num_modules();
    let mut x = input;
    let mut terms = Vec::new();
    for k in first..modules {
        x = model.forward_module(k, x);
        if let Some(term) = loss.head_loss(model, k, &x, &labels) {
            terms.push((k, term));
        }
    }
    // The classifier's term first, then the aux terms in module order (as the sum has always
    // been formed: the order of a float sum is part of the result).
    let (_, classifier) = terms.last().expect("the classifier's loss").clone();
    let mut total = classifier;
    for (k, term) in &terms[..terms.len() - 1] {
        total = total + term.clone() * loss.weight(*k, modules);
    }
    let read = read_losses(terms.iter().map(|(_, t)| t.clone().detach()).collect());
    let mut values: Vec<Option<f32>> = vec![None; modules];
    for ((k, _), value) in terms.iter().zip(read) {
        values[*k] = Some(value);
    }
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
/// on a non-finite one the state comes back unchanged with the error.
pub(crate) fn global_step<M: DecoupledModel>(
    mut state: ModelState<M>,
    (images, labels): (Activation, Tensor<1, Int>),
    cx: &GlobalContext<'_, M>,
) -> (ModelState<M>, Result<GlobalDone<M>, TrainError>) {
    let (env, guidance) = (cx.env, cx.guidance);
    let modules = state.num_modules();
    let batch = images.batch_size();
    let ranges = microbatch_ranges(batch, guidance.microbatches());
    let whole = ranges.len() == 1;
    // Gradients are summed over micro-batches; a whole batch's go to the optimizers as they are.
    let mut whole_grads = None;
    let mut accumulators: Vec<GradientsAccumulator<M>> = if whole {
        Vec::new()
    } else {
        (0..modules).map(|_| GradientsAccumulator::new()).collect()
    };
    let mut sums: Vec<Option<f64>> = vec![None; modules];
    // With synthetic gradients (whole batches only), the boundaries the predictors learn from.
    let mut boundaries = (cx.synthetic_gradient() > 0.0).then(Vec::new);
    for &(start, len) in &ranges {
        let (part, scale) = if whole {
            ((images.clone(), labels.clone()), None)
        } else {
            let share = len as f32 / batch as f32;
            let part_labels = labels.clone().narrow(0, start, len);
            ((images.narrow_batch(start, len), part_labels), Some(share))
        };
        let (model, result) = batch_grads(state.model, part, cx, scale, boundaries.as_mut());
        state.model = model;
        let (grads, values) = match result {
            Ok(done) => done,
            Err(error) => return (state, Err(error)),
        };
        if whole {
            whole_grads = Some(grads);
        } else {
            for (accumulator, grads) in accumulators.iter_mut().zip(grads) {
                accumulator.accumulate(&state.model, grads);
            }
        }
        let share = len as f64 / batch as f64;
        for (sum, value) in sums.iter_mut().zip(&values) {
            if let Some(value) = value {
                *sum = Some(sum.unwrap_or(0.0) + share * f64::from(*value));
            }
        }
    }
    let module_grads: Vec<_> =
        whole_grads.unwrap_or_else(|| accumulators.iter_mut().map(|a| a.grads()).collect());
    let beta = guidance.global_replay;
    let replay = (beta > 0.0).then(|| ReplayBuffer::capture(&state.model, &module_grads, beta));
    let lr = env.at.lr * guidance.global_lr_scale;
    let mut state = state.apply_global(0, lr, module_grads);
    if let Some(boundaries) = boundaries {
        state = train_predictors(state, boundaries, &labels, lr);
    }
    let module_losses: Vec<Option<f32>> = sums.into_iter().map(|s| s.map(|s| s as f32)).collect();
    (state, Ok((StepOutcome::global(module_losses), replay)))
}

/// Every module's gradients of the (micro-)batch (of its losses times `scale` when given) and
/// every module's loss: by one end-to-end backward, or with module-boundary recomputation
/// when `global_checkpointing` is set or the module boundaries are wanted
/// (`boundaries`, filled by the recomputation).
fn batch_grads<M: DecoupledModel>(
    model: M,
    batch: (Activation, Tensor<1, Int>),
    cx: &GlobalContext<'_, M>,
    scale: Option<f32>,
    boundaries: Option<&mut Vec<Boundary>>,
) -> (M, Result<GradsAndLosses, TrainError>) {
    let loss = cx.loss();
    if cx.guidance.global_checkpointing || boundaries.is_some() {
        return recomputed_grads(model, batch, loss, (cx.env.at, scale), boundaries);
    }
    let pass = forward_losses(&model, 0, batch, loss);
    if let Some(error) = first_non_finite(&pass.values, cx.env) {
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
