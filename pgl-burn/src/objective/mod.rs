//! The tensor side of local objectives ([`pgl_core::objective`]): the loss terms, one file
//! each, each a [`LossTerm`] that builds its head and computes its loss ([`term`]: the trait,
//! the heads, the term table), the heads of every module ([`ObjectiveHeads`]) and the loss of
//! one module in a local step ([`module_loss`]):
//!
//! - [`ce`]: the head's cross-entropy (`ce`, DGL; InfoPro's `class=ce` term), no head of its own,
//! - [`infopro`]: InfoPro's reconstruction term, a [`Decoder`] per module (binary cross-entropy
//!   against the de-normalised image, or mean squared error: [`ReconstructionTarget`]),
//! - [`supcon`]: the supervised contrastive term, through a head of the aux head's design with
//!   D outputs (`proj=aux`, made by the model: [`DecoupledModel::aux_head_like`]) or pgl's
//!   earlier MLP ([`Projection`], `proj=mlp`),
//! - [`synthetic`]: the synthetic-gradient term (`--synthetic-gradient α`, DNI), a
//!   [`GradientPredictor`] per module that global steps train ([`crate::synthetic`]).
//!
//! Module k's loss is `Σ weight · term` over the terms the objective gives module k of K, in
//! their order; terms of weight 0 are not computed, and a module whose only term is `ce` of
//! weight 1 computes exactly the cross-entropy (no multiplication), so `ce` runs are
//! bit-identical to runs before objectives existed. Each term is built once per run from its
//! spec ([`TermRegistry`]) and shared by the modules that use it.
//!
//! **Heads belong to their module**: module k's optimizer steps them with module k's
//! parameters (Burn's `ModuleOptimizer` keeps its state per parameter, so the same optimizer
//! serves both, and its checkpoint file holds the heads' state too), checkpoints save them
//! (`objective.bpk`; files written before loss terms were plugins hold one field per head kind
//! and still load: [`ObjectiveHeads::load_file`]), and the pipeline hands each worker the heads
//! of its modules. They are initialised from `(seed, "objective heads", k)` alone
//! ([`crate::model::derive_seed`]). Global steps do not use them: a global step's loss is the
//! classifier's (plus `aux_weight` times the aux heads' cross-entropy), whatever the local
//! objective; the one exception is the synthetic-gradient predictor, which only global steps
//! train (after their update, on the gradients they computed).

pub mod ce;
pub mod infopro;
pub mod supcon;
pub mod synthetic;

mod legacy;
pub mod term;

use std::collections::HashMap;
use std::sync::Arc;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLoss;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::Gradients;
use pgl_core::objective::LocalObjective;

use crate::activation::Activation;
use crate::head::HeadStack;
use crate::model::{DecoupledModel, derive_seed, initialize_seeded_with, split_into_groups};

pub use infopro::{Decoder, ReconstructionLoss, ReconstructionTarget};
pub use supcon::{ContrastiveLoss, Projection};
pub use synthetic::{GradientPredictor, SyntheticGradientLoss};
pub use term::{LossTerm, TermBuildFn, TermEntry, TermInput, TermRegistry, TermSetup, TermSite};

/// Every built-in term, one line each.
pub const BUILTIN_TERMS: &[TermEntry] =
    &[ce::ENTRY, infopro::ENTRY, supcon::ENTRY, synthetic::ENTRY];

/// The head of one term of one module: parameters the term trains with the module's
/// optimizer, saved with the checkpoint (`objective.bpk`).
// One head per term and module, built once: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum TermHead {
    /// InfoPro's decoder ([`Decoder`]).
    Decoder(Decoder),
    /// The contrastive term's MLP projection ([`Projection`], `proj=mlp`).
    Projection(Projection),
    /// A head of plain layers: the contrastive term's copy of the aux head's design
    /// (`proj=aux`), or any term's head of its own.
    Stack(HeadStack),
    /// The synthetic-gradient term's predictor ([`GradientPredictor`]).
    Predictor(GradientPredictor),
}

/// Salt of the extra heads' seeds ([`derive_seed`]).
pub const HEADS_SALT: u64 = u64::from_le_bytes(*b"pgl:objh");

/// The terms of one module's loss, each with its weight: built once, shared by the modules.
#[derive(Debug, Clone, Default)]
pub struct WeightedTerms(pub Vec<(Arc<dyn LossTerm>, f64)>);

/// The loss terms of one module and their heads (one slot per term, in order; `None` for a
/// term without a head).
#[derive(Module, Debug)]
pub struct ModuleHeads {
    /// The heads, one slot per term.
    pub heads: Vec<Option<TermHead>>,
    /// The terms and their weights (plain data, not saved: they follow from the objective).
    #[module(skip)]
    pub terms: WeightedTerms,
}

impl ModuleHeads {
    fn empty() -> Self {
        Self {
            heads: Vec::new(),
            terms: WeightedTerms::default(),
        }
    }

    fn has_parameters(&self) -> bool {
        self.heads.iter().any(Option::is_some)
    }

