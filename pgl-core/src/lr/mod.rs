//! Learning-rate schedules: the plugin that scales the base learning rate before every
//! mini-batch.
//!
//! An [`LrSchedule`] reads an [`LrContext`] (where the run stands: epoch, iteration, and how long
//! the run is) and returns a **factor**; the trainer multiplies the configured base learning rate
//! by it for the iteration about to run, every iteration. Like guidance schedules, LR schedules
//! never touch tensors, are built from spec strings by a registry ([`LrScheduleRegistry`]) and
//! are tested with one conformance kit ([`conformance::check_lr_schedule`]).
//!
//! Built-ins (one file each, one line each in [`BUILTINS`]):
//!
//! | spec | factor |
//! |---|---|
//! | `constant` | 1: the base learning rate throughout |
//! | `cosine:min=F,unit=iters\|epochs` | cosine decay from 1 to `min` (default 0) over the whole run (`unit` default `iters`) |
//! | `multistep:at=(E1,E2,..),gamma=G` | `G^n` where `n` = milestones `<=` the current epoch (`gamma` default 0.1) |
//! | `linear-warmup:iters=N,then=SPEC` | `(i+1)/N` times `SPEC`'s factor for iterations `i < N`, then `SPEC`'s (default `constant`) |
//!
//! **List values go in brackets**: commas separate parameters in the spec language
//! ([`crate::schedule::spec`]), so the milestones of `multistep` are written `at=(80,120)`
//! (a single milestone may be written `at=80`).
//!
//! **Exact resume.** Every built-in is a pure function of the context, so asking for the factor of
//! iteration `i` after a resume gives exactly what an uninterrupted run got. The trait still has
//! [`state`](LrSchedule::state)/[`restore`](LrSchedule::restore) hooks (JSON-safe named numbers,
//! empty for the built-ins) so checkpoints can carry a plugin's state.
//!
//! ```
//! use pgl_core::{LrContext, LrScheduleRegistry};
//!
//! let registry = LrScheduleRegistry::with_builtins();
//! // 2 warm-up iterations, then cosine decay over a run of 3 epochs of 4 iterations.
//! let schedule = registry.build("linear-warmup:iters=2,then=cosine").unwrap();
//! let base_lr = 0.1;
//! let lrs: Vec<f64> = (0..12)
//!     .map(|i| base_lr * schedule.factor(&LrContext::at_iteration(i, 4, 3)))
//!     .collect();
//! assert!(lrs[0] < lrs[1]); // warming up
//! assert!(lrs[2] > lrs[11]); // decaying
//! assert_eq!(schedule.spec(), "linear-warmup:iters=2,then=cosine:min=0,unit=iters");
//! ```

pub mod conformance;
pub mod constant;
pub mod cosine;
pub mod linear_warmup;
pub mod multistep;
pub mod registry;

use crate::error::CoreError;
use crate::schedule::ScheduleState;
use crate::step::StepContext;

pub use constant::Constant;
pub use cosine::{Cosine, CosineUnit};
pub use linear_warmup::LinearWarmup;
pub use multistep::MultiStep;
pub use registry::{LrBuildFn, LrScheduleBuilder, LrScheduleEntry, LrScheduleRegistry};

/// Every built-in learning-rate schedule, one line each: the one table of this plugin kind.
/// Adding a built-in is one new file exporting an [`LrScheduleEntry`] beside its schedule,
/// plus one line here. (The table sits here, above the plugins and the registry, so that
/// neither imports the other.)
pub const BUILTINS: &[LrScheduleEntry] = &[
    constant::ENTRY,
    cosine::ENTRY,
    multistep::ENTRY,
    linear_warmup::ENTRY,
];

/// The saved state of an LR schedule: named `f64`s, serialisable into checkpoint manifests
/// (the same type as a guidance schedule's state, so both are saved the same way).
pub type LrState = ScheduleState;

