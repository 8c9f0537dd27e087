//! `supcon:temperature=T,dim=D,proj=auto|aux|mlp`: the supervised contrastive loss (Khosla et al.,
//! 2020) of each module's output through a projection head of `D` outputs, at temperature `T`
//! — InfoPro's contrastive variant (`--local_loss_mode contrast`), without its reconstruction
//! term (for both terms: `infopro:class=supcon`).
//!
//! Defaults follow InfoPro's code (`networks/auxiliary_nets.py`, `AuxClassifier` with
//! `loss_mode='contrast'`): temperature 0.07, 128 projection outputs, the projection a head of
//! the aux head's design (`proj=aux`: with `1c2f` heads, conv3×3 → BN → ReLU → pool → linear →
//! ReLU → linear D, InfoPro's contrastive head); `proj=mlp` is pool → linear D → ReLU → linear
//! D. The projection has weights of its own: the aux heads keep their class outputs, do not
//! learn in local steps (their weight is 0), and their test accuracy stays near chance unless
//! global steps with `--aux-weight` train them.

use super::registry::ObjectiveEntry;
use super::{
    ContrastiveTerm, DEFAULT_PROJECTION_DIM, DEFAULT_TEMPERATURE, LocalObjective,
    MAX_PROJECTION_DIM, ModuleTerms, ObjectiveRegistry, ProjectionHead, TermDescription,
    positive_f64, projection_param,
};
use crate::error::CoreError;
use crate::schedule::{SpecArgs, SpecNode};

/// `supcon` in the objective table.
pub const ENTRY: ObjectiveEntry = ObjectiveEntry {
    name: "supcon",
    summary: "[temperature=T][,dim=D][,proj=auto|aux|mlp]: supervised contrastive loss on a projection head of D outputs (defaults 0.07, 128; InfoPro's contrastive variant); proj=auto (default): aux when the model has an aux head design (every zoo model), else mlp; aux: a copy of the aux head's design; mlp: pool-linear-ReLU-linear",
    build: from_spec,
};

/// The supervised contrastive loss on a projection head, for every module but the last.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SupCon {
    temperature: f64,
    dim: usize,
    projection: ProjectionHead,
}

impl SupCon {
    /// At `temperature` (finite, `> 0`) on a projection head of `dim` (1 to
    /// [`MAX_PROJECTION_DIM`]) outputs.
    pub fn new(temperature: f64, dim: usize) -> Result<Self, CoreError> {
        if !(temperature.is_finite() && temperature > 0.0) {
            return Err(CoreError::BadValue {
                schedule: "supcon".to_string(),
                key: "temperature".to_string(),
                value: temperature.to_string(),
                expected: "a finite number > 0".to_string(),
            });
        }
        if !(1..=MAX_PROJECTION_DIM).contains(&dim) {
            return Err(bad_dim(&dim.to_string()));
        }
        Ok(Self {
            temperature,
            dim,
            projection: ProjectionHead::default(),
        })
    }

    /// The same objective projecting through `projection`.
    pub fn with_projection_head(self, projection: ProjectionHead) -> Self {
        Self { projection, ..self }
    }

    /// The projection head's output size.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The contrastive term every module but the last learns from.
    pub fn term(&self) -> ContrastiveTerm {
        ContrastiveTerm {
            temperature: self.temperature,
            dim: self.dim,
            projection: self.projection,
        }
    }
}

impl LocalObjective for SupCon {
    fn spec(&self) -> String {
        format!(
            "supcon:temperature={},dim={},proj={}",
            self.temperature,
            self.dim,
            self.projection.as_str()
        )
    }
    fn terms(&self, module: usize, modules: usize) -> ModuleTerms {
        if module + 1 >= modules {
            return ModuleTerms::ce();
        }
        ModuleTerms::new().with(self.term().spec(), 1.0)
    }
    fn clone_box(&self) -> Box<dyn LocalObjective> {
        Box::new(*self)
    }
}

/// Builds `supcon[:temperature=T][,dim=D][,proj=auto|aux|mlp]`.
fn from_spec(
    node: &SpecNode,
    _registry: &ObjectiveRegistry,
) -> Result<Box<dyn LocalObjective>, CoreError> {
    let args = SpecArgs::new(node, &["temperature", "dim", "proj"])?;
    let temperature = positive_f64(&args, "supcon", "temperature", DEFAULT_TEMPERATURE)?;
    let dim = args.u64("dim", Some(DEFAULT_PROJECTION_DIM as u64), 1)?;
    let dim = usize::try_from(dim).map_err(|_| bad_dim(&dim.to_string()))?;
    let projection = projection_param(&args)?;
    Ok(Box::new(
        SupCon::new(temperature, dim)?.with_projection_head(projection),
    ))
}

/// The error of a projection size out of range.
fn bad_dim(value: &str) -> CoreError {
    CoreError::BadValue {
        schedule: "supcon".to_string(),
        key: "dim".to_string(),
        value: value.to_string(),
        expected: format!("an integer in [1, {MAX_PROJECTION_DIM}] (projection head outputs)"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::conformance::check_objective;
    use super::*;

    #[test]
    fn supcon_passes_the_conformance_kit() {
        let registry = ObjectiveRegistry::with_builtins();
        for spec in [
            "supcon",
            "supcon:temperature=0.5",
            "supcon:dim=16,temperature=1",
            "supcon:proj=mlp",
        ] {
            check_objective(&registry, spec, 16);
        }
        assert_eq!(
            registry.build("supcon").unwrap().spec(),
            "supcon:temperature=0.07,dim=128,proj=auto"
        );
    }

    #[test]
    fn a_bad_temperature_or_dim_names_the_key() {
        let registry = ObjectiveRegistry::with_builtins();
        for (spec, key) in [
            ("supcon:temperature=0", "temperature"),
            ("supcon:temperature=-1", "temperature"),
            ("supcon:temperature=inf", "temperature"),
            ("supcon:temperature=warm", "temperature"),
            ("supcon:dim=0", "dim"),
            ("supcon:proj=conv", "proj"),
            ("supcon:dim=4097", "dim"),
            ("supcon:dim=100000000000", "dim"),
            ("supcon:dim=99999999999999999999999", "dim"),
        ] {
            let err = registry.build(spec).unwrap_err();
            assert!(
                matches!(err, CoreError::BadValue { key: ref k, .. } if k == key),
                "{spec}: {err}"
            );
            assert!(err.to_string().contains(key), "{spec}: {err}");
        }
    }
}
