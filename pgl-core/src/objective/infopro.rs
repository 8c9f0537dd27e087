//! `infopro:ixx_1=A,ixy_1=B,ixx_2=C,ixy_2=D,class=ce|supcon,temperature=T,proj=auto|aux|mlp,recon=bce|mse`:
//! InfoPro's surrogate loss (Wang et al., "Revisiting Locally Supervised Learning: an
//! Alternative to End-to-end Training", ICLR 2021).
//!
//! Module k < K learns from `ixx · L_rec + ixy · L_class`, where `L_rec` compares a small
//! decoder's reconstruction of the input image from the module's output with the image (an
//! estimate of `I(h, x)`) and `L_class` is the aux head's cross-entropy (`class=ce`, default)
//! or the supervised contrastive loss at temperature `T` (`class=supcon`, the configuration of
//! InfoPro's published numbers; `I(h, y)`) of a projection through a head of the aux head's
//! design with 128 outputs (`proj=aux`, as InfoPro's `AuxClassifier` in `contrast` mode; the
//! default `proj=auto` is this for every zoo model) or through pool → linear → ReLU → linear
//! (`proj=mlp`; `auto` for a model without an aux head design). `L_rec` is, as in InfoPro's
//! `Decoder` (`networks/auxiliary_nets.py`), the binary cross-entropy of the decoder's output
//! through a sigmoid against the image de-normalised to `[0, 1]` (`recon=bce`, default), or the
//! mean squared error against the normalised image (`recon=mse`). The weights move linearly
//! with depth, as in InfoPro's `InfoProResNet.forward`
//! (`Experiments on CIFAR-SVHN-STL10/networks/resnet.py` of `blackfeather-wang/InfoPro-Pytorch`):
//! for aux module `i` (0-based, `i <= K − 2`),
//!
//! ```text
//! r = i / (K − 2)   (0 when K <= 2)
//! ixx = A·(1 − r) + C·r,   ixy = B·(1 − r) + D·r
//! ```
//!
//! so the first module gets `(A, B)` and module K − 1 gets `(C, D)`; the last module learns
//! from the classifier's cross-entropy alone. Weights not given take InfoPro's ResNet-32
//! CIFAR-10 values for K (`comand.sh` of the same repository): see [`preset`].

use super::registry::ObjectiveEntry;
use super::{
    ContrastiveTerm, CrossEntropyTerm, DEFAULT_PROJECTION_DIM, DEFAULT_TEMPERATURE, LocalObjective,
    ModuleTerms, ObjectiveRegistry, ProjectionHead, Reconstruction, ReconstructionTerm,
    TermDescription, positive_f64, projection_param, reconstruction_param,
};
use crate::error::CoreError;
use crate::schedule::{SpecArgs, SpecNode};

/// `infopro` in the objective table.
pub const ENTRY: ObjectiveEntry = ObjectiveEntry {
    name: "infopro",
    summary: "[ixx_1=A][,ixy_1=B][,ixx_2=C][,ixy_2=D][,class=ce|supcon][,temperature=T][,proj=auto|aux|mlp][,recon=bce|mse]: InfoPro, ixx·reconstruction loss + ixy·class loss, weights linear in depth from (A,B) to (C,D) (defaults: InfoPro's ResNet-32 CIFAR-10 values for K); recon=bce (default): BCE of sigmoid(decoder(h)) against the image in [0,1], as InfoPro; mse: MSE against the normalised image; proj=auto (default): aux when the model has an aux head design (every zoo model), else mlp; aux: supcon through a copy of the aux head's design with 128 outputs, as InfoPro; mlp: pool-linear-ReLU-linear",
    build: from_spec,
};

/// The weight keys, in the order of InfoPro's flags and of the canonical spec.
const WEIGHT_KEYS: [&str; 4] = ["ixx_1", "ixy_1", "ixx_2", "ixy_2"];

