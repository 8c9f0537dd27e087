//! Backend-agnostic core of **pgl** (locally supervised learning with periodic global guidance).
//!
//! This crate holds plain data and pure logic only; it never depends on a tensor library:
//!
//! - [`schedule`]: the [`GuidanceSchedule`] plugin trait that decides, before every mini-batch,
//!   whether the trainer takes a *local* step (each module learns from its own auxiliary head,
//!   gradients stopped between modules) or a *global* step (end-to-end backprop), the built-in
//!   schedules and combinators, and a [`ScheduleRegistry`] that builds them from spec strings.
//! - [`lr`]: the [`LrSchedule`] plugin trait that scales the base learning rate before every
//!   mini-batch, its built-ins and the [`LrScheduleRegistry`] that builds them from spec strings.
//! - [`objective`]: the [`LocalObjective`] plugin trait that says what each module learns from
//!   in a local step (`ce`, `infopro`, `supcon`), and the [`ObjectiveRegistry`].
//! - [`split`]: [`SplitPlan`], how N layers become K contiguous modules.
//! - [`config`]: [`RunConfig`], the resolved, serialisable configuration of one training run.
//! - [`events`]: training metrics and the [`EventSink`] trait the trainer reports to.
//! - [`error`]: the error type, [`CoreError`].
//! - [`json_float`]: serde helpers that write NaN and ±inf as JSON strings and read them back.
//!
//! ```
//! use pgl_core::{ScheduleRegistry, StepContext, StepKind};
//!
//! let registry = ScheduleRegistry::with_builtins();
//! let mut schedule = registry.build("periodic:every=4").unwrap();
//! let kinds: Vec<StepKind> = (0..8)
//!     .map(|i| schedule.decide(&StepContext::at_iteration(i, 8)))
//!     .collect();
//! // The last step of every period of 4 is a global step.
//! assert_eq!(kinds.iter().filter(|k| **k == StepKind::Global).count(), 2);
//! assert_eq!(kinds[3], StepKind::Global);
//! ```

#![deny(missing_docs)]

pub mod config;
pub mod error;
pub mod events;
pub mod json_float;
pub mod lr;
pub mod objective;
pub mod schedule;
pub mod setting;
pub mod split;
pub mod step;

pub use config::{
    DataConfig, GlobalOptimizer, GuidanceConfig, LEGACY_AUX_HEADS, LEGACY_DEFAULTS, ModelConfig,
    ObjectiveConfig, OptimizerConfig, OptimizerKind, RunConfig, RuntimeConfig, TrainingConfig,
};
pub use error::CoreError;
pub use events::{EpochMetrics, EventSink, NullSink, TrainEvent};
pub use lr::{LrContext, LrSchedule, LrScheduleRegistry, LrState};
pub use objective::{LocalObjective, ObjectiveRegistry};
pub use schedule::{GuidanceSchedule, ScheduleRegistry, ScheduleState};
pub use setting::{Setting, setting};
pub use split::SplitPlan;
pub use step::{StepContext, StepKind};
