//! [`GuidanceConfig`]: the guidance schedule and what its global steps do.

use serde::{Deserialize, Serialize};

/// When global steps run and how: the schedule, the loss and learning rate of global steps,
/// and the variants studied in docs/results/guidance/ (replay, synthetic gradients, partial
/// depth, detached aux heads, micro-batches, recomputation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[serde(default)]
pub struct GuidanceConfig {
    /// Guidance schedule spec, e.g. `periodic:every=10`. Default `periodic:every=4`, the
    /// policy of the guidance study (docs/results/guidance/).
    #[cfg_attr(feature = "clap", arg(skip = String::from("periodic:every=4")))]
    pub schedule: String,
    /// Weight λ of the auxiliary losses added to the loss of a guided schedule's global steps
    /// (0: classifier loss only; `end-to-end` is always plain backprop). Default 1: global
    /// steps also train the aux heads, the guidance study's policy.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            allow_negative_numbers = true,
            help = "Weight of the aux-head losses added to the loss of a guided schedule's global steps (they then train the aux heads too); 0: classifier only; `end-to-end` is always plain backprop [default: 1]."
        )
    )]
    pub aux_weight: f64,
    /// Global steps use the learning rate times this factor (default 1).
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            allow_negative_numbers = true,
            value_name = "FACTOR",
            help = "Global steps use the learning rate times this factor [default: 1]."
        )
    )]
    pub global_lr_scale: f64,
    /// β of global-gradient replay: every global step leaves β times the gradient it applied
    /// to each module, and the local steps until the next global step add it to their own
    /// (0, the default: off; configurations written before this field existed read as 0).
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            allow_negative_numbers = true,
            value_name = "BETA",
            help = "Global-gradient replay: every global step leaves BETA times the gradient it applied to each module, and the local steps until the next global step add it to their own; 0: off [default: 0]."
        )
    )]
    pub global_replay: f64,
    /// α of synthetic gradients (DNI): global steps train a small predictor per module on the
    /// true gradient of the global loss at the module's output, and local steps add α times
    /// its prediction to every module's own gradient (0, the default: off; configurations
    /// written before this field existed read as 0). Not combined with `global_microbatch`
    /// or `global_depth`.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            required = false,
            allow_negative_numbers = true,
            value_name = "ALPHA",
            help = "Synthetic gradients (DNI): global steps train a small predictor per module on the true gradient of the global loss at its output, and local steps add ALPHA times its prediction to each module's own gradient; 0: off [default: 0]."
        )
    )]
    pub synthetic_gradient: f64,
    /// Global steps backpropagate through the top J modules only: the modules below take a
    /// local step, the top J are trained end to end (`None`, the default: all K; `end-to-end`
    /// is always whole). Not combined with `global_microbatch` or `global_checkpointing`.
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            allow_negative_numbers = true,
            value_name = "J",
            help = "Partial global steps: backpropagate the global loss through the top J modules only (the modules below take a local step) [default: all K]."
        )
    )]
    pub global_depth: Option<usize>,
    /// With `aux_weight > 0`: the aux losses of global steps train the aux heads only (each
    /// head reads its module's features detached), so the modules themselves learn from the
    /// classifier's loss alone in global steps (default false: the aux losses reach the
    /// modules too).
    #[cfg_attr(feature = "clap", arg(long, required = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", help = "Global steps' aux losses (`--aux-weight`) train the aux heads only: the heads read the modules' features detached, so the modules learn from the classifier's loss alone in global steps (`--global-aux-detach` or `--global-aux-detach false`) [default: false]."))]
    pub global_aux_detach: bool,
    /// Split every global step's batch into this many micro-batches and accumulate their
    /// gradients, so that a global step holds the activations of one micro-batch at a time
    /// (`None`: one pass over the whole batch).
    #[cfg_attr(
        feature = "clap",
        arg(
            long,
            allow_negative_numbers = true,
            value_name = "M",
            help = "Cut every global step's batch into M micro-batches and accumulate their gradients, to hold one micro-batch's activations at a time [default: 1]."
        )
    )]
    pub global_microbatch: Option<usize>,
    /// Gradient checkpointing for global steps only: a global step keeps the activations at
    /// module boundaries and recomputes each module's forward pass during the backward pass,
    /// holding one module's autodiff graph at a time. Local steps are unaffected.
    #[cfg_attr(feature = "clap", arg(skip))]
    pub global_checkpointing: bool,
}

impl GuidanceConfig {
    /// The micro-batches a global step's batch is cut into (1: none).
    pub fn microbatches(&self) -> usize {
        self.global_microbatch.unwrap_or(1)
    }
}

impl Default for GuidanceConfig {
    fn default() -> Self {
        Self {
            schedule: "periodic:every=4".to_string(),
            aux_weight: 1.0,
            global_lr_scale: 1.0,
            global_replay: 0.0,
            synthetic_gradient: 0.0,
            global_depth: None,
            global_aux_detach: false,
            global_microbatch: None,
            global_checkpointing: false,
        }
    }
}
