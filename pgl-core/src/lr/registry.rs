//! [`LrScheduleRegistry`]: builds learning-rate schedules from spec strings; user schedules
//! register here.
//!
//! The built-ins are the one table [`BUILTINS`](super::BUILTINS) in the parent module, one line each: adding a built-in is a new
//! file exporting an [`LrScheduleEntry`] plus one line there.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{BUILTINS, LrSchedule};
use crate::error::CoreError;
use crate::schedule::{MAX_NESTING, SpecNode};

/// Builds one LR schedule from its parsed spec; the registry is passed in to build inner specs
/// (`linear-warmup:then=SPEC`).
pub type LrScheduleBuilder = Arc<
    dyn Fn(&SpecNode, &LrScheduleRegistry) -> Result<Box<dyn LrSchedule>, CoreError> + Send + Sync,
>;

/// A builder as a plain function: what an [`LrScheduleEntry`] holds.
pub type LrBuildFn = fn(&SpecNode, &LrScheduleRegistry) -> Result<Box<dyn LrSchedule>, CoreError>;

/// One row of the LR schedule table: the name used in specs, the one-line summary
/// `pgl lr-schedules` prints (parameters first, then the factor), and the builder.
///
/// Each built-in's file exports its entry beside the schedule, so the table lives next to the
/// plugins; [`LrScheduleRegistry::register_entry`] adds one from any crate.
///
/// ```
/// use pgl_core::lr::{Constant, LrScheduleEntry};
/// use pgl_core::schedule::SpecArgs;
/// use pgl_core::LrScheduleRegistry;
///
/// const FLAT: LrScheduleEntry = LrScheduleEntry {
///     name: "flat",
///     summary: "factor 1 (another name for constant)",
///     build: |node, _| {
///         SpecArgs::new(node, &[])?;
///         Ok(Box::new(Constant))
///     },
/// };
/// let mut registry = LrScheduleRegistry::with_builtins();
/// registry.register_entry(FLAT).unwrap();
/// assert!(registry.build("flat").is_ok());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct LrScheduleEntry {
    /// The schedule's name in specs, e.g. `cosine`.
    pub name: &'static str,
    /// One line for `pgl lr-schedules`: the parameters, then what the factor is.
    pub summary: &'static str,
    /// Builds the schedule from its parsed spec (inner specs through the registry).
    pub build: LrBuildFn,
}

thread_local! {
    static NESTING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts the nesting of [`LrScheduleRegistry::build`] calls on this thread, so a spec nested
/// more than [`MAX_NESTING`] levels deep is an error, not a stack overflow.
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
                reason: format!("learning-rate schedules nest more than {MAX_NESTING} levels deep"),
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
    builder: LrScheduleBuilder,
}

/// Maps LR schedule names to builders. [`LrScheduleRegistry::with_builtins`] knows every
/// built-in; [`register`](LrScheduleRegistry::register) adds user schedules without touching
/// them.
///
/// ```
/// use pgl_core::lr::{LrContext, LrSchedule, LrScheduleRegistry};
/// use pgl_core::schedule::SpecArgs;
///
/// #[derive(Debug, Clone)]
/// struct Halve;
/// impl LrSchedule for Halve {
///     fn factor(&self, _ctx: &LrContext) -> f64 { 0.5 }
///     fn spec(&self) -> String { "halve".into() }
///     fn clone_box(&self) -> Box<dyn LrSchedule> { Box::new(self.clone()) }
/// }
///
/// let mut registry = LrScheduleRegistry::with_builtins();
/// registry
///     .register("halve", "half the base learning rate", |node, _| {
///         SpecArgs::new(node, &[])?; // rejects unknown keys
///         Ok(Box::new(Halve))
///     })
///     .unwrap();
/// let warm = registry.build("linear-warmup:iters=10,then=halve").unwrap();
/// assert_eq!(warm.factor(&LrContext::at_iteration(50, 10, 9)), 0.5);
/// assert!(registry.entries().iter().any(|(name, _)| name == "halve"));
/// ```
#[derive(Clone, Default)]
pub struct LrScheduleRegistry {
    entries: BTreeMap<String, Entry>,
}

impl std::fmt::Debug for LrScheduleRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.entries.keys()).finish()
    }
}

