//! Reading a [`RunConfig`] from one flat object of keys: each group takes its own keys, and a
//! key no group has, or a value a group cannot read, is an error that names the key.
//!
//! (serde's `deny_unknown_fields` does not work with flattened groups, and an error inside a
//! flattened group loses the key's name; hence this small reader.)

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::RunConfig;

/// The configuration `object` holds.
pub(super) fn read(object: Map<String, Value>) -> Result<RunConfig, String> {
    let known = RunConfig::keys();
    if let Some(unknown) = object.keys().find(|key| !known.contains(key)) {
        let expected: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
        return Err(format!(
            "unknown field `{unknown}`, expected one of {}",
            expected.join(", ")
        ));
    }
    Ok(RunConfig {
        data: group(&object)?,
        model: group(&object)?,
        training: group(&object)?,
        optimizer: group(&object)?,
        objective: group(&object)?,
        guidance: group(&object)?,
        runtime: group(&object)?,
    })
}

impl RunConfig {
    /// Every key of a configuration (of its flat JSON object; `pgl` flags are these keys with
    /// `-` for `_`), from the serialised default, so no list is kept by hand.
    ///
    /// ```
    /// let keys = pgl_core::RunConfig::keys();
    /// assert!(keys.iter().any(|k| k == "aux_weight") && keys.iter().any(|k| k == "model"));
    /// ```
    pub fn keys() -> Vec<String> {
        match serde_json::to_value(RunConfig::default()) {
            Ok(Value::Object(map)) => map.into_iter().map(|(key, _)| key).collect(),
            _ => Vec::new(),
        }
    }
}

/// The group `T` read from the keys of `object` it has (it ignores the others); an error
/// names the first key whose value it cannot read.
fn group<T: DeserializeOwned>(object: &Map<String, Value>) -> Result<T, String> {
    T::deserialize(Value::Object(object.clone())).map_err(|error| {
        let culprit = object.iter().find(|(key, value)| {
            let alone = Map::from_iter([((*key).clone(), (*value).clone())]);
            T::deserialize(Value::Object(alone)).is_err()
        });
        match culprit {
            Some((key, _)) => format!("field `{key}`: {error}"),
            None => error.to_string(),
        }
    })
}
