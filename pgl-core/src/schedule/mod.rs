//! Guidance schedules: the plugin that decides, before every mini-batch, whether the trainer
//! takes a local step or a global step.
//!
//! A schedule reads a [`StepContext`] and returns a [`StepKind`]; it never touches tensors, so
//! every schedule is tested exhaustively on plain numbers (see [`conformance`]).
//!
//! Built-ins (one file each, exporting its [`ScheduleEntry`] beside the schedule; the table
//! [`BUILTINS`] lists them one line each):
//!
//! | spec | meaning |
//! |---|---|
//! | `local-only` | never global: greedy local learning (DGL / InfoPro baseline) |
//! | `end-to-end` | always global: plain backprop baseline |
//! | `periodic:every=N,len=L,unit=iters\|epochs` | the last `L` steps (or epochs) of every period of `N` are global |
//! | `warmup:epochs=E,clock=run\|switch,then=SPEC` | end-to-end for the first `E` epochs, then `SPEC`, which reads the run's clock (`run`, default) or time since the switch (`switch`) |
//! | `plateau:patience=P,len=L,min_delta=D` | adaptive: `L` global steps whenever the loss has not improved by `D` for `P` steps |
//! | `lagging:margin=M,min_gap=A,max_gap=B,smooth=S` | adaptive: a global step when the classifier's loss exceeds the best aux head's by more than `M` (moving average), at least `A` and at most `B` local steps apart |
//! | `any(A,B,..)` / `all(A,B,..)` | global when any / all of the inner schedules say global |
//!
//! Adding a schedule is one file implementing [`GuidanceSchedule`] and exporting a
//! [`ScheduleEntry`], plus one line: in [`BUILTINS`] for a built-in, or a
//! [`ScheduleRegistry::register_entry`] call from your own crate; see `ARCHITECTURE.md`.

pub mod combinators;
pub mod conformance;
pub mod end_to_end;
pub mod lagging;
pub mod local_only;
pub mod periodic;
pub mod plateau;
pub mod registry;
pub mod spec;
pub mod spec_registry;
pub mod warmup;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::step::{StepContext, StepKind};

pub use combinators::{All, Any, Combinator, Join};
pub use end_to_end::EndToEnd;
pub use lagging::Lagging;
pub use local_only::LocalOnly;
pub use periodic::{PeriodUnit, Periodic};
pub use plateau::Plateau;
pub use registry::{BuildFn, MAX_NESTING, ScheduleBuilder, ScheduleEntry, ScheduleRegistry};
pub use spec::{SpecArgs, SpecNode};
pub use spec_registry::{SpecBuildFn, SpecBuilder, SpecEntry, SpecPlugin, SpecRegistry};
pub use warmup::{Warmup, WarmupClock};

/// Every built-in schedule, one line each: the one table of this plugin kind. Adding a
/// built-in is one new file exporting a [`ScheduleEntry`] beside its schedule, plus one line
/// here. (The table sits here, above the plugins and the registry, so that neither imports
/// the other.)
pub const BUILTINS: &[ScheduleEntry] = &[
    local_only::ENTRY,
    end_to_end::ENTRY,
    periodic::ENTRY,
    warmup::ENTRY,
    plateau::ENTRY,
    lagging::ENTRY,
    combinators::ANY_ENTRY,
    combinators::ALL_ENTRY,
];