/// Where the run stands when the learning rate of the next iteration is asked for.
///
/// All counters are zero-based. `total_epochs` is the planned length of the run, so schedules
/// "over the run" (like `cosine`) know where it ends; changing it between a run and its resume
/// changes the curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LrContext {
    /// Current epoch.
    pub epoch: u64,
    /// Global iteration counter, across epochs.
    pub iteration: u64,
    /// Iteration within the current epoch.
    pub iteration_in_epoch: u64,
    /// Number of iterations (mini-batches) per epoch.
    pub iterations_per_epoch: u64,
    /// Number of epochs the run is planned for.
    pub total_epochs: u64,
}

impl LrContext {
    /// The context of global iteration `iteration` when every epoch has `iterations_per_epoch`
    /// iterations (at least 1) and the run lasts `total_epochs` epochs.
    pub fn at_iteration(iteration: u64, iterations_per_epoch: u64, total_epochs: u64) -> Self {
        let per_epoch = iterations_per_epoch.max(1);
        Self {
            epoch: iteration / per_epoch,
            iteration,
            iteration_in_epoch: iteration % per_epoch,
            iterations_per_epoch: per_epoch,
            total_epochs,
        }
    }

    /// The context of the step the guidance schedule is asked about, in a run of
    /// `total_epochs` epochs (the trainer builds both contexts from the same counters).
    pub fn from_step(step: &StepContext<'_>, total_epochs: u64) -> Self {
        Self {
            epoch: step.epoch,
            iteration: step.iteration,
            iteration_in_epoch: step.iteration_in_epoch,
            iterations_per_epoch: step.iterations_per_epoch,
            total_epochs,
        }
    }

    /// Number of iterations of the whole run, `total_epochs * iterations_per_epoch`
    /// (saturating at `u64::MAX`).
    pub fn total_iterations(&self) -> u64 {
        self.total_epochs.saturating_mul(self.iterations_per_epoch)
    }
}

/// Scales the base learning rate before each mini-batch.
///
/// [`factor`](Self::factor) takes `&self`: the factor depends only on the context and on the
/// schedule's configuration (and restored [`state`](Self::state)), so it may be asked for any
/// iteration, in any order, any number of times (to log or plot the curve), and a resumed run
/// gets exactly the factors an uninterrupted one got. The trait is object safe;
/// `Box<dyn LrSchedule>` implements it too, so boxed and generic schedules mix.
pub trait LrSchedule: Send + std::fmt::Debug {
    /// The multiplier of the base learning rate for the iteration described by `ctx`: finite
    /// and `>= 0`.
    fn factor(&self, ctx: &LrContext) -> f64;

    /// The canonical spec string that rebuilds an equal schedule through the registry.
    fn spec(&self) -> String;

    /// The schedule's state, for checkpoints: finite numbers only (they go into JSON).
    /// Stateless schedules (every built-in) return an empty state.
    fn state(&self) -> LrState {
        LrState::default()
    }

    /// Restores a state produced by [`state`](Self::state) on a schedule of the same spec.
    fn restore(&mut self, state: &LrState) -> Result<(), CoreError> {
        state.expect_stateless(&self.spec(), "learning-rate schedule")
    }

    /// A boxed copy of this schedule, state included.
    fn clone_box(&self) -> Box<dyn LrSchedule>;
}

impl LrSchedule for Box<dyn LrSchedule> {
    fn factor(&self, ctx: &LrContext) -> f64 {
        (**self).factor(ctx)
    }
    fn spec(&self) -> String {
        (**self).spec()
    }
    fn state(&self) -> LrState {
        (**self).state()
    }
    fn restore(&mut self, state: &LrState) -> Result<(), CoreError> {
        (**self).restore(state)
    }
    fn clone_box(&self) -> Box<dyn LrSchedule> {
        (**self).clone_box()
    }
}

impl Clone for Box<dyn LrSchedule> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}
