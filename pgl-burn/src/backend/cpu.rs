//! The CPU backend: Burn's pure-Rust `flex` (rayon + SIMD), always compiled in.

use burn::prelude::*;

use super::BackendEntry;

/// `--backend cpu`.
pub const ENTRY: BackendEntry = BackendEntry {
    name: "cpu",
    summary: "Burn's flex CPU backend (pure Rust, multi-threaded); always compiled in",
    cargo_feature: None,
    compiled: true,
    device_indices: false,
    host_memory_is_step_memory: true,
    make_device,
};

fn make_device(_index: Option<usize>) -> Device {
    Device::flex()
}
