//! [`RuntimeConfig`]: where and how a run executes, and what it keeps.

use serde::{Deserialize, Serialize};

/// The compute backend and device, the convolution kernels, pipelining, checkpoints, and where
/// the initial weights came from: how a run executes and what it keeps. The backend, device
/// and kernels change the last bits of what it computes; `pipeline` does not (pipelined runs
/// are bit-identical to sequential ones).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default)]
pub struct RuntimeConfig {
    /// Compute backend, e.g. `cpu`; the backend table of pgl-burn lists and checks the names.
    #[cfg_attr(
        feature = "clap",
        arg(long, required = false, help = "Compute backend [default: cpu].")
    )]
    pub backend: String,
    /// Device index for backends with several devices (`None`: the backend's default device);
    /// the backend refuses an index when it has a single device.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            allow_negative_numbers = true,
            value_name = "N",
            help = "GPU index for --backend wgpu (N-th discrete GPU) or cuda (CUDA device N) [default: the backend's default device]."
        )
    )]
    pub device: Option<usize>,
    /// Convolution kernels on the CPU backend: `auto` (the default: oneDNN's where its shared
    /// library `libdnnl.so.2` is installed, else pgl's), `pgl` (pgl's own, pure Rust: the same
    /// bits for any thread count) or `onednn` (1.4× faster steps, docs/perf.md; its bits
    /// depend on the OpenMP thread count). pgl-burn checks the name; pgl-cli records the
    /// kernels `auto` chose, so that a record reruns and resumes with the same ones. Runs
    /// recorded before this field existed read as `pgl` ([`LEGACY_DEFAULTS`](crate::LEGACY_DEFAULTS)).
    #[serde(default = "legacy_kernels")]
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            value_name = "auto|pgl|onednn",
            help = "Convolution kernels on the CPU: auto (oneDNN's where libdnnl.so.2 is installed, else pgl's), pgl (pgl's own: the same bits on any core count) or onednn (apt install libdnnl2) [default: auto]."
        )
    )]
    pub kernels: String,
    /// Run local steps through a pipeline of this many worker threads (`None`: sequentially).
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            allow_negative_numbers = true,
            value_name = "W",
            help = "Run local steps through a pipeline of W worker threads (module groups) [default: off]."
        )
    )]
    pub pipeline: Option<usize>,
    /// Write a checkpoint every N epochs (and always after the last one).
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            allow_negative_numbers = true,
            value_name = "N",
            help = "Write a checkpoint every N epochs, and after the last [default: 1]."
        )
    )]
    pub checkpoint_every: u64,
    /// How many of the newest checkpoints to keep.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            allow_negative_numbers = true,
            value_name = "N",
            help = "Keep the newest N checkpoints [default: 3]."
        )
    )]
    pub keep_checkpoints: usize,
    /// The checkpoint folder this run's initial weights came from (`pgl train --init-from`);
    /// `None`: freshly initialised from the seed.
    #[cfg_attr(feature = "clap", arg(skip))]
    pub init_from: Option<String>,
    /// With `init_from`: the optimizer states and the schedule's state came from the
    /// checkpoint too (`--keep-optimizer`), not fresh.
    #[cfg_attr(feature = "clap", arg(skip))]
    pub keep_optimizer: bool,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            backend: "cpu".to_string(),
            device: None,
            kernels: "auto".to_string(),
            pipeline: None,
            checkpoint_every: 1,
            keep_checkpoints: 3,
            init_from: None,
            keep_optimizer: false,
        }
    }
}

/// The kernels a run configuration without the field means: `pgl`, the only ones then.
fn legacy_kernels() -> String {
    "pgl".to_string()
}