/// InfoPro's `(ixx_1, ixy_1, ixx_2, ixy_2)` for a network of `modules` modules: the values of
/// its ResNet-32 CIFAR-10 runs (`comand.sh`): K = 2: `(5, 1, 0, 0)`, K = 4: `(6, 0, 1, 2)`,
/// K = 8: `(5, 0, 0, 2)`, K = 16: `(5, 0.05, 0.2, 0.5)`. Other K take the values of the
/// largest of these K below them (K > 16 those of K = 16), except K = 3, which takes K = 4's:
/// K = 2 never reaches its second endpoint, which is zero. K = 1 has no aux module.
pub fn preset(modules: usize) -> [f64; 4] {
    match modules {
        0..=2 => [5.0, 1.0, 0.0, 0.0],
        3 => [6.0, 0.0, 1.0, 2.0],
        4..=7 => [6.0, 0.0, 1.0, 2.0],
        8..=15 => [5.0, 0.0, 0.0, 2.0],
        _ => [5.0, 0.05, 0.2, 0.5],
    }
}

/// What InfoPro's `ixy` term is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClassTerm {
    /// The aux head's cross-entropy.
    CrossEntropy,
    /// The supervised contrastive loss on a projection head.
    Contrastive,
}

impl ClassTerm {
    /// The spelling in specs: `ce` or `supcon`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClassTerm::CrossEntropy => "ce",
            ClassTerm::Contrastive => "supcon",
        }
    }
}

/// InfoPro's surrogate loss; see the [module documentation](self).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InfoPro {
    /// `ixx_1, ixy_1, ixx_2, ixy_2` as given (`None`: [`preset`]).
    given: [Option<f64>; 4],
    class: ClassTerm,
    temperature: f64,
    reconstruction: Reconstruction,
    projection: ProjectionHead,
}

impl InfoPro {
    /// With the weights `given` (`ixx_1, ixy_1, ixx_2, ixy_2`; `None` takes [`preset`]'s, each
    /// finite and `>= 0`), the class term and the contrastive temperature (finite, `> 0`).
    pub fn new(
        given: [Option<f64>; 4],
        class: ClassTerm,
        temperature: f64,
    ) -> Result<Self, CoreError> {
        for (key, value) in WEIGHT_KEYS.iter().zip(given) {
            if let Some(v) = value
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(CoreError::BadValue {
                    schedule: "infopro".to_string(),
                    key: key.to_string(),
                    value: v.to_string(),
                    expected: "a finite number >= 0".to_string(),
                });
            }
        }
        if !(temperature.is_finite() && temperature > 0.0) {
            return Err(CoreError::BadValue {
                schedule: "infopro".to_string(),
                key: "temperature".to_string(),
                value: temperature.to_string(),
                expected: "a finite number > 0".to_string(),
            });
        }
        Ok(Self {
            given,
            class,
            temperature,
            reconstruction: Reconstruction::default(),
            projection: ProjectionHead::default(),
        })
    }

    /// The same objective with the reconstruction loss `reconstruction`.
    pub fn with_reconstruction(self, reconstruction: Reconstruction) -> Self {
        Self {
            reconstruction,
            ..self
        }
    }

    /// The same objective with the contrastive term's head `projection` (only used with
    /// `class=supcon`).
    pub fn with_projection_head(self, projection: ProjectionHead) -> Self {
        Self { projection, ..self }
    }

    /// `(ixx_1, ixy_1, ixx_2, ixy_2)` for a network of `modules` modules.
    pub fn endpoints(&self, modules: usize) -> [f64; 4] {
        let preset = preset(modules);
        std::array::from_fn(|i| self.given[i].unwrap_or(preset[i]))
    }

    /// The class term.
    pub fn class(&self) -> ClassTerm {
        self.class
    }
}

