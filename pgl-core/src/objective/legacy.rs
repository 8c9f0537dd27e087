//! Objective specs in run records: what a record holds ([`record_spec`]) and what an old
//! record means ([`legacy_spec`]).
//!
//! Two defaults changed after runs were recorded (issue 22): InfoPro's reconstruction loss
//! (`recon`, was the mean squared error, now InfoPro's binary cross-entropy) and the contrastive
//! term's head (`proj`, was pool → linear → ReLU → linear, now a copy of the aux head's design).
//! A run record (`config.json`, a checkpoint's manifest) holds the canonical spec, which names
//! both; a recorded spec that lacks one was written before the change and means the old value
//! ([`LEGACY_PARAMS`]). Reading a [`RunConfig`](crate::RunConfig) applies [`legacy_spec`]; a
//! user's config file wants today's defaults, so pgl-cli replaces its spec by the canonical
//! one before reading it.

use super::{ClassTerm, ObjectiveRegistry};
use crate::schedule::SpecNode;

/// The objective parameters whose default changed after run records without them were
/// written: `(objective, key, the value such a record means)`. InfoPro's `proj` only exists
/// with `class=supcon`.
pub const LEGACY_PARAMS: [(&str, &str, &str); 3] = [
    ("infopro", "recon", "mse"),
    ("infopro", "proj", "mlp"),
    ("supcon", "proj", "mlp"),
];

/// The spec a run record holds for `spec`: the canonical spec of a built-in objective, which
/// names every parameter of [`LEGACY_PARAMS`] it has; `spec` unchanged when the built-ins do not
/// build it (an objective registered elsewhere, or a bad spec, refused where it is used).
pub fn record_spec(spec: &str) -> String {
    ObjectiveRegistry::with_builtins()
        .build(spec)
        .map_or_else(|_| spec.to_string(), |objective| objective.spec())
}

/// What a recorded `spec` means: a built-in's spec without a parameter of [`LEGACY_PARAMS`]
/// was recorded before that parameter's default changed, and gets its old value appended.
/// Anything else (a spec that names them, another objective, text that does not parse) is
/// returned unchanged.
///
/// ```
/// use pgl_core::objective::legacy_spec;
///
/// assert_eq!(
///     legacy_spec("infopro:class=supcon,temperature=0.07"),
///     "infopro:class=supcon,temperature=0.07,recon=mse,proj=mlp"
/// );
/// assert_eq!(legacy_spec("infopro"), "infopro:recon=mse");
/// assert_eq!(legacy_spec("infopro:recon=bce"), "infopro:recon=bce");
/// assert_eq!(legacy_spec("ce"), "ce");
/// ```
pub fn legacy_spec(spec: &str) -> String {
    let Ok(node) = SpecNode::parse(spec) else {
        return spec.to_string();
    };
    if !node.args.is_empty() {
        return spec.to_string();
    }
    let has = |key: &str| node.params.iter().any(|(k, _)| k == key);
    let contrastive = match node.name.as_str() {
        "infopro" => node
            .params
            .iter()
            .any(|(k, v)| k == "class" && v == ClassTerm::Contrastive.as_str()),
        "supcon" => true,
        _ => return spec.to_string(),
    };
    let mut added: Vec<String> = Vec::new();
    for (objective, key, value) in LEGACY_PARAMS {
        let applies = objective == node.name && (key != "proj" || contrastive);
        if applies && !has(key) {
            added.push(format!("{key}={value}"));
        }
    }
    if added.is_empty() {
        return spec.to_string();
    }
    let separator = if node.params.is_empty() { ":" } else { "," };
    format!("{}{separator}{}", spec.trim_end(), added.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_records_read_with_the_old_defaults() {
        let registry = ObjectiveRegistry::with_builtins();
        for (old, meant) in [
            (
                "infopro:ixx_1=5,ixy_1=1,class=supcon,temperature=0.07",
                "infopro:ixx_1=5,ixy_1=1,class=supcon,temperature=0.07,proj=mlp,recon=mse",
            ),
            ("infopro:class=ce", "infopro:class=ce,recon=mse"),
            (
                "supcon:temperature=0.5,dim=16",
                "supcon:temperature=0.5,dim=16,proj=mlp",
            ),
            ("supcon", "supcon:temperature=0.07,dim=128,proj=mlp"),
        ] {
            let objective = registry.build(&legacy_spec(old)).unwrap();
            assert_eq!(objective.spec(), meant, "{old}");
        }
    }

    #[test]
    fn records_written_now_keep_their_meaning() {
        for spec in [
            "infopro",
            "infopro:class=supcon",
            "infopro:class=supcon,proj=mlp,recon=mse",
            "supcon:dim=8",
            "ce",
        ] {
            let recorded = record_spec(spec);
            assert_eq!(legacy_spec(&recorded), recorded, "{spec}");
            assert_eq!(record_spec(&recorded), recorded, "{spec}");
        }
        // Not a built-in, or not a spec: left alone both ways.
        for text in ["halving:first=2", "infopro:(", ""] {
            assert_eq!(record_spec(text), text);
            assert_eq!(legacy_spec(text), text);
        }
    }
}
