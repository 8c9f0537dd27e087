//! [`SpecRegistry`]: the one registry behind every plugin kind built from spec strings.
//!
//! A registry maps names to builders; [`SpecRegistry::build`] parses a spec
//! ([`SpecNode::parse`]), looks its name up and calls the builder, which builds inner specs
//! (`warmup:then=SPEC`) through the same registry. Each plugin kind names itself and its
//! built-in table through [`SpecPlugin`]: guidance schedules are
//! [`ScheduleRegistry`](super::ScheduleRegistry) (`SpecRegistry<dyn GuidanceSchedule>`), learning-rate
//! schedules [`LrScheduleRegistry`](crate::lr::LrScheduleRegistry)
//! (`SpecRegistry<dyn LrSchedule>`).

use std::collections::BTreeMap;
use std::sync::Arc;

use super::spec::SpecNode;
use crate::error::CoreError;

/// A plugin kind built from spec strings: the trait object type (`dyn GuidanceSchedule`,
/// `dyn LrSchedule`) that its [`SpecRegistry`] builds boxes of.
pub trait SpecPlugin: 'static {
    /// The kind in plural, for messages: `"schedules"`, `"learning-rate schedules"`.
    const KIND: &'static str;

    /// Every built-in of this kind: what [`SpecRegistry::with_builtins`] registers.
    const BUILTINS: &'static [SpecEntry<Self>];

    /// Rewrites an error of [`SpecNode::parse`] for specs of this kind (e.g. adds a hint
    /// about the kind's own syntax); unchanged by default.
    fn explain_parse_error(err: CoreError) -> CoreError {
        err
    }
}

/// A builder as a plain function: what a [`SpecEntry`] holds.
pub type SpecBuildFn<P> = fn(&SpecNode, &SpecRegistry<P>) -> Result<Box<P>, CoreError>;

/// Builds one plugin from its parsed spec; the registry is passed in to build inner specs.
pub type SpecBuilder<P> =
    Arc<dyn Fn(&SpecNode, &SpecRegistry<P>) -> Result<Box<P>, CoreError> + Send + Sync>;

/// One row of a plugin table: the name used in specs, the one-line summary the CLI lists
/// (parameters first, then what the plugin does), and the builder.
pub struct SpecEntry<P: ?Sized + 'static> {
    /// The plugin's name in specs, e.g. `periodic`.
    pub name: &'static str,
    /// One line for the CLI listing: the parameters, then what the plugin does.
    pub summary: &'static str,
    /// Builds the plugin from its parsed spec (inner specs through the registry).
    pub build: SpecBuildFn<P>,
}

impl<P: ?Sized> Clone for SpecEntry<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: ?Sized> Copy for SpecEntry<P> {}

impl<P: ?Sized> std::fmt::Debug for SpecEntry<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpecEntry")
            .field("name", &self.name)
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

/// How deeply specs may nest (`any(warmup:then=any(..))`): deeper ones are errors, not a
/// stack overflow.
pub const MAX_NESTING: usize = 32;

