//! Local objectives: the plugin that says what each module learns from in a local step.
//!
//! In a local step module k minimises its own loss on the detached output of module k − 1.
//! A [`LocalObjective`] describes that loss without touching tensors: its spec, which extra
//! heads it needs beside the aux head ([`ExtraHeads`]: a decoder that reconstructs the input
//! image, a projection head for a contrastive loss) and, for every module, the weights of the
//! loss terms ([`ObjectiveWeights`]: reconstruction, classification through the aux head,
//! supervised contrastive). pgl-burn computes the terms (`pgl_burn::objective`); objectives
//! are built from spec strings by an [`ObjectiveRegistry`] and tested with one conformance kit
//! ([`conformance::check_objective`]).
//!
//! Built-ins (one file each, one line each in [`BUILTINS`]):
//!
//! | spec | loss of module k < K (the last module always learns from the classifier's CE) |
//! |---|---|
//! | `ce` | cross-entropy of the aux head: greedy supervised learning (DGL); the default |
//! | `infopro:ixx_1=A,ixy_1=B,ixx_2=C,ixy_2=D,class=ce\|supcon,temperature=T,proj=aux\|mlp,recon=bce\|mse` | InfoPro: `ixx·L_rec(decoder(h_k), x) + ixy·L_class`, the weights moving linearly from `(A, B)` at the first module to `(C, D)` at module K − 1 (defaults: InfoPro's ResNet-32 CIFAR-10 values for K); `L_rec` InfoPro's binary cross-entropy of the decoder's sigmoid against the image in `[0, 1]` (`recon=bce`, default) or the mean squared error against the normalised image (`recon=mse`) |
//! | `supcon:temperature=T,dim=D,proj=aux\|mlp` | supervised contrastive loss on a projection head (InfoPro's contrastive variant, without reconstruction) |
//!
//! **The contrastive term's head** ([`ProjectionHead`]): `proj=aux` (default) projects
//! through a head of the same design as the module's aux head (`--aux-head`, e.g. `1c2f`) with
//! D outputs and weights of its own, as InfoPro's contrastive `AuxClassifier` does; `proj=mlp`
//! through pool → linear D → ReLU → linear D, pgl's projection before issue 22. The aux head
//! itself keeps its class outputs (global steps and per-head accuracy use them).
//!
//! **Old runs keep their meaning**: the defaults of `recon` (was MSE) and `proj` (was the MLP)
//! changed after runs were recorded. Run records always hold the canonical spec, which names
//! both ([`record_spec`]); a recorded spec without them was written before, and reads with the
//! old values ([`legacy_spec`], applied when a [`RunConfig`](crate::RunConfig) is read).
//!
//! **The last module** is the network's own classifier after module K: every objective gives it
//! the classifier's cross-entropy alone ([`ObjectiveWeights::CE`]), as InfoPro does; the
//! conformance kit checks it. **Global steps** do not use objectives: they backpropagate the
//! classifier's loss (plus `aux_weight` times the aux heads' cross-entropy).
//!
//! Adding an objective is one file implementing [`LocalObjective`] and exporting an
//! [`ObjectiveEntry`], plus one line: in [`BUILTINS`] for a built-in, or a
//! [`ObjectiveRegistry::register_entry`] call from your own crate. Its terms must be among the
//! three pgl-burn computes.
//!
//! ```
//! use pgl_core::objective::{ObjectiveRegistry, ObjectiveWeights};
//!
//! let registry = ObjectiveRegistry::with_builtins();
//! let infopro = registry.build("infopro").unwrap();
//! // K = 8: the first module mostly reconstructs, the last aux module mostly classifies.
//! assert_eq!(infopro.weights(0, 8).reconstruction, 5.0);
//! assert_eq!(infopro.weights(6, 8).classification, 2.0);
//! assert_eq!(infopro.weights(7, 8), ObjectiveWeights::CE);
//! assert!(infopro.extra_heads().decoder);
//! ```

pub mod ce;
pub mod conformance;
pub mod infopro;
mod legacy;
pub mod registry;
pub mod supcon;

use crate::error::CoreError;

pub use ce::CrossEntropy;
pub use infopro::{ClassTerm, InfoPro};
pub use legacy::{LEGACY_PARAMS, legacy_spec, record_spec};
pub use registry::{ObjectiveBuildFn, ObjectiveEntry, ObjectiveRegistry};
pub use supcon::SupCon;

/// Every built-in local objective, one line each: the one table of this plugin kind. Adding a
/// built-in is one new file exporting an [`ObjectiveEntry`] beside its objective, plus one line
/// here.
pub const BUILTINS: &[ObjectiveEntry] = &[ce::ENTRY, infopro::ENTRY, supcon::ENTRY];

