//! The epoch loader: batches are made (gathered, augmented, normalised) on a background thread
//! and handed to the trainer through a bounded queue, so the trainer does not wait for data
//! when the model is slower than the loader.
//!
//! Data order and augmentation are pure functions of `(seed, epoch, batch)`, never of thread
//! timing: a run is reproducible, and resuming at an epoch boundary needs no generator state.

use std::sync::mpsc::{Receiver, sync_channel};
use std::time::{Duration, Instant};

use crate::augment::Augment;
use crate::batch::{Batch, BatchOrder};
use crate::dataset::ImageDataset;
use crate::rng::SplitMix64;

/// A generator seed derived from a run seed and stream coordinates.
pub fn derive_seed(seed: u64, stream: u64, index: u64) -> u64 {
    let mut rng = SplitMix64::new(seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F));
    rng.state ^= index.wrapping_mul(0xE703_7ED1_A0B4_28DB);
    rng.next_u64()
}

/// The shuffled order of `epoch` (0-based) for a run seeded with `seed`.
pub fn epoch_order(len: usize, batch_size: usize, seed: u64, epoch: u64) -> BatchOrder {
    BatchOrder::shuffled(
        len,
        batch_size,
        &mut SplitMix64::new(derive_seed(seed, 1, epoch)),
    )
}

/// How the batches of one training epoch are made.
#[derive(Debug, Clone)]
pub struct EpochPlan {
    /// The order of samples, cut into batches.
    pub order: BatchOrder,
    /// Augmentation, if any.
    pub augment: Option<Augment>,
    /// Run seed.
    pub seed: u64,
    /// Epoch (0-based).
    pub epoch: u64,
}

impl EpochPlan {
    /// The plan of `epoch` over `data` for a run seeded with `seed`.
    pub fn new(
        data: &ImageDataset,
        batch_size: usize,
        seed: u64,
        epoch: u64,
        augment: Option<Augment>,
    ) -> Self {
        Self {
            order: epoch_order(data.len(), batch_size, seed, epoch),
            augment,
            seed,
            epoch,
        }
    }

    /// Batch `b` of the plan (deterministic).
    pub fn make_batch(&self, data: &ImageDataset, b: usize) -> Batch {
        let indices = self.order.batch_indices(b);
        match &self.augment {
            None => data.batch(indices),
            Some(augment) => {
                let mut rng = SplitMix64::new(derive_seed(self.seed, 2 + self.epoch, b as u64));
                data.augmented_batch(indices, augment, &mut rng)
            }
        }
    }
}

/// What the loader measured during one epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LoaderStats {
    /// Batches delivered.
    pub batches: usize,
    /// Total time the consumer waited for a batch that was not ready yet.
    pub wait: Duration,
}

/// Starts making the batches of `plan` from batch `start` on, on a thread of `scope`; they
/// arrive in order on the returned receiver, at most `capacity` ahead of the consumer. The
/// thread stops when every batch is sent or when the receiver is dropped.
pub fn spawn_batches<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    data: &'env ImageDataset,
    plan: &'env EpochPlan,
    capacity: usize,
    start: usize,
) -> Receiver<Batch> {
    let batches = plan.order.num_batches();
    let (sender, receiver) = sync_channel::<Batch>(capacity.max(1));
    scope.spawn(move || {
        for b in start..batches {
            if sender.send(plan.make_batch(data, b)).is_err() {
                return; // the consumer stopped
            }
        }
    });
    receiver
}

/// Receives the next batch, adding the time spent waiting for it to `stats`.
pub fn receive(receiver: &Receiver<Batch>, stats: &mut LoaderStats) -> Option<Batch> {
    let waited = Instant::now();
    let batch = receiver.recv().ok();
    stats.wait += waited.elapsed();
    if batch.is_some() {
        stats.batches += 1;
    }
    batch
}

/// Makes every batch of `plan` on a background thread (at most `capacity` ready ahead) and
/// hands them to `consume(batch_index, batch)` in order. Stops early, and returns the error,
/// when `consume` fails; the producer thread is always joined before returning.
pub fn for_each_batch<E>(
    data: &ImageDataset,
    plan: &EpochPlan,
    capacity: usize,
    mut consume: impl FnMut(usize, Batch) -> Result<(), E>,
) -> Result<LoaderStats, E> {
    std::thread::scope(|scope| {
        let receiver = spawn_batches(scope, data, plan, capacity, 0);
        let mut stats = LoaderStats::default();
        let mut b = 0;
        let result = loop {
            let Some(batch) = receive(&receiver, &mut stats) else {
                break Ok(());
            };
            if let Err(e) = consume(b, batch) {
                break Err(e);
            }
            b += 1;
        };
        // Dropping the receiver unblocks a producer waiting on a full queue, so the scope
        // can join it even when the consumer stopped early.
        drop(receiver);
        result.map(|()| stats)
    })
}
