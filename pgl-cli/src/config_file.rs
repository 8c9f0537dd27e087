//! Config files (`--config FILE`, a run's `config.json`) and where each option of a
//! configuration came from ([`Origins`]), so that an error names the flag or the file and key.
//!
//! Self-contained (pgl-core, serde_json, toml and anyhow only): the `config_toml` fuzz target
//! compiles this very file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::plugins::plugins;
use anyhow::{Context, Result};
use pgl_core::{LEGACY_DEFAULTS, RunConfig};

/// Reads a run configuration file, with the [`Origins`] that name its keys: JSON when its name
/// ends in `.json`, TOML otherwise. Missing fields take their defaults; unknown fields are
/// errors naming the field.
///
/// A JSON file is a run's `config.json`, a complete record: a field it lacks was added to pgl
/// after the run, and takes the value that reproduces the run ([`LEGACY_DEFAULTS`]; an
/// `aux_head` of `null` the model's head of the time, [`RunConfig::fill_recorded_aux_head`]). A TOML
/// file is the user's: every missing field takes today's default.
pub fn read_config(path: &Path) -> Result<(RunConfig, Origins)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    let json = path.extension().is_some_and(|e| e == "json");
    parse_config(&text, json, path)
}

/// Parses the text of config file `path` (JSON or TOML, as [`read_config`] says); errors
/// name `path`.
pub fn parse_config(text: &str, json: bool, path: &Path) -> Result<(RunConfig, Origins)> {
    let bad = |e: &dyn std::fmt::Display| {
        anyhow::anyhow!(
            "config file {}: {}",
            path.display(),
            e.to_string().trim_end()
        )
    };
    if json {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| bad(&e))?;
        let keys = value
            .as_object()
            .map(|map| map.keys().cloned().collect())
            .unwrap_or_default();
        let mut config: RunConfig = serde_json::from_value(value).map_err(|e| bad(&e))?;
        config.fill_recorded_aux_head();
        return Ok((config, Origins::file(path, keys)));
    }
    let mut table: toml::Table = toml::from_str(text).map_err(|e| bad(&e))?;
    let origins = Origins::file(path, table.keys().cloned().collect());
    let defaults = toml::Table::try_from(RunConfig::default()).expect("defaults serialise");
    for (key, _) in LEGACY_DEFAULTS {
        if !table.contains_key(key) {
            table.insert(key.to_string(), defaults[key].clone());
        }
    }
    // The user's objective spec means today's defaults: name them before the spec is read as
    // a record (`pgl_core::objective::legacy_spec`). A spec that does not build is refused
    // here, as written, naming the file and the key.
    if let Some(toml::Value::String(spec)) = table.get("local_objective") {
        let built = plugins().objectives.build(spec);
        let objective = origins.check("local_objective", spec, built)?;
        table.insert(
            "local_objective".to_string(),
            toml::Value::String(objective.spec()),
        );
    }
    let config = table.try_into().map_err(|e| bad(&e))?;
    Ok((config, origins))
}

/// Where the options of a configuration came from: flags given on the command line, keys of
/// a config file, or defaults. Errors about a value name its origin
/// ([`describe`](Self::describe)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origins {
    /// The config file, if any.
    file: Option<PathBuf>,
    /// The keys the config file sets.
    file_keys: BTreeSet<String>,
    /// The fields set by flags (config names: `lr_schedule`).
    flags: BTreeSet<String>,
}

impl Origins {
    /// The keys `keys` of the config file `path`.
    pub fn file(path: &Path, keys: BTreeSet<String>) -> Self {
        Self {
            file: Some(path.to_path_buf()),
            file_keys: keys,
            flags: BTreeSet::new(),
        }
    }

    /// Records that the flag of `field` (a config name) was given: it overrides the file.
    pub fn flag(&mut self, field: &str) {
        self.flags.insert(field.to_string());
    }

    /// The flag of config field `field`: `lr_schedule` → `--lr-schedule`.
    pub fn flag_name(field: &str) -> String {
        format!("--{}", field.replace('_', "-"))
    }

    /// Who gave `field` its value `value`, for an error message: `--lr-schedule `cosine:min=5``
    /// for a flag (or a default), `` `lr_schedule` = `cosine:min=5` in config file run.toml `` for
    /// a key of the file.
    pub fn describe(&self, field: &str, value: &str) -> String {
        match &self.file {
            Some(file) if !self.flags.contains(field) && self.file_keys.contains(field) => {
                format!("`{field}` = `{value}` in config file {}", file.display())
            }
            _ => format!("{} `{value}`", Self::flag_name(field)),
        }
    }

    /// `result` with its error prefixed by "invalid " and [`describe`](Self::describe) (and,
    /// for a spec, the command that lists its syntax).
    pub fn check<T, E>(&self, field: &str, value: &str, result: Result<T, E>) -> Result<T>
    where
        E: Into<anyhow::Error>,
    {
        let listing = match field {
            "schedule" => " (see `pgl schedules`)",
            "lr_schedule" => " (see `pgl lr-schedules`)",
            "local_objective" => " (see `pgl objectives`)",
            _ => "",
        };
        result
            .map_err(Into::into)
            .with_context(|| format!("invalid {}{listing}", self.describe(field, value)))
    }
}
