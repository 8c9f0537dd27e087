//! Pipelined local steps: the K modules are cut into W contiguous groups, each trained by its
//! own worker thread. Detached activations and labels flow forward through bounded queues, so
//! group g trains on batch t while group g+1 trains on batch t−1.
//!
//! Every module still sees the same sequence of (input, label) batches as in sequential mode,
//! with the same weights: module k's output for batch t is computed before its update on t,
//! exactly as in a sequential local step, and queues are first-in first-out. A pipelined run
//! is therefore the same computation as a sequential one, only overlapped in time.
//!
//! **Planning** (`PipelinePlan`): groups are cut so that the slowest worker is as fast as
//! possible. The first [`CALIBRATION_STEPS`] local steps run sequentially and time every
//! module, then [`balanced_groups`] chooses the contiguous groups.
//!
//! **Running** (`Segment`): one stretch of consecutive local steps. The trainer starts one at
//! the first local step after a global step (or at the start of an epoch) and finishes it
//! before the next global step: the pipeline drains, every worker hands its modules and
//! optimizers back, the global step runs on the whole model, and a new segment starts after it.
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
use pgl_core::objective::LocalObjective;

use crate::activation::Activation;
use crate::error::TrainError;
use crate::model::{DecoupledModel, settle_running_stats};
use crate::objective::ObjectiveHeads;
use crate::replay::ReplayBuffer;
use crate::step::{LocalObjectivePass, ModuleSpan, StepAt, StepEnv, local_pass};

mod plan;

pub(crate) use plan::PipelinePlan;
pub use plan::{CALIBRATION_STEPS, balanced_groups};

/// Threads of each of `workers` pipeline workers' own pools: the threads of the current rayon
/// pool (where Burn's CPU backend runs its kernels; one per core unless `RAYON_NUM_THREADS`
/// says otherwise) split as evenly as possible, at least one each.
///
/// Sharing one pool, W workers each split every kernel into pieces for all cores and wait on
/// one another's pieces; with a pool each, every worker's kernels run on its own cores.
pub fn worker_threads(workers: usize) -> Vec<usize> {
    let workers = workers.max(1);
    let total = rayon::current_num_threads().max(workers);
    (0..workers)
        .map(|g| total / workers + usize::from(g < total % workers))
        .collect()
}

/// Runs `work` on a new rayon pool of `threads` threads that includes the calling thread, so
/// that every tensor operation `work` starts runs on that pool; on the calling thread alone if
/// the pool cannot be made. Burn's CPU kernels give the same results for any number of threads
/// (a pipelined run stays bit-identical to a sequential one; tested).
fn on_own_pool<R: Send>(threads: usize, work: impl FnOnce() -> R + Send) -> R {
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .use_current_thread()
        .thread_name(|i| format!("pgl-pipeline-{i}"))
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(_) => work(),
    }
}

/// One batch travelling through the pipeline.
pub(crate) struct Work {
    /// Where the step stands (1-based counts; `at.batch` orders the batches).
    pub at: StepAt,
    /// Samples in the batch.
    pub samples: usize,
    /// Input of the group: the images, or the detached output of the previous group.
    pub input: Activation,
    /// The batch's input images, when a module's decoder reconstructs them.
    pub images: Option<Activation>,
    /// Labels of the batch.
    pub labels: Tensor<1, Int>,
}

/// What a worker hands back when its segment ends.
pub(crate) struct GroupResult<M> {
    model: M,
    heads: ObjectiveHeads,
    optimizers: Vec<ModuleOptimizer>,
    /// The losses of the group's modules on every batch it finished, in batch order.
    losses: Vec<BatchLosses>,
    error: Option<(StepAt, TrainError)>,
}

/// The losses of one batch that went through (part of) the pipeline.
pub(crate) struct BatchLosses {
    /// Where the step stood.
    pub at: StepAt,
    /// Samples in the batch.
    pub samples: usize,
    /// Loss of every module the batch went through, in module order.
    pub losses: Vec<f32>,
}

