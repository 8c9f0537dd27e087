//! The `wgpu` backend (cargo feature `wgpu`): Vulkan, Metal or DX12 GPUs, and Mesa's lavapipe
//! on a machine without a GPU.

use burn::prelude::*;

use super::BackendEntry;

/// `--backend wgpu`.
pub const ENTRY: BackendEntry = BackendEntry {
    name: "wgpu",
    summary: "Burn's wgpu backend (WGSL kernels; Vulkan/Metal/DX12, or Mesa's lavapipe on a CPU)",
    cargo_feature: Some("wgpu"),
    compiled: cfg!(feature = "wgpu"),
    device_indices: true,
    host_memory_is_step_memory: false,
    make_device,
};

/// The default device, or the `index`-th discrete GPU.
#[cfg(feature = "wgpu")]
fn make_device(index: Option<usize>) -> Device {
    Device::wgpu(match index {
        None => DeviceKind::DefaultDevice,
        Some(index) => DeviceKind::DiscreteGpu(index),
    })
}

#[cfg(not(feature = "wgpu"))]
fn make_device(_index: Option<usize>) -> Device {
    unreachable!("a backend that is not compiled in is refused before its device is made")
}