/// The objective of a run when none is given: `ce`.
pub const DEFAULT_OBJECTIVE: &str = "ce";

/// The temperature of the supervised contrastive loss when none is given: InfoPro's 0.07.
pub const DEFAULT_TEMPERATURE: f64 = 0.07;

/// The output size of a projection head when none is given: InfoPro's `aux_net_feature_dim`.
pub const DEFAULT_PROJECTION_DIM: usize = 128;

/// How a reconstruction term compares the decoder's output with the input image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reconstruction {
    /// InfoPro's: the decoder's output through a sigmoid, binary cross-entropy against the
    /// image de-normalised to `[0, 1]` (`recon=bce`).
    #[default]
    Bce,
    /// The mean squared error of the decoder's output against the normalised image
    /// (`recon=mse`; pgl's reconstruction before issue 22).
    Mse,
}

impl Reconstruction {
    /// The spelling in specs: `bce` or `mse`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reconstruction::Bce => "bce",
            Reconstruction::Mse => "mse",
        }
    }

    /// Every choice, in the order help texts list them.
    pub const ALL: [Reconstruction; 2] = [Reconstruction::Bce, Reconstruction::Mse];
}

/// Which head the contrastive term projects a module's output through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProjectionHead {
    /// A head of the same design as the module's aux head with D outputs and weights of its
    /// own, as InfoPro's contrastive `AuxClassifier` (`proj=aux`).
    #[default]
    Aux,
    /// Global average pooling → linear D → ReLU → linear D (`proj=mlp`; pgl's projection before
    /// issue 22).
    Mlp,
}

impl ProjectionHead {
    /// The spelling in specs: `aux` or `mlp`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectionHead::Aux => "aux",
            ProjectionHead::Mlp => "mlp",
        }
    }

    /// Every choice, in the order help texts list them.
    pub const ALL: [ProjectionHead; 2] = [ProjectionHead::Aux, ProjectionHead::Mlp];
}

/// The largest projection head a spec may ask for (`supcon:dim=D`): the head holds two
/// matrices of up to `D × D` weights per module (64 MiB each at this size, before optimizer
/// state), so a larger `D` is a typo, not a model; refusing it beats an allocation failure.
pub const MAX_PROJECTION_DIM: usize = 4096;

/// The weights of the loss terms of one module: its local loss is
/// `reconstruction · L_rec(decoder(h), x) + classification · CE(head(h), y) + contrastive ·
/// SupCon(projection(h), y)`, `L_rec` as [`LocalObjective::reconstruction`] says. A zero
/// weight means the term is not computed at all.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ObjectiveWeights {
    /// Weight of the decoder's reconstruction of the input image.
    pub reconstruction: f64,
    /// Weight of the aux head's (or, for the last module, the classifier's) cross-entropy.
    pub classification: f64,
    /// Weight of the supervised contrastive loss on the projection head.
    pub contrastive: f64,
}

impl ObjectiveWeights {
    /// Cross-entropy alone, weight 1: what `ce` gives every module, and every objective gives
    /// the last module.
    pub const CE: Self = Self {
        reconstruction: 0.0,
        classification: 1.0,
        contrastive: 0.0,
    };

    /// Whether this is [`ObjectiveWeights::CE`]: the loss is the head's cross-entropy, computed
    /// exactly as without objectives.
    pub fn is_ce(&self) -> bool {
        *self == Self::CE
    }

    /// Whether every weight is finite and `>= 0` and at least one is `> 0`.
    pub fn is_valid(&self) -> bool {
        let all = [self.reconstruction, self.classification, self.contrastive];
        all.iter().all(|w| w.is_finite() && *w >= 0.0) && all.iter().any(|w| *w > 0.0)
    }
}

/// The heads an objective needs besides each module's aux head; pgl-burn builds them for the
/// modules whose weights use them, and trains them with the module's optimizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExtraHeads {
    /// A small decoder per module that reconstructs the input image from the module's output.
    pub decoder: bool,
    /// A projection head per module with this many outputs, for the contrastive term.
    pub projection: Option<usize>,
}

/// What a module learns from in a local step: see the [module documentation](self).
///
/// Implementations are plain data: [`weights`](Self::weights) is a pure function of the module
/// index and K. The trait is object safe; `Box<dyn LocalObjective>` is `Clone`.
pub trait LocalObjective: Send + Sync + std::fmt::Debug {
    /// The canonical spec string that rebuilds an equal objective through the registry.
    fn spec(&self) -> String;