/// What a drained pipeline hands back.
pub(crate) struct Finished<M> {
    /// The whole model.
    pub model: M,
    /// The local objective's extra heads of every module.
    pub heads: ObjectiveHeads,
    /// Every module's optimizer, in module order.
    pub optimizers: Vec<ModuleOptimizer>,
    /// The losses of all K modules of every completed batch, in batch order.
    pub losses: Vec<BatchLosses>,
    /// The error of the earliest failing batch, if any.
    pub error: Option<TrainError>,
}

/// A running pipeline of W worker threads.
pub(crate) struct Segment<'scope, M> {
    first: Option<SyncSender<Work>>,
    /// Whether some module's decoder needs the input images.
    needs_images: bool,
    handles: Vec<ScopedJoinHandle<'scope, GroupResult<M>>>,
}

/// What a segment's workers train: the model, its objective heads, the local optimizers, and
/// the gradients the latest global step left to replay (read only: local steps keep them).
pub(crate) type LocalParts<M> = (
    M,
    ObjectiveHeads,
    Vec<ModuleOptimizer>,
    Option<ReplayBuffer<M>>,
);

#[allow(clippy::too_many_arguments)]
fn run_group<M: DecoupledModel>(
    mut model: M,
    mut heads: ObjectiveHeads,
    replay: Option<ReplayBuffer<M>>,
    objective: Box<dyn LocalObjective>,
    mut optimizers: Vec<ModuleOptimizer>,
    span: ModuleSpan,
    device: Device,
    input: Receiver<Work>,
    output: Option<SyncSender<Work>>,
) -> GroupResult<M> {
    let loss_fn = CrossEntropyLoss::new(None, &device);
    let mut losses = Vec::new();
    let mut error = None;
    for work in input.iter() {
        let env = StepEnv {
            loss_fn: &loss_fn,
            at: work.at,
        };
        let local = LocalObjectivePass {
            objective: &*objective,
            heads: &mut heads,
            images: work.images.as_ref(),
            replay: replay.as_ref(),
        };
        let (next, pass) = local_pass(
            model,
            &mut optimizers,
            local,
            work.input,
            &work.labels,
            env,
            span,
            None,
        );
        model = next;
        let pass = match pass {
            Ok(pass) => pass,
            Err(failure) => {
                error = Some((work.at, failure));
                break;
            }
        };
        losses.push(BatchLosses {
            at: work.at,
            samples: work.samples,
            losses: pass.losses,
        });
        if let Some(next_queue) = &output {
            let forwarded = Work {
                input: pass.output,
                ..work
            };
            if next_queue.send(forwarded).is_err() {
                break; // a later worker stopped
            }
        }
    }
    GroupResult {
        model,
        heads,
        optimizers,
        losses,
        error,
    }
}

