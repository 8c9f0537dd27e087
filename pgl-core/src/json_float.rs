//! Serde helpers that keep non-finite floats readable in JSON.
//!
//! `serde_json` writes `NaN` and `±inf` as `null` and then refuses to read `null` back as a
//! number, so a checkpoint manifest holding a schedule's `best = +inf`, or a metrics line with a
//! NaN loss, could not be read again. These helpers write finite values exactly as before
//! (plain JSON numbers, so existing files still read) and non-finite ones as the strings
//! `"NaN"`, `"inf"` and `"-inf"`, which they read back to the same value (a NaN stays a NaN).
//!
//! Use them with `#[serde(with = "...")]` on a field:
//!
//! | field type | attribute |
//! |---|---|
//! | `f64` | `#[serde(with = "pgl_core::json_float")]` |
//! | `f32` | `#[serde(with = "pgl_core::json_float::f32")]` |
//! | `Option<f64>` | `#[serde(default, with = "pgl_core::json_float::option")]` |
//! | `Option<f32>` | `#[serde(default, with = "pgl_core::json_float::option_f32")]` |
//! | `Vec<f64>` | `#[serde(with = "pgl_core::json_float::vec")]` |
//! | `Vec<f32>` | `#[serde(with = "pgl_core::json_float::vec_f32")]` |
//! | `Vec<Option<f64>>` | `#[serde(with = "pgl_core::json_float::vec_option")]` |
//! | `BTreeMap<String, f64>` | `#[serde(with = "pgl_core::json_float::map")]` |
//!
//! or wrap a value in [`JsonF64`] / [`JsonF32`].
//!
//! ```
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Loss {
//!     #[serde(with = "pgl_core::json_float")]
//!     value: f64,
//! }
//! let text = serde_json::to_string(&Loss { value: f64::NAN }).unwrap();
//! assert_eq!(text, r#"{"value":"NaN"}"#);
//! assert!(serde_json::from_str::<Loss>(&text).unwrap().value.is_nan());
//! assert_eq!(serde_json::to_string(&Loss { value: 0.5 }).unwrap(), r#"{"value":0.5}"#);
//! ```
//!
//! Reading needs a self-describing format (JSON is one): a value may be a number or a string.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};

/// What a reader accepts, for error messages.
const EXPECTED: &str = "a number, or one of the strings \"NaN\", \"inf\", \"-inf\"";

/// The string written for a non-finite value, `None` for a finite one.
fn non_finite_name(value: f64) -> Option<&'static str> {
    if value.is_nan() {
        Some("NaN")
    } else if value == f64::INFINITY {
        Some("inf")
    } else if value == f64::NEG_INFINITY {
        Some("-inf")
    } else {
        None
    }
}

/// An `f64` whose serde encoding is JSON-safe: finite values are numbers, non-finite ones the
/// strings `"NaN"`, `"inf"`, `"-inf"` (read back case-insensitively, `"infinity"` too).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct JsonF64(pub f64);

/// An `f32` with the encoding of [`JsonF64`]; finite values are written as `f32`s (shortest
/// form), exactly as serde writes a plain `f32`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct JsonF32(pub f32);

impl Serialize for JsonF64 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match non_finite_name(self.0) {
            Some(name) => serializer.serialize_str(name),
            None => serializer.serialize_f64(self.0),
        }
    }
}

impl Serialize for JsonF32 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match non_finite_name(f64::from(self.0)) {
            Some(name) => serializer.serialize_str(name),
            None => serializer.serialize_f32(self.0),
        }
    }
}

/// Reads a number or a non-finite name as an `f64`.
struct FloatVisitor;

impl Visitor<'_> for FloatVisitor {
    type Value = f64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        // Rust's parser reads `NaN`, `inf`, `-inf`, `infinity` (any case, optional sign); only
        // non-finite values may be strings, so every finite value has one spelling.
        match v.trim().parse::<f64>() {
            Ok(value) if !value.is_finite() => Ok(value),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &EXPECTED)),
        }
    }
}

impl<'de> Deserialize<'de> for JsonF64 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(FloatVisitor).map(JsonF64)
    }
}

impl<'de> Deserialize<'de> for JsonF32 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // The same narrowing serde applies when it reads a plain `f32` from JSON.
        deserializer
            .deserialize_any(FloatVisitor)
            .map(|v| JsonF32(v as f32))
    }
}

