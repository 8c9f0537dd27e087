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
//! Backpressure: every queue holds at most `QUEUE_CAPACITY` batches; the coordinator blocks when the
//! first queue is full. The last worker never blocks on sending, so the pipeline always
//! drains. A worker that fails (a non-finite loss) stops; its queues close, which stops the
//! workers before it, and the error is reported with its module.

mod plan;
mod segment;

pub(crate) use plan::PipelinePlan;
pub use plan::{CALIBRATION_STEPS, balanced_groups};
pub(crate) use segment::{Finished, Segment, Work};

/// Batches each queue between two workers (and the coordinator's queue to the first) holds:
/// two lets a worker start on its next batch while its successor is busy, without letting
/// activations pile up.
pub(crate) const QUEUE_CAPACITY: usize = 2;

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
pub(crate) fn on_own_pool<R: Send>(threads: usize, work: impl FnOnce() -> R + Send) -> R {
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
