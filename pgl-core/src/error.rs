//! The error type of `pgl-core`.

use thiserror::Error;

/// Everything that can go wrong in `pgl-core`: bad schedule specs, bad split plans, bad configs
/// and schedule states that do not match the schedule they are restored into.
///
/// Every variant quotes the offending input so a user can find and fix it.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum CoreError {
    /// A schedule spec names a schedule that is not registered.
    #[error("unknown schedule `{name}` in spec `{spec}`; known schedules: {known}")]
    UnknownSchedule {
        /// The unknown name.
        name: String,
        /// The whole spec it appeared in.
        spec: String,
        /// Comma-separated list of the registered names.
        known: String,
    },
    /// A schedule spec is syntactically wrong (empty, unbalanced brackets, `key` without `=`...).
    #[error("invalid schedule spec `{spec}`: {reason}")]
    SpecSyntax {
        /// The spec (or the part of it) that could not be parsed.
        spec: String,
        /// What was expected.
        reason: String,
    },
    /// A spec (schedule, learning-rate schedule, local objective, augmentation) passes a key
    /// that its kind does not accept. Messages name the kind as written (`supcon`), not
    /// "schedule", since every spec family shares these variants.
    #[error("`{schedule}` has no parameter `{key}`; expected one of: {allowed}")]
    UnknownKey {
        /// Name of the schedule.
        schedule: String,
        /// The unknown key.
        key: String,
        /// Comma-separated list of accepted keys.
        allowed: String,
    },
    /// A parameter value could not be parsed or is out of range.
    #[error("`{schedule}`: bad value `{key}={value}`: expected {expected}")]
    BadValue {
        /// Name of the schedule.
        schedule: String,
        /// The parameter.
        key: String,
        /// The value as written.
        value: String,
        /// What a valid value looks like.
        expected: String,
    },
    /// A required parameter is missing.
    #[error("`{schedule}` needs parameter `{key}` ({expected})")]
    MissingKey {
        /// Name of the schedule.
        schedule: String,
        /// The missing parameter.
        key: String,
        /// What the parameter means.
        expected: String,
    },
    /// A schedule with this name is already registered.
    #[error("a schedule named `{name}` is already registered")]
    DuplicateSchedule {
        /// The name registered twice.
        name: String,
    },
    /// A saved schedule state does not fit the schedule it is restored into.
    #[error("schedule state does not match schedule `{schedule}`: {reason}")]
    StateMismatch {
        /// Spec of the schedule being restored.
        schedule: String,
        /// What was wrong.
        reason: String,
    },
    /// A split plan is invalid.
    #[error("invalid split of {layers} layers into modules: {reason}")]
    InvalidSplit {
        /// Number of layers being split.
        layers: usize,
        /// What was wrong.
        reason: String,
    },
    /// A run configuration field is invalid.
    #[error("invalid config field `{field}` = {value}: expected {expected}")]
    InvalidConfig {
        /// The field name as written in configs and on the command line.
        field: String,
        /// The value as given.
        value: String,
        /// What a valid value looks like.
        expected: String,
    },
}