/// Decides, before each mini-batch, between a local and a global step.
///
/// Implementations must be deterministic: the decision depends only on the context and on the
/// schedule's own state, and restoring a saved [`state`](Self::state) into a freshly built
/// schedule of the same spec reproduces every later decision. The trait is object safe;
/// `Box<dyn GuidanceSchedule>` implements it too, so boxed and generic schedules mix.
pub trait GuidanceSchedule: Send + std::fmt::Debug {
    /// The kind of the step described by `ctx`. Called exactly once per step, in order.
    fn decide(&mut self, ctx: &StepContext<'_>) -> StepKind;

    /// The canonical spec string that rebuilds this schedule through the registry.
    fn spec(&self) -> String;

    /// The schedule's mutable state, for checkpoints. Stateless schedules return an empty state.
    fn state(&self) -> ScheduleState {
        ScheduleState::default()
    }

    /// Restores a state produced by [`state`](Self::state) on a schedule of the same spec.
    fn restore(&mut self, state: &ScheduleState) -> Result<(), CoreError> {
        state.expect_stateless(&self.spec(), "schedule")
    }

    /// A boxed copy of this schedule, state included.
    fn clone_box(&self) -> Box<dyn GuidanceSchedule>;

    /// Whether decisions read `StepContext::recent_losses` or `StepContext::module_losses`. A
    /// pipelined trainer cannot give such a schedule the losses of the previous step in time,
    /// so it refuses it.
    fn uses_losses(&self) -> bool {
        false
    }

    /// Whether this is plain end-to-end training (every step global, no guidance): its global
    /// steps are plain backprop, without the aux losses that `aux_weight` adds to the global
    /// steps of a guided schedule.
    fn is_plain_end_to_end(&self) -> bool {
        false
    }
}

impl GuidanceSchedule for Box<dyn GuidanceSchedule> {
    fn decide(&mut self, ctx: &StepContext<'_>) -> StepKind {
        (**self).decide(ctx)
    }
    fn spec(&self) -> String {
        (**self).spec()
    }
    fn state(&self) -> ScheduleState {
        (**self).state()
    }
    fn restore(&mut self, state: &ScheduleState) -> Result<(), CoreError> {
        (**self).restore(state)
    }
    fn clone_box(&self) -> Box<dyn GuidanceSchedule> {
        (**self).clone_box()
    }
    fn uses_losses(&self) -> bool {
        (**self).uses_losses()
    }
    fn is_plain_end_to_end(&self) -> bool {
        (**self).is_plain_end_to_end()
    }
}

impl Clone for Box<dyn GuidanceSchedule> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// The saved state of a schedule: named numbers, serialisable into checkpoints.
///
/// Combinators store the states of their inner schedules under a prefix (`"0."`, `"1."`, ...)
/// with [`ScheduleState::nest`] and read them back with [`ScheduleState::child`].
///
/// Any `f64` may be stored: in JSON, finite values are plain numbers and `NaN`, `inf`, `-inf`
/// are strings ([`crate::json_float`]), so every state survives the checkpoint manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScheduleState {
    /// The state's values by name.
    #[serde(with = "crate::json_float::map")]
    pub values: BTreeMap<String, f64>,
}

impl ScheduleState {
    /// True when the state holds no value.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Sets one value (builder style).
    pub fn with(mut self, key: &str, value: f64) -> Self {
        self.values.insert(key.to_string(), value);
        self
    }

    /// Adds every value of `child` under `prefix` + `.`.
    pub fn nest(&mut self, prefix: &str, child: ScheduleState) {
        for (key, value) in child.values {
            self.values.insert(format!("{prefix}.{key}"), value);
        }
    }

    /// The values stored under `prefix` + `.`, with the prefix removed.
    pub fn child(&self, prefix: &str) -> ScheduleState {
        let head = format!("{prefix}.");
        ScheduleState {
            values: self
                .values
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(&head).map(|rest| (rest.to_string(), *v)))
                .collect(),
        }
    }

    /// `Ok` for an empty state; otherwise a [`CoreError::StateMismatch`] naming `schedule` (a
    /// spec), saying the `kind` of plugin (`"schedule"`) is stateless and listing the keys. The
    /// default `restore` of the schedule traits.
    pub fn expect_stateless(&self, schedule: &str, kind: &str) -> Result<(), CoreError> {
        if self.is_empty() {
            return Ok(());
        }
        Err(CoreError::StateMismatch {
            schedule: schedule.to_string(),
            reason: format!(
                "this {kind} is stateless but the state has keys {:?}",
                self.values.keys().collect::<Vec<_>>()
            ),
        })
    }

    /// The value of `key`, or a [`CoreError::StateMismatch`] naming `schedule` when absent.
    pub fn require(&self, schedule: &str, key: &str) -> Result<f64, CoreError> {
        self.values
            .get(key)
            .copied()
            .ok_or_else(|| CoreError::StateMismatch {
                schedule: schedule.to_string(),
                reason: format!("missing value `{key}`"),
            })
    }
}
