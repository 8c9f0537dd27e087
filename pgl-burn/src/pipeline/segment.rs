//! A running pipeline ([`Segment`]): one stretch of consecutive local steps, the model state
//! split into groups, one worker thread per group, bounded queues between them.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::{Scope, ScopedJoinHandle};

use burn::nn::loss::CrossEntropyLoss;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;

use super::{QUEUE_CAPACITY, on_own_pool, worker_threads};
use crate::activation::Activation;
use crate::error::TrainError;
use crate::model::DecoupledModel;
use crate::replay::ReplayBuffer;
use crate::state::ModelState;
use crate::step::{LocalBatch, LocalContext, ModuleSpan, StepAt, StepEnv, StepOutcome, local_pass};

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

/// The losses of one batch that went through (part of) the pipeline.
pub(crate) struct BatchLosses {
    /// Where the step stood.
    pub at: StepAt,
    /// Samples in the batch.
    pub samples: usize,
    /// Loss of every module the batch went through, in module order.
    pub losses: Vec<f32>,
}

impl BatchLosses {
    /// The local step's outcome (every module's losses present).
    pub fn outcome(self) -> StepOutcome {
        StepOutcome::local(self.losses)
    }
}

/// What a worker hands back when its segment ends.
struct GroupResult<M> {
    state: ModelState<M>,
    /// The losses of the group's modules on every batch it finished, in batch order.
    losses: Vec<BatchLosses>,
    error: Option<(StepAt, TrainError)>,
}

/// What a drained pipeline hands back.
pub(crate) struct Finished<M> {
    /// The whole model state, every optimizer included.
    pub state: ModelState<M>,
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
    /// The separate global-step optimizers, which no local step uses: kept here until the
    /// segment finishes.
    global_optimizers: Vec<ModuleOptimizer>,
    handles: Vec<ScopedJoinHandle<'scope, GroupResult<M>>>,
}

/// What one worker needs: its group's state (with its modules' loss terms) and replayed
/// gradients, its modules' place in the network, its queues.
struct Worker<M> {
    state: ModelState<M>,
    replay: Option<ReplayBuffer<M>>,
    span: ModuleSpan,
    device: Device,
    input: Receiver<Work>,
    output: Option<SyncSender<Work>>,
}

impl<M: DecoupledModel> Worker<M> {
    /// Trains the group on every batch of its input queue, forwarding each batch's output to
    /// the next group, until the queue closes, a later worker stops, or a loss is not finite.
    fn run(self) -> GroupResult<M> {
        let Self {
            mut state,
            replay,
            span,
            device,
            input,
            output,
        } = self;
        let loss_fn = CrossEntropyLoss::new(None, &device);
        let mut losses = Vec::new();
        let mut error = None;
        for work in input.iter() {
            let cx = LocalContext {
                replay: replay.as_ref(),
                env: StepEnv {
                    loss_fn: &loss_fn,
                    at: work.at,
                },
                span,
            };
            let batch = LocalBatch {
                input: work.input,
                labels: &work.labels,
                images: work.images.as_ref(),
            };
            let (next, pass) = local_pass(state, batch, &cx, None);
            state = next;
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
            state,
            losses,
            error,
        }
    }
}

impl<'scope, M: DecoupledModel + Send + 'scope> Segment<'scope, M> {
    /// Splits `state` (and a copy of the gradients to `replay`) into groups of `sizes` modules
    /// and starts one thread per group, each learning from its modules' loss terms.
    pub fn start<'env>(
        scope: &'scope Scope<'scope, 'env>,
        state: ModelState<M>,
        replay: Option<ReplayBuffer<M>>,
        sizes: &[usize],
        device: &Device,
    ) -> Self {
        let needs_images = state.heads.needs_images();
        let total = state.num_modules();
        let (groups, global_optimizers) = state.into_groups(sizes);
        let mut replay_groups = replay.map(|r| r.into_groups(sizes).into_iter());
        let threads = worker_threads(sizes.len());
        let (first, mut receiver) = sync_channel::<Work>(QUEUE_CAPACITY);
        let mut handles = Vec::with_capacity(sizes.len());
        let mut first_module = 0;
        let last = sizes.len() - 1;
        for (g, state) in groups.into_iter().enumerate() {
            let count = state.num_modules();
            let (output, next_receiver) = if g < last {
                let (sender, next) = sync_channel::<Work>(QUEUE_CAPACITY);
                (Some(sender), Some(next))
            } else {
                (None, None)
            };
            let worker = Worker {
                state,
                replay: replay_groups.as_mut().and_then(Iterator::next),
                span: ModuleSpan {
                    first: first_module,
                    count,
                    total,
                },
                device: device.clone(),
                input: receiver,
                output,
            };
            let pool_threads = threads[g];
            handles.push(scope.spawn(move || on_own_pool(pool_threads, move || worker.run())));
            first_module += count;
            match next_receiver {
                Some(next) => receiver = next,
                None => break,
            }
        }
        Self {
            first: Some(first),
            needs_images,
            global_optimizers,
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
        let mut per_group: Vec<Vec<BatchLosses>> = Vec::new();
        let mut first_error: Option<(StepAt, TrainError)> = None;
        for handle in self.handles.drain(..) {
            let result = match handle.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            groups.push(result.state);
            per_group.push(result.losses);
            if let Some((at, error)) = result.error
                && first_error.as_ref().is_none_or(|(b, _)| at.batch < b.batch)
            {
                first_error = Some((at, error));
            }
        }
        Finished {
            state: ModelState::from_groups(groups, self.global_optimizers),
            losses: complete_batches(per_group),
            error: first_error.map(|(_, e)| e),
        }
    }
}

/// The batches every group finished (a batch is complete when the last group has its
/// losses), each with the losses of all its modules, in batch order.
fn complete_batches(per_group: Vec<Vec<BatchLosses>>) -> Vec<BatchLosses> {
    let complete = per_group.last().map_or(0, Vec::len);
    let last = per_group.last().expect("at least one group");
    (0..complete)
        .map(|i| BatchLosses {
            at: last[i].at,
            samples: last[i].samples,
            losses: per_group
                .iter()
                .flat_map(|g| g[i].losses.iter().copied())
                .collect(),
        })
        .collect()
}
