//! The error type of `pgl-burn`.

use std::path::PathBuf;

use pgl_core::{CoreError, StepKind, setting};
use pgl_data::DataError;
use thiserror::Error;

/// Everything that can stop training.
#[derive(Debug, Error)]
pub enum TrainError {
    /// A configuration or schedule problem.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// A dataset problem.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A loss became NaN or infinite.
    #[error(
        "non-finite loss {value} at epoch {epoch}, iteration {iteration} (batch {batch} of the epoch), {kind} step, {location}{hint}"
    )]
    NonFiniteLoss {
        /// Epoch (starting at 1).
        epoch: u64,
        /// Global iteration (starting at 1).
        iteration: u64,
        /// Batch within the epoch (starting at 1).
        batch: u64,
        /// Kind of step.
        kind: StepKind,
        /// The module whose loss it is (starting at 1; the classifier's is module K's).
        module: usize,
        /// Which loss: `aux head of module 2` or `classifier after module K`.
        location: String,
        /// The value.
        value: f32,
        /// What the trainer found about the cause (`; …`, or empty): whether the weights were
        /// still finite and any update had been made, so that the message blames the learning
        /// rate only when the weights diverged.
        hint: String,
    },
    /// A backend was asked for that this binary was built without.
    #[error(
        "backend `{backend}` is not compiled into this binary; rebuild with `cargo build --release -p pgl-cli --features {feature}`"
    )]
    BackendNotCompiled {
        /// The backend asked for.
        backend: String,
        /// The cargo feature that enables it.
        feature: String,
    },
    /// A compiled-in GPU backend could not start on this machine.
    #[error(
        "backend `{backend}` could not start on this machine: {reason}. Check the GPU driver (wgpu: a Vulkan, Metal or DX12 driver; cuda: NVIDIA driver >= 580 and a CUDA 13 toolkit's NVRTC in CUDA_PATH), or use {}",
        setting("backend").with("cpu")
    )]
    BackendUnavailable {
        /// The backend asked for.
        backend: String,
        /// What went wrong, as the backend reported it.
        reason: String,
    },
    /// A device index was given to a backend with a single device.
    #[error(
        "{}: the `{backend}` backend has a single device; device indices are for wgpu and cuda",
        setting("device").with(index)
    )]
    NoDeviceIndex {
        /// The backend asked for.
        backend: String,
        /// The index given.
        index: usize,
    },
    /// An unknown backend name.
    #[error("unknown backend `{name}`; expected one of: {known}")]
    UnknownBackend {
        /// The name given.
        name: String,
        /// The known names, comma separated.
        known: String,
    },
    /// A backend registered under a name already taken.
    #[error("backend `{name}` is registered twice")]
    DuplicateBackend {
        /// The name.
        name: String,
    },
    /// The model and the dataset do not fit together.
    #[error("model `{model}` does not fit dataset `{dataset}`: {reason}")]
    Incompatible {
        /// Model name.
        model: String,
        /// Dataset name.
        dataset: String,
        /// Why.
        reason: String,
    },
    /// Training stopped because a stop was requested (Ctrl-C), at a batch boundary.
    #[error("interrupted at epoch {epoch} after {batches} batches of that epoch")]
    Interrupted {
        /// Epoch in progress (starting at 1).
        epoch: u64,
        /// Batches of that epoch completed.
        batches: u64,
    },
    /// Pipelined training cannot run as configured.
    #[error("cannot pipeline: {reason}")]
    Pipeline {
        /// Why.
        reason: String,
    },
    /// A checkpoint could not be written or read.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The checkpoint file or folder.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Reading or writing run files failed.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}
