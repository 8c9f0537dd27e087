//! The **pgl** training engine on [Burn](https://burn.dev) 0.22.
//!
//! - [`model`]: the [`DecoupledModel`] trait: K modules, an auxiliary head after each of the
//!   first K-1 modules and the network's classifier after module K; [`staged`]:
//!   [`StagedNet`], a `DecoupledModel` of the user's own Burn modules ([`Stage`]).
//! - [`activation`]: [`Activation`], the flat or spatial tensor that flows between modules.
//! - [`trainer`]: [`Trainer`], which executes the local and global steps a
//!   [`GuidanceSchedule`](pgl_core::GuidanceSchedule) chooses, one optimizer per module;
//!   [`settings`]: its [`TrainSettings`].
//! - [`objective`]: the tensor side of local objectives (`ce`, `infopro`, `supcon`): their
//!   losses and extra heads; [`head`]: [`HeadStack`], the form in which a model hands over a
//!   copy of its aux head's design (the contrastive term's `proj=aux` head).
//! - [`step`]: the local and the global step themselves; [`pipeline`]: pipelined local steps
//!   (planning and running); [`epoch`]: epoch bookkeeping and metrics.
//! - [`eval`]: test loss, accuracy and per-module (per-head) accuracy.
//! - [`optim`]: per-module optimizers from a [`RunConfig`](pgl_core::RunConfig).
//! - [`backend`]: run-time backend selection (`cpu` always; others by cargo feature).
//!
//! Only this crate and the crates built on it know Burn.

#![deny(missing_docs)]

pub mod activation;
pub mod backend;
pub mod checkpoint;
mod diagnose;
pub mod epoch;
pub mod error;
pub mod eval;
pub mod export;
pub mod global;
mod global_loss;
pub mod head;
pub mod inspect;
pub mod interrupt;
pub mod kernels;
mod local_steps;
pub mod memory;
pub mod model;
pub mod objective;
pub mod optim;
pub mod partial;
pub mod pipeline;
pub mod progress;
pub mod recompute;
pub mod reference;
pub mod replay;
pub mod settings;
pub mod staged;
mod state;
pub mod step;
pub mod synthetic;
pub mod trainer;

pub use activation::Activation;
pub use backend::BackendKind;
pub use epoch::EpochPosition;
pub use error::TrainError;
pub use eval::Evaluation;
pub use head::{HeadLayer, HeadStack};
pub use interrupt::StopHandle;
pub use model::{ConvInit, DecoupledModel};
pub use optim::BuildOptimizers;
pub use progress::{TrainerProgress, TrainerState};
pub use settings::TrainSettings;
pub use staged::{Stage, StagedNet};
pub use step::StepOutcome;
pub use trainer::Trainer;

/// Burn itself, re-exported so that model crates use the workspace's exact release.
pub use burn;
