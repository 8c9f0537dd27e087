//! [`ScheduleRegistry`]: builds schedules from spec strings; user schedules register here.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::spec::SpecNode;
use super::{BUILTINS, GuidanceSchedule};
use crate::error::CoreError;

/// A builder as a plain function: what a [`ScheduleEntry`] holds.
pub type BuildFn = fn(&SpecNode, &ScheduleRegistry) -> Result<Box<dyn GuidanceSchedule>, CoreError>;

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
#[derive(Debug, Clone, Copy)]
pub struct ScheduleEntry {
    /// The schedule's name in specs, e.g. `periodic`.
    pub name: &'static str,
    /// One line for `pgl schedules`: the parameters, then what the schedule does.
    pub summary: &'static str,
    /// Builds the schedule from its parsed spec (inner specs through the registry).
    pub build: BuildFn,
}

/// Builds one schedule from its parsed spec; the registry is passed in to build inner specs.
pub type ScheduleBuilder = Arc<
    dyn Fn(&SpecNode, &ScheduleRegistry) -> Result<Box<dyn GuidanceSchedule>, CoreError>
        + Send
        + Sync,
>;

/// How deeply schedule specs may nest (`any(warmup:then=any(..))`): deeper ones are errors,
/// not a stack overflow.
pub const MAX_NESTING: usize = 32;

thread_local! {
    static NESTING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts the nesting of [`ScheduleRegistry::build`] calls on this thread (builders build
/// their inner specs through the registry).
struct NestingGuard;

impl NestingGuard {
    fn enter(spec: &str) -> Result<Self, CoreError> {
        let depth = NESTING.with(|n| {
            n.set(n.get() + 1);
            n.get()
        });
        let guard = NestingGuard;
        if depth > MAX_NESTING {
            return Err(CoreError::SpecSyntax {
                spec: spec.chars().take(80).collect(),
                reason: format!("schedules nest more than {MAX_NESTING} levels deep"),
            });
        }
        Ok(guard)
    }
}

impl Drop for NestingGuard {
    fn drop(&mut self) {
        NESTING.with(|n| n.set(n.get() - 1));
    }
}

#[derive(Clone)]
struct Entry {
    summary: String,
    builder: ScheduleBuilder,
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
#[derive(Clone, Default)]
pub struct ScheduleRegistry {
    entries: BTreeMap<String, Entry>,
}

impl std::fmt::Debug for ScheduleRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.entries.keys()).finish()
    }
}

impl ScheduleRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry with every built-in schedule ([`BUILTINS`]).
    pub fn with_builtins() -> Self {
        let mut r = Self::new();
        for entry in BUILTINS {
            r.register_entry(*entry)
                .expect("built-in names are distinct");
        }
        r
    }

    /// Registers a schedule from its table row (see [`ScheduleEntry`]).
    pub fn register_entry(&mut self, entry: ScheduleEntry) -> Result<(), CoreError> {
        self.register_builder(entry.name, entry.summary, Arc::new(entry.build))
    }

    /// Registers a schedule under a new `name`; `summary` is shown by `pgl schedules`.
    pub fn register<F>(&mut self, name: &str, summary: &str, builder: F) -> Result<(), CoreError>
    where
        F: Fn(&SpecNode, &ScheduleRegistry) -> Result<Box<dyn GuidanceSchedule>, CoreError>
            + Send
            + Sync
            + 'static,
    {
        self.register_builder(name, summary, Arc::new(builder))
    }

    fn register_builder(
        &mut self,
        name: &str,
        summary: &str,
        builder: ScheduleBuilder,
    ) -> Result<(), CoreError> {
        if self.entries.contains_key(name) {
            return Err(CoreError::DuplicateSchedule {
                name: name.to_string(),
            });
        }
        self.entries.insert(
            name.to_string(),
            Entry {
                summary: summary.to_string(),
                builder,
            },
        );
        Ok(())
    }

    /// Builds the schedule described by `spec`. Specs nest at most [`MAX_NESTING`] levels deep.
    pub fn build(&self, spec: &str) -> Result<Box<dyn GuidanceSchedule>, CoreError> {
        let _depth = NestingGuard::enter(spec)?;
        let node = SpecNode::parse(spec)?;
        let entry = self
            .entries
            .get(&node.name)
            .ok_or_else(|| CoreError::UnknownSchedule {
                name: node.name.clone(),
                spec: node.text.clone(),
                known: self.names().join(", "),
            })?;
        (entry.builder)(&node, self)
    }

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

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }

    /// `(name, summary)` of every registered schedule, sorted by name.
    pub fn describe(&self) -> Vec<(String, String)> {
        self.entries
            .iter()
            .map(|(n, e)| (n.clone(), e.summary.clone()))
            .collect()
    }
}
