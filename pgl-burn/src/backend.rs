//! Run-time backend selection. The CPU backend (Burn's pure-Rust `flex`) is always compiled
//! in; asking for a backend that was not compiled in is a [`TrainError::BackendNotCompiled`]
//! naming the cargo feature to enable.

use burn::prelude::*;

use crate::error::TrainError;

/// The backends `--backend` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// Burn's `flex` CPU backend (pure Rust, multi-threaded).
    Cpu,
    /// Burn's `wgpu` backend (cargo feature `wgpu`).
    Wgpu,
    /// Burn's `cuda` backend (cargo feature `cuda`).
    Cuda,
}

impl BackendKind {
    /// Parses `cpu`, `wgpu` or `cuda`.
    pub fn parse(name: &str) -> Result<Self, TrainError> {
        match name {
            "cpu" => Ok(BackendKind::Cpu),
            "wgpu" => Ok(BackendKind::Wgpu),
            "cuda" => Ok(BackendKind::Cuda),
            _ => Err(TrainError::UnknownBackend {
                name: name.to_string(),
            }),
        }
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Cpu => "cpu",
            BackendKind::Wgpu => "wgpu",
            BackendKind::Cuda => "cuda",
        }
    }

    /// The plain (non-autodiff) device of this backend.
    pub fn device(self) -> Result<Device, TrainError> {
        let not_compiled = || TrainError::BackendNotCompiled {
            backend: self.name().to_string(),
            feature: self.name().to_string(),
        };
        match self {
            BackendKind::Cpu => Ok(Device::flex()),
            BackendKind::Wgpu | BackendKind::Cuda => Err(not_compiled()),
        }
    }

    /// The autodiff device used for training on this backend; with `checkpointing`, Burn's
    /// gradient-checkpointing strategy (memory-bound activations are recomputed in backward).
    pub fn training_device(self, checkpointing: bool) -> Result<Device, TrainError> {
        let device = self.device()?.autodiff();
        Ok(if checkpointing {
            device.gradient_checkpointing()
        } else {
            device
        })
    }
}
