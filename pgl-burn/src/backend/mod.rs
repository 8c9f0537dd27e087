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

    /// Whether this binary was built with this backend.
    pub fn is_compiled(self) -> bool {
        match self {
            BackendKind::Cpu => true,
            BackendKind::Wgpu => cfg!(feature = "wgpu"),
            BackendKind::Cuda => cfg!(feature = "cuda"),
        }
    }

    /// The plain (non-autodiff) device of this backend. `index` picks a GPU (the N-th
    /// discrete GPU for wgpu, CUDA device N for cuda); `None` is the backend's default device.
    /// The CPU backend has a single device and refuses an index.
    pub fn device(self, index: Option<usize>) -> Result<Device, TrainError> {
        if !self.is_compiled() {
            return Err(TrainError::BackendNotCompiled {
                backend: self.name().to_string(),
                feature: self.name().to_string(),
            });
        }
        match self {
            BackendKind::Cpu => match index {
                None => Ok(Device::flex()),
                Some(index) => Err(TrainError::NoDeviceIndex {
                    backend: self.name().to_string(),
                    index,
                }),
            },
            BackendKind::Wgpu => started(self, wgpu_device(index)?),
            BackendKind::Cuda => started(self, cuda_device(index)?),
        }
    }

    /// The autodiff device used for training on this backend; with `checkpointing`, Burn's
    /// gradient-checkpointing strategy (memory-bound activations are recomputed in backward).
    pub fn training_device(
        self,
        index: Option<usize>,
        checkpointing: bool,
    ) -> Result<Device, TrainError> {
        let device = self.device(index)?.autodiff();
        Ok(if checkpointing {
            device.gradient_checkpointing()
        } else {
            device
        })
    }
}

/// Runs a tiny computation on a GPU `device`. A GPU backend that cannot start (no driver, no
/// adapter, no NVRTC) panics inside Burn on first use; this turns that into an error naming
/// the backend before any data is loaded or any run folder is made. Burn's panic message is
/// kept as the reason (and not printed: the panic hook is silenced for the probe).
fn started(backend: BackendKind, device: Device) -> Result<Device, TrainError> {
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Tensor::<1>::ones([4], &device).sum().into_scalar::<f32>()
    }));
    std::panic::set_hook(previous_hook);
    let reason = match outcome {
        Ok(4.0) => return Ok(device),
        Ok(sum) => format!("a test computation (sum of four ones) gave {sum}"),
        Err(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the device panicked while starting".to_string()),
    };
    Err(TrainError::BackendUnavailable {
        backend: backend.name().to_string(),
        reason,
    })
}

#[cfg(feature = "wgpu")]
fn wgpu_device(index: Option<usize>) -> Result<Device, TrainError> {
    Ok(Device::wgpu(match index {
        None => DeviceKind::DefaultDevice,
        Some(index) => DeviceKind::DiscreteGpu(index),
    }))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device(_index: Option<usize>) -> Result<Device, TrainError> {
    unreachable!("checked by BackendKind::is_compiled")
}

#[cfg(feature = "cuda")]
fn cuda_device(index: Option<usize>) -> Result<Device, TrainError> {
    Ok(Device::cuda(index.unwrap_or(0)))
}

#[cfg(not(feature = "cuda"))]
fn cuda_device(_index: Option<usize>) -> Result<Device, TrainError> {
    unreachable!("checked by BackendKind::is_compiled")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_backend_is_always_there_and_has_one_device() {
        assert!(BackendKind::Cpu.device(None).is_ok());
        let e = BackendKind::Cpu.device(Some(1)).unwrap_err().to_string();
        assert!(e.contains("--device") && e.contains("cpu"), "{e}");
    }

    #[test]
    fn a_backend_left_out_of_the_build_names_its_feature() {
        for kind in [BackendKind::Wgpu, BackendKind::Cuda] {
            if kind.is_compiled() {
                continue;
            }
            let e = kind.device(None).unwrap_err().to_string();
            assert!(e.contains(&format!("--features {}", kind.name())), "{e}");
        }
    }
}
