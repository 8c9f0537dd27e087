//! [`LrScheduleRegistry`]: builds learning-rate schedules from spec strings; user schedules
//! register here.
//!
//! The registry is the generic [`SpecRegistry`] for `dyn LrSchedule`; this module names the
//! kind ([`SpecPlugin`]): its built-ins are the one table [`BUILTINS`] in the
//! parent module, one line each (adding a built-in is a new file exporting an
//! [`LrScheduleEntry`] plus one line there).

use super::{BUILTINS, LrSchedule};
use crate::error::CoreError;
use crate::schedule::{SpecBuildFn, SpecBuilder, SpecEntry, SpecPlugin, SpecRegistry};

/// Builds one LR schedule from its parsed spec; the registry is passed in to build inner specs
/// (`linear-warmup:then=SPEC`).
pub type LrScheduleBuilder = SpecBuilder<dyn LrSchedule>;

/// A builder as a plain function: what an [`LrScheduleEntry`] holds.
pub type LrBuildFn = SpecBuildFn<dyn LrSchedule>;

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
pub type LrScheduleEntry = SpecEntry<dyn LrSchedule>;

impl SpecPlugin for dyn LrSchedule {
    const KIND: &'static str = "learning-rate schedules";
    const BUILTINS: &'static [LrScheduleEntry] = BUILTINS;

    fn explain_parse_error(err: CoreError) -> CoreError {
        with_list_hint(err)
    }
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
pub type LrScheduleRegistry = SpecRegistry<dyn LrSchedule>;

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
    use crate::schedule::MAX_NESTING;

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
