//! The `cuda` backend (cargo feature `cuda`): NVIDIA GPUs, kernels compiled at run time by
//! NVRTC (see ARCHITECTURE.md, "GPU backends").

use burn::prelude::*;

use super::BackendEntry;

/// `--backend cuda`.
pub const ENTRY: BackendEntry = BackendEntry {
    name: "cuda",
    summary: "Burn's CUDA backend (NVIDIA driver >= 580, NVRTC from a CUDA 13 toolkit)",
    cargo_feature: Some("cuda"),
    compiled: cfg!(feature = "cuda"),
    device_indices: true,
    host_memory_is_step_memory: false,
    make_device,
};

/// CUDA device `index` (default 0).
#[cfg(feature = "cuda")]
fn make_device(index: Option<usize>) -> Device {
    Device::cuda(index.unwrap_or(0))
}

#[cfg(not(feature = "cuda"))]
fn make_device(_index: Option<usize>) -> Device {
    unreachable!("a backend that is not compiled in is refused before its device is made")
}