    /// The head of the first term named `name`, if that term has one.
    pub fn head_of(&self, name: &str) -> Option<&TermHead> {
        let index = self
            .terms
            .0
            .iter()
            .position(|(t, _)| t.spec().name() == name)?;
        self.heads.get(index)?.as_ref()
    }

    /// The module's loss: `Σ weight · term(input, head)` over its terms, in order (the
    /// cross-entropy alone, weight 1, is computed without a multiplication).
    pub fn loss(&self, input: &TermInput<'_>) -> Tensor<1> {
        let mut total: Option<Tensor<1>> = None;
        for ((term, weight), head) in self.terms.0.iter().zip(&self.heads) {
            let value = term.loss(input, head.as_ref());
            if self.terms.0.len() == 1 && *weight == 1.0 {
                return value;
            }
            let value = value * *weight;
            total = Some(match total.take() {
                Some(sum) => sum + value,
                None => value,
            });
        }
        total.expect("a module's terms are checked to be at least one")
    }
}

/// The network's input images as the data pipeline hands them over: their shape and the
/// per-channel normalisation applied to them (`(pixel / max − mean) / std`), which InfoPro's
/// binary cross-entropy reconstruction undoes.
#[derive(Debug, Clone, PartialEq)]
pub struct InputImages {
    /// `[channels, height, width]`.
    pub shape: [usize; 3],
    /// Per-channel mean.
    pub mean: Vec<f32>,
    /// Per-channel standard deviation.
    pub std: Vec<f32>,
}

impl InputImages {
    /// Images of `shape` normalised with per-channel `mean` and `std`.
    pub fn new(shape: [usize; 3], mean: Vec<f32>, std: Vec<f32>) -> Self {
        Self { shape, mean, std }
    }

    /// Images of `shape` that are not normalised (already in `[0, 1]`).
    pub fn unnormalised(shape: [usize; 3]) -> Self {
        let channels = shape[0];
        Self::new(shape, vec![0.0; channels], vec![1.0; channels])
    }
}

/// Why the heads of an objective's terms could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ObjectiveHeadsError {
    /// A term's spec does not build (unknown name, bad parameter, missing setting).
    #[error("{0}")]
    Term(#[from] pgl_core::CoreError),
    /// A term cannot make its head for a module.
    #[error("module {module}: term `{term}`: {reason}")]
    Head {
        /// The module (1-based).
        module: usize,
        /// The term's spec.
        term: String,
        /// Why.
        reason: String,
    },
}

/// The loss terms and their heads of every module of a network (or of a pipeline group), in
/// module order; empty when every module learns from its head's cross-entropy alone (`ce`).
#[derive(Module, Debug)]
pub struct ObjectiveHeads {
    modules: Vec<ModuleHeads>,
}

impl ObjectiveHeads {
    /// No terms and no heads: every module learns from its head's cross-entropy.
    pub fn none() -> Self {
        Self {
            modules: Vec::new(),
        }
    }

    /// [`build_with`](Self::build_with) the built-in terms, for images whose normalisation
    /// `input` gives.
    pub fn build<M: DecoupledModel>(
        objective: &dyn LocalObjective,
        model: &M,
        input: &InputImages,
        seed: u64,
        device: &Device,
    ) -> Result<Self, ObjectiveHeadsError> {
        let setup = TermSetup {
            input,
            normalisation_known: true,
        };
        let terms = TermRegistry::with_builtins();
        Self::build_with(objective, &terms, model, &setup, seed, device)
    }

    /// The terms `objective` gives every module of `model`, built from `terms` (each distinct
    /// spec once), with their heads on `device`; module k's heads are initialised from
    /// `(seed, HEADS_SALT, k)`, their convolutions as the model's
    /// ([`DecoupledModel::conv_init`]). Each module's output shape is found by one forward pass
    /// of a zero image in evaluation mode (no BatchNorm statistic changes). Empty when every
    /// module's terms are the cross-entropy alone. Fails when a term does not build or cannot
    /// make its head for a module (e.g. `proj=aux` for a model without an aux head design).
    pub fn build_with<M: DecoupledModel>(
        objective: &dyn LocalObjective,
        terms: &TermRegistry,
        model: &M,
        setup: &TermSetup<'_>,
        seed: u64,
        device: &Device,
    ) -> Result<Self, ObjectiveHeadsError> {
        let modules = model.num_modules();
        let plan: Vec<_> = (0..modules).map(|k| objective.terms(k, modules)).collect();
        if objective.is_plain_ce() || plan.iter().all(|t| t.is_ce()) {
            return Ok(Self::none());
        }
        let mut built: HashMap<String, Arc<dyn LossTerm>> = HashMap::new();
        let (shapes, classes) = output_shapes(model, setup.input.shape, device);
        let mut heads = Vec::with_capacity(modules);
        for (k, (shape, module_terms)) in shapes.iter().zip(plan).enumerate() {
            let aux_head_like = |outputs| model.aux_head_like(k, shape, outputs, device);
            let site = TermSite {
                module: k,
                features: shape,
                classes,
                input: setup.input,
                aux_head_like: &aux_head_like,
                device,
            };
            let mut module = ModuleHeads::empty();
            for weighted in module_terms.terms() {
                let key = weighted.term.to_string();
                let term = match built.get(&key) {
                    Some(term) => term.clone(),
                    None => {
                        let term = terms.build(&weighted.term, setup)?;
                        built.insert(key.clone(), term.clone());
                        term
                    }
                };
                let head = term
                    .build_head(&site)
                    .map_err(|reason| ObjectiveHeadsError::Head {
                        module: k + 1,
                        term: key,
                        reason,
                    })?;
                module.heads.push(head);
                module.terms.0.push((term, weighted.weight));
            }
            let seed = derive_seed(seed, HEADS_SALT, k as u64);
            let conv_init = model.conv_init();
            heads.push(initialize_seeded_with(module, device, seed, conv_init));
        }
        Ok(Self { modules: heads })
    }