    /// The extra heads the objective may use.
    fn extra_heads(&self) -> ExtraHeads;

    /// The weights of module `module` (0-based) of a network of `modules` modules. For the last
    /// module (`module + 1 == modules`) they must be [`ObjectiveWeights::CE`].
    fn weights(&self, module: usize, modules: usize) -> ObjectiveWeights;

    /// The temperature of the contrastive term (used where its weight is `> 0`).
    fn temperature(&self) -> f64 {
        DEFAULT_TEMPERATURE
    }

    /// How the reconstruction term compares (used where its weight is `> 0`): InfoPro's
    /// binary cross-entropy unless the objective says otherwise.
    fn reconstruction(&self) -> Reconstruction {
        Reconstruction::Bce
    }

    /// The head the contrastive term projects through (used where its weight is `> 0`): a
    /// head of the aux head's design unless the objective says otherwise.
    fn projection_head(&self) -> ProjectionHead {
        ProjectionHead::Aux
    }

    /// A boxed copy of this objective.
    fn clone_box(&self) -> Box<dyn LocalObjective>;

    /// Whether every module of every network learns from cross-entropy alone: a local step
    /// then is exactly the DGL step (no extra heads are built).
    fn is_plain_ce(&self) -> bool {
        false
    }
}

impl Clone for Box<dyn LocalObjective> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Checks that `objective` can train a network of `modules` modules: valid weights for every
/// module ([`ObjectiveWeights::is_valid`]), cross-entropy for the last one, the extra heads it
/// uses declared in [`LocalObjective::extra_heads`] and a finite temperature `> 0` where the
/// contrastive term is used. The error names the objective and the module (1-based).
pub fn check_modules(objective: &dyn LocalObjective, modules: usize) -> Result<(), CoreError> {
    let spec = objective.spec();
    let heads = objective.extra_heads();
    let bad = |module: usize, reason: String| CoreError::InvalidConfig {
        field: "local-objective".to_string(),
        value: spec.clone(),
        expected: format!("{reason} (module {} of K={modules})", module + 1),
    };
    for k in 0..modules {
        let w = objective.weights(k, modules);
        if !w.is_valid() {
            let reason = format!(
                "finite weights >= 0, not all zero; got reconstruction {}, classification {}, contrastive {}",
                w.reconstruction, w.classification, w.contrastive
            );
            return Err(bad(k, reason));
        }
        if k + 1 == modules && !w.is_ce() {
            return Err(bad(k, "cross-entropy alone for the last module".into()));
        }
        if w.reconstruction > 0.0 && !heads.decoder {
            return Err(bad(k, "a decoder among its extra heads".into()));
        }
        if w.contrastive > 0.0 {
            if heads.projection.is_none_or(|d| d == 0) {
                return Err(bad(k, "a projection head among its extra heads".into()));
            }
            let t = objective.temperature();
            if !(t.is_finite() && t > 0.0) {
                return Err(bad(k, format!("a finite temperature > 0, got {t}")));
            }
        }
    }
    Ok(())
}

/// The `recon` parameter of an objective spec (`bce` when absent); the error names the key.
pub(crate) fn reconstruction_param(
    args: &crate::schedule::SpecArgs<'_>,
) -> Result<Reconstruction, CoreError> {
    let names = Reconstruction::ALL.map(Reconstruction::as_str);
    let name = args.choice("recon", &names, Reconstruction::default().as_str())?;
    Ok(Reconstruction::ALL
        .into_iter()
        .find(|r| r.as_str() == name)
        .unwrap_or_default())
}

/// The `proj` parameter of an objective spec (`aux` when absent); the error names the key.
pub(crate) fn projection_param(
    args: &crate::schedule::SpecArgs<'_>,
) -> Result<ProjectionHead, CoreError> {
    let names = ProjectionHead::ALL.map(ProjectionHead::as_str);
    let name = args.choice("proj", &names, ProjectionHead::default().as_str())?;
    Ok(ProjectionHead::ALL
        .into_iter()
        .find(|p| p.as_str() == name)
        .unwrap_or_default())
}

/// A positive, finite number parameter of an objective spec, or `default` when absent; the
/// error names the objective and the key.
pub(crate) fn positive_f64(
    args: &crate::schedule::SpecArgs<'_>,
    objective: &str,
    key: &str,
    default: f64,
) -> Result<f64, CoreError> {
    match args.raw(key) {
        None => Ok(default),
        Some(raw) => match raw.parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
            _ => Err(CoreError::BadValue {
                schedule: objective.to_string(),
                key: key.to_string(),
                value: raw.to_string(),
                expected: "a finite number > 0".to_string(),
            }),
        },
    }
}
