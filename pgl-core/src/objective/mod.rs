//! Local objectives: the plugin that says what each module learns from in a local step.
//!
//! In a local step module k minimises its own loss on the detached output of module k − 1.
//! A [`LocalObjective`] describes that loss without touching tensors: its spec and, for every
//! module, a list of loss terms with their weights ([`ModuleTerms`] of [`TermSpec`]s, see
//! [`term`]). The terms' descriptions are in [`terms`], one file each (`ce`, `reconstruction`,
//! `supcon`); pgl-burn computes them, one file each with its head (`pgl_burn::objective`).
//! Objectives are built from spec strings by an [`ObjectiveRegistry`] and tested with one
//! conformance kit ([`conformance::check_objective`]).
//!
//! Built-ins (one file each, one line each in [`BUILTINS`]):
//!
//! | spec | loss of module k < K (the last module always learns from the classifier's CE) |
//! |---|---|
//! | `ce` | cross-entropy of the aux head: greedy supervised learning (DGL) |
//! | `infopro:ixx_1=A,ixy_1=B,ixx_2=C,ixy_2=D,class=ce\|supcon,temperature=T,proj=auto\|aux\|mlp,recon=bce\|mse` | InfoPro: `ixx·L_rec(decoder(h_k), x) + ixy·L_class`, the weights moving linearly from `(A, B)` at the first module to `(C, D)` at module K − 1 (defaults: InfoPro's ResNet-32 CIFAR-10 values for K); `L_rec` InfoPro's binary cross-entropy of the decoder's sigmoid against the image in `[0, 1]` (`recon=bce`, default) or the mean squared error against the normalised image (`recon=mse`) |
//! | `supcon:temperature=T,dim=D,proj=auto\|aux\|mlp` | supervised contrastive loss on a projection head (InfoPro's contrastive variant, without reconstruction); the default ([`DEFAULT_OBJECTIVE`]) |
//!
//! **The contrastive term's head** ([`ProjectionHead`]): `proj=aux` projects through a head
//! of the same design as the module's aux head (`--aux-head`, e.g. `1c2f`) with D outputs and
//! weights of its own, as InfoPro's contrastive `AuxClassifier` does; `proj=mlp` through pool →
//! linear D → ReLU → linear D, pgl's projection before issue 22; `proj=auto` (default) is `aux`
//! when the model makes such a head (every zoo model does) and `mlp` when it does not (a
//! network of the user's own without an aux head design). The aux head
//! itself keeps its class outputs (global steps and per-head accuracy use them).
//!
//! **Old runs keep their meaning**: the defaults of `recon` (was MSE) and `proj` (was the MLP)
//! changed after runs were recorded. Run records always hold the canonical spec, which names
//! both ([`record_spec`]); a recorded spec without them was written before, and reads with the
//! old values ([`legacy_spec`], applied when a [`RunConfig`](crate::RunConfig) is read).
//!
//! **The last module** is the network's own classifier after module K: every objective gives it
//! the classifier's cross-entropy alone ([`ModuleTerms::ce`]), as InfoPro does; the
//! conformance kit checks it. **Global steps** do not use objectives: they backpropagate the
//! classifier's loss (plus `aux_weight` times the aux heads' cross-entropy).
//!
//! Adding an objective is one file implementing [`LocalObjective`] and exporting an
//! [`ObjectiveEntry`], plus one line: in [`BUILTINS`] for a built-in, or a
//! [`ObjectiveRegistry::register_entry`] call from your own crate. Its terms are the built-in
//! ones or terms of your own (a [`TermDescription`] here and a `pgl_burn::objective::TermEntry`
//! registered with the trainer's settings).
//!
//! ```
//! use pgl_core::objective::{ModuleTerms, ObjectiveRegistry};
//!
//! let registry = ObjectiveRegistry::with_builtins();
//! let infopro = registry.build("infopro").unwrap();
//! // K = 8: the first module only reconstructs, the last aux module mostly classifies.
//! let first = infopro.terms(0, 8);
//! assert_eq!(first.weight_of("reconstruction"), 5.0);
//! assert_eq!(first.weight_of("ce"), 0.0);
//! assert_eq!(infopro.terms(6, 8).weight_of("ce"), 2.0);
//! assert_eq!(infopro.terms(7, 8), ModuleTerms::ce());
//! assert_eq!(first.terms()[0].term.to_string(), "reconstruction:recon=bce");
//! ```

pub mod ce;
pub mod conformance;
pub mod infopro;
mod legacy;
pub mod registry;
pub mod supcon;
pub mod term;
pub mod terms;
pub mod with_synthetic;

use crate::error::CoreError;

