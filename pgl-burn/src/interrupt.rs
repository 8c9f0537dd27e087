//! Asking a running trainer to stop at the next batch boundary.
//!
//! Two ways exist, and the trainer honours both:
//! - the process-wide flag ([`request`]/[`clear`]), which the CLI sets from its Ctrl-C
//!   handler (a signal handler cannot know which trainer is running);
//! - a per-trainer [`StopHandle`] ([`Trainer::stop_handle`](crate::Trainer::stop_handle)),
//!   for library users and tests that run several trainers in one process and must stop
//!   only one of them.
//!
//! On a stop the trainer drains its pipeline and returns
//! [`TrainError::Interrupted`], so that the caller can write a
//! checkpoint and exit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::TrainError;

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks every running trainer of this process to stop at the next batch boundary.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Whether a process-wide stop was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Forgets a process-wide stop request.
pub fn clear() {
    REQUESTED.store(false, Ordering::SeqCst);
}

/// A cloneable handle that stops one trainer (and only it) at the next batch boundary.
/// Clones share one flag; it is safe to use from any thread.
#[derive(Debug, Clone, Default)]
pub struct StopHandle(Arc<AtomicBool>);

impl StopHandle {
    /// Asks the trainer owning this handle to stop.
    pub fn request(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether this handle, or the process-wide flag, asks for a stop.
    pub fn is_requested(&self) -> bool {
        self.0.load(Ordering::SeqCst) || requested()
    }

    /// `Err(Interrupted)` when a stop is requested before batch `batches_done` (0-based) of
    /// `epoch` (1-based).
    pub fn check(&self, epoch: u64, batches_done: u64) -> Result<(), TrainError> {
        if self.is_requested() {
            return Err(TrainError::Interrupted {
                epoch,
                batches: batches_done,
            });
        }
        Ok(())
    }

    /// Forgets this handle's request (the process-wide flag is left alone).
    pub fn clear(&self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handle_stops_only_its_own_clones() {
        let first = StopHandle::default();
        let same = first.clone();
        let other = StopHandle::default();
        first.request();
        assert!(same.is_requested());
        assert!(!other.is_requested());
        same.clear();
        assert!(!first.is_requested());
    }
}