impl<'scope, M: DecoupledModel + Send + 'scope> Segment<'scope, M> {
    /// Splits the model, its objective heads and its optimizers (`parts`, with a copy of the
    /// gradients to replay) into groups of `sizes` modules and starts one thread per group,
    /// each learning from `objective`.
    pub fn start<'env>(
        scope: &'scope Scope<'scope, 'env>,
        parts: LocalParts<M>,
        objective: &dyn LocalObjective,
        sizes: &[usize],
        capacity: usize,
        device: &Device,
    ) -> Self {
        let (model, heads, optimizers, replay) = parts;
        settle_running_stats(&model);
        settle_running_stats(&heads);
        let needs_images = heads.needs_images();
        let total = model.num_modules();
        let sizes = sizes.to_vec();
        let groups = model.into_groups(&sizes);
        let mut head_groups = heads.into_groups(&sizes).into_iter();
        let mut replay_groups = replay.map(|r| r.into_groups(&sizes).into_iter());
        let mut optimizers = optimizers.into_iter();
        let threads = worker_threads(sizes.len());
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
            let span = ModuleSpan {
                first: first_module,
                total,
            };
            let group_heads = head_groups.next().expect("one head group per group");
            let group_replay = replay_groups.as_mut().and_then(Iterator::next);
            let objective = objective.clone_box();
            let pool_threads = threads[g];
            handles.push(scope.spawn(move || {
                let opts = group_optimizers;
                let run = move || {
                    run_group(
                        group,
                        group_heads,
                        group_replay,
                        objective,
                        opts,
                        span,
                        device,
                        input,
                        output,
                    )
                };
                on_own_pool(pool_threads, run)
            }));
            first_module += size;
            match next_receiver {
                Some(next) => receiver = next,
                None => break,
            }
        }
        Self {
            first: Some(first),
            needs_images,
            handles,
        }
    }

    /// Whether [`Work`] must carry the input images (some module's decoder reconstructs them).
    pub fn needs_images(&self) -> bool {
        self.needs_images
    }

    /// Feeds a batch to the first group; `false` when the pipeline has stopped (a worker failed).
    pub fn send(&mut self, work: Work) -> bool {
        self.first.as_ref().is_some_and(|q| q.send(work).is_ok())
    }

    /// Drains the pipeline and joins every worker; see [`Finished`].
    pub fn finish(mut self) -> Finished<M> {
        drop(self.first.take()); // closing the first queue lets every worker finish
        let mut groups = Vec::new();
        let mut head_groups = Vec::new();
        let mut optimizers = Vec::new();
        let mut per_group: Vec<Vec<BatchLosses>> = Vec::new();
        let mut first_error: Option<(StepAt, TrainError)> = None;
        for handle in self.handles.drain(..) {
            let result = match handle.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            groups.push(result.model);
            head_groups.push(result.heads);
            optimizers.extend(result.optimizers);
            per_group.push(result.losses);
            if let Some((at, error)) = result.error
                && first_error.as_ref().is_none_or(|(b, _)| at.batch < b.batch)
            {
                first_error = Some((at, error));
            }
        }
        // A batch is complete when the last group has its losses.
        let complete = per_group.last().map_or(0, Vec::len);
        let last = per_group.last().expect("at least one group");
        let losses = (0..complete)
            .map(|i| BatchLosses {
                at: last[i].at,
                samples: last[i].samples,
                losses: per_group
                    .iter()
                    .flat_map(|g| g[i].losses.iter().copied())
                    .collect(),
            })
            .collect();
        let model = M::from_groups(groups);
        settle_running_stats(&model);
        let heads = ObjectiveHeads::from_groups(head_groups);
        settle_running_stats(&heads);
        Finished {
            model,
            heads,
            optimizers,
            losses,
            error: first_error.map(|(_, e)| e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{on_own_pool, worker_threads};

    #[test]
    fn workers_split_the_pool_they_start_from() {
        let on = |threads: usize, workers: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| worker_threads(workers))
        };
        assert_eq!(on(2, 2), vec![1, 1]);
        assert_eq!(on(5, 2), vec![3, 2]);
        assert_eq!(on(16, 3), vec![6, 5, 5]);
        assert_eq!(on(2, 4), vec![1, 1, 1, 1], "at least one thread each");
        assert_eq!(on(3, 0), vec![3], "no workers means one");
    }

    #[test]
    fn a_worker_runs_its_kernels_on_a_pool_of_its_own_size() {
        for threads in [1, 2, 3] {
            let caller = std::thread::spawn(move || {
                let me = std::thread::current().id();
                on_own_pool(threads, || {
                    // The calling thread is one of the pool's threads: no hand-over.
                    assert_eq!(std::thread::current().id(), me);
                    let (inner, sum) = rayon::join(rayon::current_num_threads, || {
                        use rayon::prelude::*;
                        (0..1000u64).into_par_iter().sum::<u64>()
                    });
                    (rayon::current_num_threads(), inner, sum)
                })
            });
            assert_eq!(caller.join().unwrap(), (threads, threads, 499_500));
        }
    }
}