impl LocalObjective for InfoPro {
    fn spec(&self) -> String {
        let mut params: Vec<String> = WEIGHT_KEYS
            .iter()
            .zip(self.given)
            .filter_map(|(key, value)| value.map(|v| format!("{key}={v}")))
            .collect();
        params.push(format!("class={}", self.class.as_str()));
        if self.class == ClassTerm::Contrastive {
            params.push(format!("temperature={}", self.temperature));
            params.push(format!("proj={}", self.projection.as_str()));
        }
        params.push(format!("recon={}", self.reconstruction.as_str()));
        format!("infopro:{}", params.join(","))
    }
    fn terms(&self, module: usize, modules: usize) -> ModuleTerms {
        if module + 1 >= modules {
            return ModuleTerms::ce();
        }
        let [ixx_1, ixy_1, ixx_2, ixy_2] = self.endpoints(modules);
        let ratio = if modules > 2 {
            module as f64 / (modules - 2) as f64
        } else {
            0.0
        };
        let ixx = ixx_1 * (1.0 - ratio) + ixx_2 * ratio;
        let ixy = ixy_1 * (1.0 - ratio) + ixy_2 * ratio;
        let reconstruction = ReconstructionTerm {
            kind: self.reconstruction,
        };
        let class = match self.class {
            ClassTerm::CrossEntropy => CrossEntropyTerm.spec(),
            ClassTerm::Contrastive => ContrastiveTerm {
                temperature: self.temperature,
                dim: DEFAULT_PROJECTION_DIM,
                projection: self.projection,
            }
            .spec(),
        };
        ModuleTerms::new()
            .with(reconstruction.spec(), ixx)
            .with(class, ixy)
    }
    fn clone_box(&self) -> Box<dyn LocalObjective> {
        Box::new(*self)
    }
}

/// Builds `infopro[:ixx_1=A][,ixy_1=B][,ixx_2=C][,ixy_2=D][,class=ce|supcon][,temperature=T]
/// [,proj=auto|aux|mlp][,recon=bce|mse]`.
fn from_spec(
    node: &SpecNode,
    _registry: &ObjectiveRegistry,
) -> Result<Box<dyn LocalObjective>, CoreError> {
    let mut allowed = WEIGHT_KEYS.to_vec();
    allowed.extend(["class", "temperature", "proj", "recon"]);
    let args = SpecArgs::new(node, &allowed)?;
    let mut given = [None; 4];
    for (slot, key) in given.iter_mut().zip(WEIGHT_KEYS) {
        if args.raw(key).is_some() {
            *slot = Some(args.non_negative_f64(key, 0.0)?);
        }
    }
    let class = match args.choice("class", &["ce", "supcon"], "ce")? {
        "supcon" => ClassTerm::Contrastive,
        _ => ClassTerm::CrossEntropy,
    };
    if class == ClassTerm::CrossEntropy && args.raw("temperature").is_some() {
        return Err(CoreError::BadValue {
            schedule: "infopro".to_string(),
            key: "temperature".to_string(),
            value: args.raw("temperature").unwrap_or_default().to_string(),
            expected:
                "no temperature with class=ce (it is the contrastive term's: add class=supcon)"
                    .to_string(),
        });
    }
    if class == ClassTerm::CrossEntropy && args.raw("proj").is_some() {
        return Err(CoreError::BadValue {
            schedule: "infopro".to_string(),
            key: "proj".to_string(),
            value: args.raw("proj").unwrap_or_default().to_string(),
            expected: "no proj with class=ce (it is the contrastive term's head: add class=supcon)"
                .to_string(),
        });
    }
    let temperature = positive_f64(&args, "infopro", "temperature", DEFAULT_TEMPERATURE)?;
    let objective = InfoPro::new(given, class, temperature)?
        .with_reconstruction(reconstruction_param(&args)?)
        .with_projection_head(projection_param(&args)?);
    Ok(Box::new(objective))
}

#[cfg(test)]
mod tests {
    use super::super::conformance::check_objective;
    use super::*;

    #[test]
    fn infopro_passes_the_conformance_kit() {
        let registry = ObjectiveRegistry::with_builtins();
        for spec in [
            "infopro",
            "infopro:class=supcon",
            "infopro:ixx_1=1,ixy_1=1,ixx_2=0,ixy_2=1",
            "infopro:ixy_2=3,class=supcon,temperature=0.5",
            "infopro:recon=mse",
            "infopro:class=supcon,proj=mlp,recon=mse",
        ] {
            check_objective(&registry, spec, 20);
        }
    }

