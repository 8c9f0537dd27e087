//! The **pgl** training engine on [Burn](https://burn.dev) 0.22.
//!
//! - [`model`]: the [`DecoupledModel`] trait: K modules, an auxiliary head after each of the
//!   first K-1 modules and the network's classifier after module K.
//! - [`activation`]: [`Activation`], the flat or spatial tensor that flows between modules.
//! - [`trainer`]: [`Trainer`], which executes the local and global steps a
//!   [`GuidanceSchedule`](pgl_core::GuidanceSchedule) chooses, one optimizer per module.
//! - [`eval`]: test loss, accuracy and per-module (per-head) accuracy.
//! - [`optim`]: per-module optimizers from a [`RunConfig`](pgl_core::RunConfig).
//! - [`backend`]: run-time backend selection (`cpu` always; others by cargo feature).
//!
//! Only this crate and the crates built on it know Burn.

pub mod activation;
pub mod backend;
pub mod checkpoint;
pub mod error;
pub mod eval;
pub mod export;
pub mod inspect;
pub mod interrupt;
pub mod memory;
pub mod model;
pub mod optim;
pub mod pipeline;
pub mod trainer;

pub use activation::Activation;
pub use backend::BackendKind;
pub use error::TrainError;
pub use eval::Evaluation;
pub use interrupt::StopHandle;
pub use model::DecoupledModel;
pub use trainer::{StepOutcome, TrainSettings, Trainer, TrainerProgress};

/// Burn itself, re-exported so that model crates use the workspace's exact release.
pub use burn;