thread_local! {
    static NESTING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counts the nesting of [`SpecRegistry::build`] calls on this thread (builders build their
/// inner specs through the registry).
struct NestingGuard;

impl NestingGuard {
    fn enter(spec: &str, kind: &str) -> Result<Self, CoreError> {
        let depth = NESTING.with(|n| {
            n.set(n.get() + 1);
            n.get()
        });
        let guard = NestingGuard;
        if depth > MAX_NESTING {
            return Err(CoreError::SpecSyntax {
                spec: spec.chars().take(80).collect(),
                reason: format!("{kind} nest more than {MAX_NESTING} levels deep"),
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

struct Entry<P: ?Sized + 'static> {
    summary: String,
    builder: SpecBuilder<P>,
}

impl<P: ?Sized> Clone for Entry<P> {
    fn clone(&self) -> Self {
        Self {
            summary: self.summary.clone(),
            builder: Arc::clone(&self.builder),
        }
    }
}

/// Maps plugin names to builders. [`with_builtins`](Self::with_builtins) knows every
/// built-in of the kind; [`register`](Self::register) adds user plugins without touching
/// them.
pub struct SpecRegistry<P: ?Sized + 'static> {
    entries: BTreeMap<String, Entry<P>>,
}

impl<P: ?Sized> Clone for SpecRegistry<P> {
    fn clone(&self) -> Self {
        Self {
            entries: self.entries.clone(),
        }
    }
}

impl<P: ?Sized> Default for SpecRegistry<P> {
    fn default() -> Self {
        Self {
            entries: BTreeMap::new(),
        }
    }
}

impl<P: ?Sized> std::fmt::Debug for SpecRegistry<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.entries.keys()).finish()
    }
}

impl<P: ?Sized + SpecPlugin> SpecRegistry<P> {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry with every built-in of the kind ([`SpecPlugin::BUILTINS`]).
    pub fn with_builtins() -> Self {
        let mut registry = Self::new();
        for entry in P::BUILTINS {
            registry
                .register_entry(*entry)
                .expect("built-in names are distinct and well formed");
        }
        registry
    }

    /// Registers a plugin from its table row (see [`SpecEntry`]).
    pub fn register_entry(&mut self, entry: SpecEntry<P>) -> Result<(), CoreError> {
        self.register_builder(entry.name, entry.summary, Arc::new(entry.build))
    }

    /// Registers a plugin under a new `name` (letters, digits, `-`, `_`); `summary` is shown
    /// by the CLI listing. A name already registered is an error.
    pub fn register<F>(&mut self, name: &str, summary: &str, builder: F) -> Result<(), CoreError>
    where
        F: Fn(&SpecNode, &SpecRegistry<P>) -> Result<Box<P>, CoreError> + Send + Sync + 'static,
    {
        self.register_builder(name, summary, Arc::new(builder))
    }

    fn register_builder(
        &mut self,
        name: &str,
        summary: &str,
        builder: SpecBuilder<P>,
    ) -> Result<(), CoreError> {
        let well_formed = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !well_formed {
            return Err(CoreError::SpecSyntax {
                spec: name.to_string(),
                reason: format!("names of {} use only letters, digits, `-` and `_`", P::KIND),
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

    /// Builds the plugin described by `spec`. Specs nest at most [`MAX_NESTING`] levels deep.
    pub fn build(&self, spec: &str) -> Result<Box<P>, CoreError> {
        let _depth = NestingGuard::enter(spec, P::KIND)?;
        let node = SpecNode::parse(spec).map_err(P::explain_parse_error)?;
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

    /// `(name, summary)` of every registered plugin, sorted by name: what the CLI lists.
    pub fn entries(&self) -> Vec<(String, String)> {
        self.entries
            .iter()
            .map(|(n, e)| (n.clone(), e.summary.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lr::{Constant, LrScheduleRegistry};
    use crate::schedule::{EndToEnd, ScheduleRegistry};

    #[test]
    fn malformed_names_are_refused_for_every_kind_naming_it() {
        let mut schedules = ScheduleRegistry::new();
        let err = schedules
            .register("my schedule", "bad", |_, _| Ok(Box::new(EndToEnd)))
            .unwrap_err();
        assert!(err.to_string().contains("names of schedules"), "{err}");
        let mut lrs = LrScheduleRegistry::new();
        let err = lrs
            .register("a:b", "bad", |_, _| Ok(Box::new(Constant)))
            .unwrap_err();
        assert!(
            err.to_string().contains("names of learning-rate schedules"),
            "{err}"
        );
        assert!(schedules.names().is_empty() && lrs.names().is_empty());
    }

    #[test]
    fn the_nesting_error_names_the_kind() {
        let mut spec = "end-to-end".to_string();
        // MAX_NESTING combinators around a leaf: MAX_NESTING + 1 levels, one too many.
        for _ in 0..MAX_NESTING {
            spec = format!("any({spec})");
        }
        let err = ScheduleRegistry::with_builtins().build(&spec).unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("schedules nest more than {MAX_NESTING}")),
            "{err}"
        );
        // One level less is the deepest that builds.
        let shallower = &spec["any(".len()..spec.len() - 1];
        assert!(ScheduleRegistry::with_builtins().build(shallower).is_ok());
    }

    #[test]
    fn clones_and_debug_list_the_registered_names() {
        let registry = LrScheduleRegistry::with_builtins();
        let copy = registry.clone();
        assert_eq!(copy.entries(), registry.entries());
        assert_eq!(
            format!("{registry:?}"),
            r#"["constant", "cosine", "linear-warmup", "multistep"]"#
        );
    }
}