impl LrScheduleRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry with every built-in LR schedule ([`BUILTINS`](super::BUILTINS)).
    pub fn with_builtins() -> Self {
        let mut registry = Self::new();
        for entry in BUILTINS {
            registry
                .register_entry(*entry)
                .expect("built-in names are distinct and well formed");
        }
        registry
    }

    /// Registers an LR schedule from its table row (see [`LrScheduleEntry`]).
    pub fn register_entry(&mut self, entry: LrScheduleEntry) -> Result<(), CoreError> {
        self.register_builder(entry.name, entry.summary, Arc::new(entry.build))
    }

    /// Registers an LR schedule under a new `name` (letters, digits, `-`, `_`); `summary` is
    /// shown by `pgl lr-schedules`. A name already registered is an error.
    pub fn register<F>(&mut self, name: &str, summary: &str, builder: F) -> Result<(), CoreError>
    where
        F: Fn(&SpecNode, &LrScheduleRegistry) -> Result<Box<dyn LrSchedule>, CoreError>
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
        builder: LrScheduleBuilder,
    ) -> Result<(), CoreError> {
        let well_formed = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !well_formed {
            return Err(CoreError::SpecSyntax {
                spec: name.to_string(),
                reason: "a learning-rate schedule name uses only letters, digits, `-` and `_`"
                    .to_string(),
            });
        }
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

    /// Builds the LR schedule described by `spec`. Specs nest at most [`MAX_NESTING`] levels
    /// deep.
    pub fn build(&self, spec: &str) -> Result<Box<dyn LrSchedule>, CoreError> {
        let _depth = NestingGuard::enter(spec)?;
        let node = SpecNode::parse(spec).map_err(with_list_hint)?;
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

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }

    /// `(name, summary)` of every registered LR schedule, sorted by name: what
    /// `pgl lr-schedules` lists.
    pub fn entries(&self) -> Vec<(String, String)> {
        self.entries
            .iter()
            .map(|(n, e)| (n.clone(), e.summary.clone()))
            .collect()
    }
}

/// Adds the bracket syntax of list values to the parser's "`x` is not of the form key=value"
/// (what `multistep:at=80,120` gives, since commas separate parameters).
fn with_list_hint(err: CoreError) -> CoreError {
    match err {
        CoreError::SpecSyntax { spec, reason }
            if reason.ends_with("is not of the form key=value") =>
        {
            CoreError::SpecSyntax {
                spec,
                reason: format!(
                    "{reason} (a list value goes in brackets, e.g. `multistep:at=(80,120),gamma=0.1`)"
                ),
            }
        }
        err => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lists_every_builtin_once() {
        let registry = LrScheduleRegistry::with_builtins();
        assert_eq!(
            registry.names(),
            ["constant", "cosine", "linear-warmup", "multistep"]
        );
        assert!(
            registry
                .entries()
                .iter()
                .all(|(_, summary)| !summary.is_empty())
        );
    }

    #[test]
    fn registering_a_taken_or_malformed_name_is_an_error() {
        let mut registry = LrScheduleRegistry::with_builtins();
        let build = super::super::constant::ENTRY.build;
        assert!(matches!(
            registry.register("cosine", "again", build),
            Err(CoreError::DuplicateSchedule { .. })
        ));
        for name in ["", "my lr", "a:b"] {
            assert!(matches!(
                registry.register(name, "bad", build),
                Err(CoreError::SpecSyntax { .. })
            ));
        }
    }

    #[test]
    fn unknown_names_list_the_known_ones() {
        let err = LrScheduleRegistry::with_builtins()
            .build("step:at=3")
            .unwrap_err();
        assert!(
            matches!(err, CoreError::UnknownSchedule { ref known, .. }
                if known == "constant, cosine, linear-warmup, multistep"),
            "{err}"
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let mut spec = "constant".to_string();
        for _ in 0..(MAX_NESTING + 5) {
            spec = format!("linear-warmup:iters=1,then={spec}");
        }
        let err = LrScheduleRegistry::with_builtins()
            .build(&spec)
            .unwrap_err();
        assert!(err.to_string().contains("nest"), "{err}");
        // The guard unwinds: a shallow spec still builds on this thread.
        assert!(LrScheduleRegistry::with_builtins().build("cosine").is_ok());
    }
}
