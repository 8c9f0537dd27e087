//! A process-wide "please stop" flag. The CLI sets it from its Ctrl-C handler; the trainer
//! checks it before every batch, drains the pipeline, and returns
//! [`TrainError::Interrupted`](crate::TrainError::Interrupted) so that the caller can write a
//! checkpoint and exit.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks every running trainer to stop at the next batch boundary.
pub fn request() {
    REQUESTED.store(true, Ordering::SeqCst);
}

/// Whether a stop was asked for.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// Forgets a stop request.
pub fn clear() {
    REQUESTED.store(false, Ordering::SeqCst);
}
