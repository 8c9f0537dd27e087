//! What a schedule sees before each mini-batch ([`StepContext`]) and what it decides ([`StepKind`]).

use serde::{Deserialize, Serialize};

/// The two kinds of training step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepKind {
    /// Greedy local learning: every module learns from its own head's loss, inputs detached.
    Local,
    /// Periodic global guidance: one end-to-end backprop of the network's loss.
    Global,
}

impl StepKind {
    /// `"local"` or `"global"`.
    pub fn as_str(self) -> &'static str {
        match self {
            StepKind::Local => "local",
            StepKind::Global => "global",
        }
    }
}

impl std::fmt::Display for StepKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where training stands when a schedule is asked for the next step.
///
/// All counters are zero-based. `recent_losses` holds the network (classifier) losses of the
/// most recent steps, oldest first, and `module_losses` every module's loss in the latest step
/// (module order; `None` where that step computed none); adaptive schedules read them, others
/// ignore them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepContext<'a> {
    /// Current epoch.
    pub epoch: u64,
    /// Global iteration counter, across epochs.
    pub iteration: u64,
    /// Iteration within the current epoch.
    pub iteration_in_epoch: u64,
    /// Number of iterations (mini-batches) per epoch.
    pub iterations_per_epoch: u64,
    /// Classifier losses of the most recent steps, oldest first (may be empty).
    pub recent_losses: &'a [f32],
    /// Every module's loss in the latest step, module order: its local objective's loss in a
    /// local step, its head's cross-entropy in a global one; the last entry is the network's
    /// classifier. Empty before the first step.
    pub module_losses: &'a [Option<f32>],
}

impl<'a> StepContext<'a> {
    /// The context of global iteration `iteration` when every epoch has `iterations_per_epoch`
    /// iterations (at least 1) and no loss history.
    pub fn at_iteration(iteration: u64, iterations_per_epoch: u64) -> StepContext<'static> {
        let per_epoch = iterations_per_epoch.max(1);
        StepContext {
            epoch: iteration / per_epoch,
            iteration,
            iteration_in_epoch: iteration % per_epoch,
            iterations_per_epoch: per_epoch,
            recent_losses: &[],
            module_losses: &[],
        }
    }

    /// The same context with a loss history attached.
    pub fn with_losses(self, recent_losses: &'a [f32]) -> StepContext<'a> {
        StepContext {
            recent_losses,
            ..self
        }
    }

    /// The same context with the latest step's module losses attached.
    pub fn with_module_losses(self, module_losses: &'a [Option<f32>]) -> StepContext<'a> {
        StepContext {
            module_losses,
            ..self
        }
    }
}