pub use ce::CrossEntropy;
pub use infopro::{ClassTerm, InfoPro};
pub use legacy::{LEGACY_PARAMS, legacy_spec, record_spec};
pub use registry::{ObjectiveBuildFn, ObjectiveEntry, ObjectiveRegistry};
pub use supcon::SupCon;
pub use term::{ModuleTerms, TermDescription, TermSpec, WeightedTerm};
pub use terms::ce::CrossEntropyTerm;
pub use terms::contrastive::{ContrastiveTerm, ProjectionHead};
pub use terms::reconstruction::{Reconstruction, ReconstructionTerm};
pub use terms::synthetic::SyntheticGradientTerm;
pub use with_synthetic::WithSyntheticGradient;

/// Every built-in local objective, one line each: the one table of this plugin kind. Adding a
/// built-in is one new file exporting an [`ObjectiveEntry`] beside its objective, plus one line
/// here.
pub const BUILTINS: &[ObjectiveEntry] = &[ce::ENTRY, infopro::ENTRY, supcon::ENTRY];

/// The objective of a run when none is given: `supcon`, the supervised contrastive loss on a
/// projection head of the aux head's design. The guidance study (docs/results/guidance/)
/// chose it over `ce`: with the default guidance it is higher on every seed on Fashion-MNIST
/// (CNN K = 8, short and converged budgets; ResNet-32 K = 16) and on full MNIST. A run
/// configuration written before it became the default reads as `ce`
/// ([`LEGACY_DEFAULTS`](crate::LEGACY_DEFAULTS)).
pub const DEFAULT_OBJECTIVE: &str = "supcon";

/// Whether `spec` builds the same objective as [`DEFAULT_OBJECTIVE`] (compared as canonical
/// specs: `supcon` and `supcon:temperature=0.07` are both the default). Output that names the
/// objective only when it is not the default (run labels, table columns) asks this.
pub fn is_default_objective(spec: &str) -> bool {
    record_spec(spec) == record_spec(DEFAULT_OBJECTIVE)
}

/// The temperature of the supervised contrastive loss when none is given: InfoPro's 0.07.
pub const DEFAULT_TEMPERATURE: f64 = 0.07;

/// The output size of a projection head when none is given: InfoPro's `aux_net_feature_dim`.
pub const DEFAULT_PROJECTION_DIM: usize = 128;

/// The largest projection head a spec may ask for (`supcon:dim=D`): the head holds two
/// matrices of up to `D × D` weights per module (64 MiB each at this size, before optimizer
/// state), so a larger `D` is a typo, not a model; refusing it beats an allocation failure.
pub const MAX_PROJECTION_DIM: usize = 4096;

/// What a module learns from in a local step: see the [module documentation](self).
///
/// Implementations are plain data: [`terms`](Self::terms) is a pure function of the module
/// index and K. The trait is object safe; `Box<dyn LocalObjective>` is `Clone`.
pub trait LocalObjective: Send + Sync + std::fmt::Debug {
    /// The canonical spec string that rebuilds an equal objective through the registry.
    fn spec(&self) -> String;

    /// The loss terms of module `module` (0-based) of a network of `modules` modules, with
    /// their weights. For the last module (`module + 1 == modules`) they must be
    /// [`ModuleTerms::ce`].
    fn terms(&self, module: usize, modules: usize) -> ModuleTerms;

    /// A boxed copy of this objective.
    fn clone_box(&self) -> Box<dyn LocalObjective>;

    /// Whether every module of every network learns from cross-entropy alone: a local step
    /// then is exactly the DGL step (no term has a head of its own).
    fn is_plain_ce(&self) -> bool {
        false
    }
}

impl Clone for Box<dyn LocalObjective> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Checks that `objective` can train a network of `modules` modules: valid terms for every
/// module ([`ModuleTerms::is_valid`]) and cross-entropy alone for the last one. The error
/// names the objective and the module (1-based). (Whether pgl-burn computes every term it
/// names is checked when a trainer is built.)
pub fn check_modules(objective: &dyn LocalObjective, modules: usize) -> Result<(), CoreError> {
    let spec = objective.spec();
    let bad = |module: usize, reason: String| CoreError::InvalidConfig {
        field: "local_objective".to_string(),
        value: spec.clone(),
        expected: format!("{reason} (module {} of K={modules})", module + 1),
    };
    for k in 0..modules {
        let terms = objective.terms(k, modules);
        if !terms.is_valid() {
            let reason = format!("at least one term, each of finite weight > 0; got {terms}");
            return Err(bad(k, reason));
        }
        if k + 1 == modules && !terms.is_ce() {
            return Err(bad(k, "cross-entropy alone for the last module".into()));
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
    Ok(Reconstruction::parse(name).unwrap_or_default())
}

/// The `proj` parameter of an objective spec (`aux` when absent); the error names the key.
pub(crate) fn projection_param(
    args: &crate::schedule::SpecArgs<'_>,
) -> Result<ProjectionHead, CoreError> {
    let names = ProjectionHead::ALL.map(ProjectionHead::as_str);
    let name = args.choice("proj", &names, ProjectionHead::default().as_str())?;
    Ok(ProjectionHead::parse(name).unwrap_or_default())
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