    #[test]
    fn the_weights_are_infopros_for_resnet32_on_cifar10() {
        let o = InfoPro::new([None; 4], ClassTerm::CrossEntropy, 0.07).unwrap();
        let w = |k, n| {
            let terms = o.terms(k, n);
            (terms.weight_of("reconstruction"), terms.weight_of("ce"))
        };
        // K = 2: one aux module, ratio 0.
        assert_eq!(w(0, 2), (5.0, 1.0));
        // K = 4: modules 0, 1, 2 at ratios 0, 1/2, 1 from (6, 0) to (1, 2).
        assert_eq!(w(0, 4), (6.0, 0.0));
        assert_eq!(w(1, 4), (3.5, 1.0));
        assert_eq!(w(2, 4), (1.0, 2.0));
        // K = 16: the last aux module (14) gets (0.2, 0.5).
        assert!((w(14, 16).0 - 0.2).abs() < 1e-15);
        assert!((w(14, 16).1 - 0.5).abs() < 1e-15);
        for n in 1..20 {
            assert_eq!(o.terms(n - 1, n), ModuleTerms::ce());
        }
    }

    #[test]
    fn canonical_specs_list_what_was_given() {
        let registry = ObjectiveRegistry::with_builtins();
        let canonical = |s: &str| registry.build(s).unwrap().spec();
        assert_eq!(canonical("infopro"), "infopro:class=ce,recon=bce");
        assert_eq!(
            canonical("infopro:ixy_2=2,ixx_1=5,recon=mse"),
            "infopro:ixx_1=5,ixy_2=2,class=ce,recon=mse"
        );
        assert_eq!(
            canonical("infopro:class=supcon"),
            "infopro:class=supcon,temperature=0.07,proj=auto,recon=bce"
        );
        assert_eq!(
            canonical("infopro:proj=mlp,class=supcon"),
            "infopro:class=supcon,temperature=0.07,proj=mlp,recon=bce"
        );
    }

    #[test]
    fn bad_values_name_the_key() {
        let registry = ObjectiveRegistry::with_builtins();
        for (spec, key) in [
            ("infopro:ixx_1=-1", "ixx_1"),
            ("infopro:ixy_2=nan", "ixy_2"),
            ("infopro:class=mse", "class"),
            ("infopro:temperature=0.1", "temperature"),
            ("infopro:class=supcon,temperature=0", "temperature"),
            ("infopro:recon=l1", "recon"),
            ("infopro:class=supcon,proj=linear", "proj"),
            ("infopro:proj=mlp", "proj"),
        ] {
            let err = registry.build(spec).unwrap_err();
            assert!(
                matches!(err, CoreError::BadValue { key: ref k, .. } if k == key),
                "{spec}: {err}"
            );
        }
    }

    #[test]
    fn reconstruction_and_projection_default_to_infopros() {
        let registry = ObjectiveRegistry::with_builtins();
        let names = |spec: &str| -> Vec<String> {
            let o = registry.build(spec).unwrap();
            let terms = o.terms(1, 4);
            terms.terms().iter().map(|t| t.term.to_string()).collect()
        };
        assert_eq!(
            names("infopro:class=supcon"),
            [
                "reconstruction:recon=bce",
                "supcon:temperature=0.07,dim=128,proj=auto"
            ]
        );
        assert_eq!(
            names("infopro:class=supcon,recon=mse,proj=mlp"),
            [
                "reconstruction:recon=mse",
                "supcon:temperature=0.07,dim=128,proj=mlp"
            ]
        );
    }

    #[test]
    fn zero_weights_at_a_module_are_refused_for_that_k() {
        let o = InfoPro::new(
            [Some(0.0), Some(0.0), Some(1.0), Some(1.0)],
            ClassTerm::CrossEntropy,
            0.07,
        )
        .unwrap();
        let err = super::super::check_modules(&o, 4).unwrap_err();
        assert!(err.to_string().contains("module 1 of K=4"), "{err}");
        // K = 1 has no aux module: nothing to refuse.
        assert!(super::super::check_modules(&o, 1).is_ok());
    }
}