    /// Whether there are no terms at all (every module learns from cross-entropy alone).
    pub fn is_empty(&self) -> bool {
        self.modules.is_empty()
    }

    /// Whether some module's term compares with the input images
    /// ([`LossTerm::needs_images`]).
    pub fn needs_images(&self) -> bool {
        let terms = self.modules.iter().flat_map(|m| &m.terms.0);
        terms.into_iter().any(|(term, _)| term.needs_images())
    }

    /// The heads of module `k` of this network or group, if any.
    pub fn module(&self, k: usize) -> Option<&ModuleHeads> {
        self.modules.get(k)
    }

    /// Splits the heads like [`DecoupledModel::into_groups`]: consecutive groups of `sizes[i]`
    /// modules (no heads: every group empty).
    pub fn into_groups(self, sizes: &[usize]) -> Vec<Self> {
        if self.modules.is_empty() {
            return sizes.iter().map(|_| Self::none()).collect();
        }
        split_into_groups(self.modules, sizes)
            .into_iter()
            .map(|modules| Self { modules })
            .collect()
    }

    /// The inverse of [`into_groups`](Self::into_groups).
    pub fn from_groups(groups: Vec<Self>) -> Self {
        Self {
            modules: groups.into_iter().flat_map(|g| g.modules).collect(),
        }
    }

    /// Steps module `k`'s heads with `optimizer` on their gradients in `grads` (removed from
    /// it); nothing when module k has no heads.
    pub(crate) fn step(
        &mut self,
        k: usize,
        optimizer: &mut ModuleOptimizer,
        lr: f64,
        grads: &mut Gradients,
    ) {
        let Some(slot) = self.modules.get_mut(k) else {
            return;
        };
        if !slot.has_parameters() {
            return;
        }
        let heads = std::mem::replace(slot, ModuleHeads::empty());
        let head_grads = GradientsParams::from_module(grads, &heads);
        *slot = optimizer.step(lr, heads, head_grads);
    }
}

/// The output shape (without the batch dimension) of every module of `model` for images of
/// shape `image`, and the number of classes of its classifier.
fn output_shapes<M: DecoupledModel>(
    model: &M,
    image: [usize; 3],
    device: &Device,
) -> (Vec<Vec<usize>>, usize) {
    let model = model.valid();
    let device = device.clone().inner();
    let [c, h, w] = image;
    let mut x = Activation::Spatial(Tensor::<4>::zeros([1, c, h, w], &device));
    let modules = model.num_modules();
    let shapes = (0..modules)
        .map(|k| {
            x = model.forward_module(k, x.clone());
            x.dims()[1..].to_vec()
        })
        .collect();
    let classes = model.head(modules - 1, x).dims()[1];
    (shapes, classes)
}

/// What module losses compare against: the labels and, when a decoder needs them, the input
/// images of the batch.
#[derive(Clone, Copy)]
pub struct LocalTargets<'a> {
    /// Class labels `[batch]`.
    pub labels: &'a Tensor<1, Int>,
    /// The network's input images (`None` when no module has a decoder).
    pub images: Option<&'a Activation>,
}

/// The local loss of module `k` (0-based within `model`, which may be a pipeline group) on its
/// output `features`: the weighted sum of its terms with their heads (`heads`: module k's, as
/// [`ObjectiveHeads::module`] gives them), or its head's cross-entropy when it has none.
///
/// # Panics
/// When a term misses its head, or the images it needs (the trainer builds both from the same
/// terms).
pub fn module_loss<M: DecoupledModel>(
    model: &M,
    k: usize,
    features: Activation,
    targets: LocalTargets<'_>,
    heads: Option<&ModuleHeads>,
    loss_fn: &CrossEntropyLoss,
) -> Tensor<1> {
    let Some(heads) = heads else {
        return ce::classification_term(model, k, features, targets.labels, loss_fn);
    };
    let classify = |x: Activation| model.head(k, x);
    let input = TermInput {
        features,
        labels: targets.labels,
        images: targets.images,
        classify: &classify,
        loss_fn,
    };
    heads.loss(&input)
}
