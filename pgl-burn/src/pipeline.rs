//! Pipelined local steps: the K modules are cut into W contiguous groups, each trained by its
//! own worker thread. Detached activations and labels flow forward through bounded queues, so
//! group g trains on batch t while group g+1 trains on batch t−1.
//!
//! Every module still sees the same sequence of (input, label) batches as in sequential mode,
//! with the same weights: module k's output for batch t is computed before its update on t,
//! exactly as in a sequential local step, and queues are first-in first-out. A pipelined run
//! is therefore the same computation as a sequential one, only overlapped in time.
//!
//! Groups are cut so that the slowest worker is as fast as possible: the first
//! [`CALIBRATION_STEPS`](crate::trainer::CALIBRATION_STEPS) local steps run sequentially and
//! time every module, then [`balanced_groups`](crate::trainer::balanced_groups) chooses the
//! contiguous groups.
//!
//! A [`Segment`] is one stretch of consecutive local steps. The trainer starts one at the first
//! local step after a global step (or at the start of an epoch) and finishes it before the
//! next global step: the pipeline drains, every worker hands its modules and optimizers back,
//! the global step runs on the whole model, and a new segment starts after it.
//!
//! Backpressure: every queue holds at most `capacity` batches; the coordinator blocks when the
//! first queue is full. The last worker never blocks on sending, so the pipeline always
//! drains. A worker that fails (a non-finite loss) stops; its queues close, which stops the
//! workers before it, and the error is reported with its module.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::{Scope, ScopedJoinHandle};

use burn::nn::loss::CrossEntropyLoss;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use pgl_core::StepKind;

use crate::activation::Activation;
use crate::error::TrainError;
use crate::model::{DecoupledModel, settle_running_stats};
use crate::trainer::{local_pass, read_losses};

/// One batch travelling through the pipeline.
pub(crate) struct Work {
    /// Batch index within the epoch (0-based).
    pub batch: usize,
    /// Epoch (1-based), for error messages.
    pub epoch: u64,
    /// Global iteration (1-based), for error messages.
    pub iteration: u64,
    /// Input of the group: the images, or the detached output of the previous group.
    pub input: Activation,
    /// Labels of the batch.
    pub labels: Tensor<1, Int>,
}

/// What a worker hands back when its segment ends.
pub(crate) struct GroupResult<M> {
    model: M,
    optimizers: Vec<ModuleOptimizer>,
    /// `(batch, losses of the group's modules)` in batch order.
    losses: Vec<(usize, Vec<f32>)>,
    error: Option<(usize, TrainError)>,
}

/// What a drained pipeline hands back.
pub(crate) struct Finished<M> {
    /// The whole model.
    pub model: M,
    /// Every module's optimizer, in module order.
    pub optimizers: Vec<ModuleOptimizer>,
    /// `(batch, losses of all K modules)` of every completed batch, in batch order.
    pub losses: Vec<(usize, Vec<f32>)>,
    /// The error of the earliest failing batch, if any.
    pub error: Option<TrainError>,
}

/// A running pipeline of W worker threads.
pub(crate) struct Segment<'scope, M> {
    first: Option<SyncSender<Work>>,
    handles: Vec<ScopedJoinHandle<'scope, GroupResult<M>>>,
}

