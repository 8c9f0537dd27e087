//! [`ScheduleRegistry`]: builds schedules from spec strings; user schedules register here.
//!
//! The registry is the generic [`SpecRegistry`] for `dyn GuidanceSchedule`; this module names
//! the kind ([`SpecPlugin`]) and adds what only schedules have ([`ScheduleRegistry::build_args`]
//! for combinators).

use super::spec::SpecNode;
pub use super::spec_registry::MAX_NESTING;
use super::spec_registry::{SpecBuildFn, SpecBuilder, SpecEntry, SpecPlugin, SpecRegistry};
use super::{BUILTINS, GuidanceSchedule};
use crate::error::CoreError;

/// A builder as a plain function: what a [`ScheduleEntry`] holds.
pub type BuildFn = SpecBuildFn<dyn GuidanceSchedule>;

/// One row of the schedule table: the name used in specs, the one-line summary `pgl schedules`
/// prints (parameters first, then what the schedule does), and the builder.
///
/// Each schedule's file exports its entry beside the schedule, so the table lives next to the
/// plugins; [`ScheduleRegistry::register_entry`] adds one from any crate.
///
/// ```
/// use pgl_core::schedule::{EndToEnd, ScheduleEntry, SpecArgs};
/// use pgl_core::ScheduleRegistry;
///
/// const ALWAYS: ScheduleEntry = ScheduleEntry {
///     name: "always-global",
///     summary: "every step is global",
///     build: |node, _| {
///         SpecArgs::new(node, &[])?;
///         Ok(Box::new(EndToEnd))
///     },
/// };
/// let mut registry = ScheduleRegistry::with_builtins();
/// registry.register_entry(ALWAYS).unwrap();
/// assert!(registry.build("always-global").is_ok());
/// ```
pub type ScheduleEntry = SpecEntry<dyn GuidanceSchedule>;

/// Builds one schedule from its parsed spec; the registry is passed in to build inner specs.
pub type ScheduleBuilder = SpecBuilder<dyn GuidanceSchedule>;

impl SpecPlugin for dyn GuidanceSchedule {
    const KIND: &'static str = "schedules";
    const BUILTINS: &'static [ScheduleEntry] = BUILTINS;
}

/// Maps schedule names to builders. [`ScheduleRegistry::with_builtins`] knows every built-in;
/// [`register`](ScheduleRegistry::register) adds user schedules without touching them.
///
/// ```
/// use pgl_core::schedule::{EndToEnd, SpecArgs};
/// use pgl_core::ScheduleRegistry;
///
/// let mut registry = ScheduleRegistry::with_builtins();
/// registry
///     .register("always-global", "my own schedule", |node, _| {
///         SpecArgs::new(node, &[])?;
///         Ok(Box::new(EndToEnd))
///     })
///     .unwrap();
/// assert!(registry.build("always-global").is_ok());
/// ```
pub type ScheduleRegistry = SpecRegistry<dyn GuidanceSchedule>;

impl ScheduleRegistry {
    /// Builds the positional inner specs of a combinator node (at least one, no parameters).
    pub fn build_args(&self, node: &SpecNode) -> Result<Vec<Box<dyn GuidanceSchedule>>, CoreError> {
        if let Some((key, _)) = node.params.first() {
            return Err(CoreError::UnknownKey {
                schedule: node.name.clone(),
                key: key.clone(),
                allowed: "(none: list inner schedules in parentheses)".to_string(),
            });
        }
        if node.args.is_empty() {
            return Err(CoreError::SpecSyntax {
                spec: node.text.clone(),
                reason: format!(
                    "`{}` needs inner schedules: {}(A,B,..)",
                    node.name, node.name
                ),
            });
        }
        node.args.iter().map(|a| self.build(a)).collect()
    }

    /// `(name, summary)` of every registered schedule, sorted by name (what `pgl schedules`
    /// lists; the same as [`entries`](SpecRegistry::entries)).
    pub fn describe(&self) -> Vec<(String, String)> {
        self.entries()
    }
}