/// Writes an `f64` field with the encoding of [`JsonF64`].
pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    JsonF64(*value).serialize(serializer)
}

/// Reads an `f64` field written by [`serialize`] (or a plain JSON number).
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    JsonF64::deserialize(deserializer).map(|v| v.0)
}

/// `#[serde(with = "pgl_core::json_float::f32")]` for an `f32` field.
pub mod f32 {
    use super::*;

    /// Writes an `f32` with the encoding of [`JsonF32`].
    pub fn serialize<S: Serializer>(value: &f32, serializer: S) -> Result<S::Ok, S::Error> {
        JsonF32(*value).serialize(serializer)
    }

    /// Reads an `f32` written by [`serialize`] (or a plain JSON number).
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f32, D::Error> {
        JsonF32::deserialize(deserializer).map(|v| v.0)
    }
}

/// `#[serde(default, with = "pgl_core::json_float::option")]` for an `Option<f64>` field:
/// `None` is `null`, `Some(NaN)` is `"NaN"`.
pub mod option {
    use super::*;

    /// Writes an `Option<f64>`: `null` or a [`JsonF64`].
    pub fn serialize<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
        value.map(JsonF64).serialize(serializer)
    }

    /// Reads an `Option<f64>` written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<f64>, D::Error> {
        Ok(Option::<JsonF64>::deserialize(deserializer)?.map(|v| v.0))
    }
}

/// `#[serde(default, with = "pgl_core::json_float::option_f32")]` for an `Option<f32>` field.
pub mod option_f32 {
    use super::*;

    /// Writes an `Option<f32>`: `null` or a [`JsonF32`].
    pub fn serialize<S: Serializer>(value: &Option<f32>, serializer: S) -> Result<S::Ok, S::Error> {
        value.map(JsonF32).serialize(serializer)
    }

    /// Reads an `Option<f32>` written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<f32>, D::Error> {
        Ok(Option::<JsonF32>::deserialize(deserializer)?.map(|v| v.0))
    }
}

/// `#[serde(with = "pgl_core::json_float::vec")]` for a `Vec<f64>` field.
pub mod vec {
    use super::*;

    /// Writes a `Vec<f64>` as a list of [`JsonF64`].
    pub fn serialize<S: Serializer>(value: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(value.iter().map(|v| JsonF64(*v)))
    }

    /// Reads a `Vec<f64>` written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
        Ok(Vec::<JsonF64>::deserialize(deserializer)?
            .into_iter()
            .map(|v| v.0)
            .collect())
    }
}

/// `#[serde(with = "pgl_core::json_float::vec_f32")]` for a `Vec<f32>` field.
pub mod vec_f32 {
    use super::*;

    /// Writes a `Vec<f32>` as a list of [`JsonF32`].
    pub fn serialize<S: Serializer>(value: &[f32], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(value.iter().map(|v| JsonF32(*v)))
    }

    /// Reads a `Vec<f32>` written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f32>, D::Error> {
        Ok(Vec::<JsonF32>::deserialize(deserializer)?
            .into_iter()
            .map(|v| v.0)
            .collect())
    }
}

/// `#[serde(with = "pgl_core::json_float::vec_option")]` for a `Vec<Option<f64>>` field.
pub mod vec_option {
    use super::*;

    /// Writes a `Vec<Option<f64>>`: each entry `null` or a [`JsonF64`].
    pub fn serialize<S: Serializer>(
        value: &[Option<f64>],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(value.iter().map(|v| v.map(JsonF64)))
    }

    /// Reads a `Vec<Option<f64>>` written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<Option<f64>>, D::Error> {
        Ok(Vec::<Option<JsonF64>>::deserialize(deserializer)?
            .into_iter()
            .map(|v| v.map(|v| v.0))
            .collect())
    }
}

/// `#[serde(with = "pgl_core::json_float::map")]` for a `BTreeMap<String, f64>` field.
pub mod map {
    use super::*;

    /// Writes a map of named numbers, each a [`JsonF64`].
    pub fn serialize<S: Serializer>(
        value: &BTreeMap<String, f64>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_map(value.iter().map(|(k, v)| (k, JsonF64(*v))))
    }

    /// Reads a map written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<String, f64>, D::Error> {
        Ok(BTreeMap::<String, JsonF64>::deserialize(deserializer)?
            .into_iter()
            .map(|(k, v)| (k, v.0))
            .collect())
    }
}