#[allow(clippy::too_many_arguments)]
fn run_group<M: DecoupledModel>(
    mut model: M,
    mut optimizers: Vec<ModuleOptimizer>,
    first_module: usize,
    total_modules: usize,
    lr: f64,
    device: Device,
    input: Receiver<Work>,
    output: Option<SyncSender<Work>>,
) -> GroupResult<M> {
    let loss_fn = CrossEntropyLoss::new(None, &device);
    let mut losses = Vec::new();
    let mut error = None;
    for work in input.iter() {
        let (next, out, pending) = local_pass(
            model,
            &mut optimizers,
            work.input,
            &work.labels,
            lr,
            &loss_fn,
        );
        model = next;
        let values = read_losses(pending);
        if let Some((k, value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            let module = first_module + k + 1;
            error = Some((
                work.batch,
                TrainError::NonFiniteLoss {
                    epoch: work.epoch,
                    iteration: work.iteration,
                    batch: work.batch as u64 + 1,
                    kind: StepKind::Local,
                    location: if module == total_modules {
                        format!("classifier after module {module}")
                    } else {
                        format!("aux head of module {module}")
                    },
                    value: *value,
                },
            ));
            break;
        }
        losses.push((work.batch, values));
        if let Some(next_queue) = &output {
            let forwarded = Work { input: out, ..work };
            if next_queue.send(forwarded).is_err() {
                break; // a later worker stopped
            }
        }
    }
    GroupResult {
        model,
        optimizers,
        losses,
        error,
    }
}

impl<'scope, M: DecoupledModel + Send + 'scope> Segment<'scope, M> {
    /// Splits `model` and `optimizers` into groups of `sizes` modules and starts one thread
    /// per group.
    pub fn start<'env>(
        scope: &'scope Scope<'scope, 'env>,
        model: M,
        optimizers: Vec<ModuleOptimizer>,
        sizes: &[usize],
        capacity: usize,
        lr: f64,
        device: &Device,
    ) -> Self {
        settle_running_stats(&model);
        let total = model.num_modules();
        let sizes = sizes.to_vec();
        let groups = model.into_groups(&sizes);
        let mut optimizers = optimizers.into_iter();
        let (first, mut receiver) = sync_channel::<Work>(capacity);
        let mut handles = Vec::with_capacity(sizes.len());
        let mut first_module = 0;
        let last = sizes.len() - 1;
        for (g, (group, size)) in groups.into_iter().zip(sizes.iter().copied()).enumerate() {
            let group_optimizers: Vec<ModuleOptimizer> = optimizers.by_ref().take(size).collect();
            let (output, next_receiver) = if g < last {
                let (sender, next) = sync_channel::<Work>(capacity);
                (Some(sender), Some(next))
            } else {
                (None, None)
            };
            let input = receiver;
            let device = device.clone();
            let start = first_module;
            handles.push(scope.spawn(move || {
                run_group(
                    group,
                    group_optimizers,
                    start,
                    total,
                    lr,
                    device,
                    input,
                    output,
                )
            }));
            first_module += size;
            match next_receiver {
                Some(next) => receiver = next,
                None => break,
            }
        }
        Self {
            first: Some(first),
            handles,
        }
    }

    /// Feeds a batch to the first group; `false` when the pipeline has stopped (a worker failed).
    pub fn send(&mut self, work: Work) -> bool {
        self.first.as_ref().is_some_and(|q| q.send(work).is_ok())
    }

    /// Drains the pipeline and joins every worker; see [`Finished`].
    pub fn finish(mut self) -> Finished<M> {
        drop(self.first.take()); // closing the first queue lets every worker finish
        let mut groups = Vec::new();
        let mut optimizers = Vec::new();
        let mut per_group: Vec<Vec<(usize, Vec<f32>)>> = Vec::new();
        let mut first_error: Option<(usize, TrainError)> = None;
        for handle in self.handles.drain(..) {
            let result = match handle.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            groups.push(result.model);
            optimizers.extend(result.optimizers);
            per_group.push(result.losses);
            if let Some((batch, error)) = result.error
                && first_error.as_ref().is_none_or(|(b, _)| batch < *b)
            {
                first_error = Some((batch, error));
            }
        }
        // A batch is complete when the last group has its losses.
        let complete = per_group.last().map_or(0, Vec::len);
        let losses = (0..complete)
            .map(|i| {
                let batch = per_group.last().expect("at least one group")[i].0;
                let all = per_group
                    .iter()
                    .flat_map(|g| g[i].1.iter().copied())
                    .collect();
                (batch, all)
            })
            .collect();
        let model = M::from_groups(groups);
        settle_running_stats(&model);
        Finished {
            model,
            optimizers,
            losses,
            error: first_error.map(|(_, e)| e),
        }
    }
}
