//! The tensor side of local objectives ([`pgl_core::objective`]): the extra heads an objective
//! needs ([`ObjectiveHeads`]: a [`Decoder`] and/or a projection head per module) and the loss
//! of one module in a local step ([`module_loss`]), one file per term:
//!
//! - [`ce`]: the head's cross-entropy (`ce`, DGL; InfoPro's `class=ce` term),
//! - [`infopro`]: InfoPro's decoder and reconstruction loss (binary cross-entropy against the
//!   de-normalised image, or mean squared error: [`ReconstructionTarget`]),
//! - [`supcon`]: the projection heads and the supervised contrastive loss. The projection is a
//!   head of the aux head's design with D outputs (`proj=aux`: a [`HeadStack`] the model makes,
//!   [`DecoupledModel::aux_head_like`]) or pgl's earlier MLP ([`Projection`], `proj=mlp`, kept
//!   so that checkpoints of earlier runs load: their `objective.bpk` holds `projection`
//!   fields, which a `proj=aux` run leaves empty and fills `aux_projection` instead).
//!
//! Module k's loss is `w_rec · reconstruction + w_cls · cross-entropy + w_con · contrastive`
//! with the weights the objective gives module k of K; a term of weight 0 is not computed, and
//! weights that are cross-entropy alone compute exactly the cross-entropy (no multiplication),
//! so `ce` runs are bit-identical to runs before objectives existed.
//!
//! **Extra heads belong to their module**: module k's optimizer steps them with module k's
//! parameters (Burn's `ModuleOptimizer` keeps its state per parameter, so the same optimizer
//! serves both, and its checkpoint file holds the heads' state too), checkpoints save them
//! (`objective.bpk`), and the pipeline hands each worker the heads of its modules. They are
//! initialised from `(seed, "objective heads", k)` alone ([`crate::model::derive_seed`]).
//! Global steps do not use them: a global step's loss is the classifier's (plus `aux_weight`
//! times the aux heads' cross-entropy), whatever the local objective.

pub mod ce;
pub mod infopro;
pub mod supcon;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLoss;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::Gradients;
use pgl_core::objective::{LocalObjective, ObjectiveWeights, ProjectionHead, Reconstruction};

use crate::activation::Activation;
use crate::head::HeadStack;
use crate::model::{DecoupledModel, derive_seed, initialize_seeded_with, split_into_groups};

pub use infopro::{Decoder, ReconstructionTarget};
pub use supcon::Projection;

/// Salt of the extra heads' seeds ([`derive_seed`]).
pub const HEADS_SALT: u64 = u64::from_le_bytes(*b"pgl:objh");

/// The extra heads of one module: those its weights use.
#[derive(Module, Debug)]
pub struct ModuleHeads {
    /// Reconstructs the input image (when the reconstruction weight is `> 0`).
    pub decoder: Option<Decoder>,
    /// Projects the module's output for the contrastive term (when its weight is `> 0`) with
    /// `proj=mlp`.
    pub projection: Option<Projection>,
    /// Projects the module's output for the contrastive term (when its weight is `> 0`) with
    /// `proj=aux`: a head of the aux head's design with D outputs.
    pub aux_projection: Option<HeadStack>,
    /// How the decoder's reconstruction is compared with the images (plain data, not saved).
    #[module(skip)]
    pub target: ReconstructionTarget,
}

impl ModuleHeads {
    fn empty() -> Self {
        Self {
            decoder: None,
            projection: None,
            aux_projection: None,
            target: ReconstructionTarget::Mse,
        }
    }

    fn has_parameters(&self) -> bool {
        self.decoder.is_some() || self.projection.is_some() || self.aux_projection.is_some()
    }

    /// `[batch, D]` projections of `features` for the contrastive term, through whichever
    /// projection head the module has.
    ///
    /// # Panics
    /// When it has none (the trainer builds them from the same weights).
    pub fn project(&self, features: Activation) -> Tensor<2> {
        match (&self.aux_projection, &self.projection) {
            (Some(head), _) => head.forward(features),
            (None, Some(mlp)) => mlp.forward(features),
            (None, None) => panic!("a projection head for a module with a contrastive weight"),
        }
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

    fn target(&self, reconstruction: Reconstruction) -> ReconstructionTarget {
        match reconstruction {
            Reconstruction::Mse => ReconstructionTarget::Mse,
            Reconstruction::Bce => ReconstructionTarget::Bce {
                mean: self.mean.clone(),
                std: self.std.clone(),
            },
        }
    }
}

/// Why the extra heads of an objective could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "module {module}: the model cannot make a head of its aux head's design for the contrastive term (proj=aux); use proj=mlp"
)]
pub struct NoAuxProjection {
    /// The module (0-based).
    pub module: usize,
}

/// The extra heads of every module of a network (or of a pipeline group), in module order;
/// empty when the objective needs none (`ce`).
#[derive(Module, Debug)]
pub struct ObjectiveHeads {
    modules: Vec<ModuleHeads>,
}

impl ObjectiveHeads {
    /// No extra heads.
    pub fn none() -> Self {
        Self {
            modules: Vec::new(),
        }
    }

    /// The heads `objective` needs for `model`, whose input images are `input`, on `device`;
    /// module k's are initialised from `(seed, HEADS_SALT, k)`, their convolutions as the
    /// model's ([`DecoupledModel::conv_init`]). Each module's output shape is found by one
    /// forward pass of a zero image in evaluation mode (no BatchNorm statistic changes). Empty
    /// when no module's weights use a decoder or a projection. Fails when the objective
    /// projects through the aux head's design (`proj=aux`) and the model cannot make one.
    pub fn build<M: DecoupledModel>(
        objective: &dyn LocalObjective,
        model: &M,
        input: &InputImages,
        seed: u64,
        device: &Device,
    ) -> Result<Self, NoAuxProjection> {
        let modules = model.num_modules();
        if !Self::needed(objective, modules) {
            return Ok(Self::none());
        }
        let image = input.shape;
        let shapes = output_shapes(model, image, device);
        let dim = objective.extra_heads().projection.unwrap_or(0);
        let target = input.target(objective.reconstruction());
        let mut heads = Vec::with_capacity(modules);
        for (k, shape) in shapes.iter().enumerate() {
            let w = objective.weights(k, modules);
            let mut module = ModuleHeads::empty();
            if w.reconstruction > 0.0 {
                module.decoder = Some(Decoder::new(shape, image, device));
                module.target = target.clone();
            }
            if w.contrastive > 0.0 {
                match objective.projection_head() {
                    ProjectionHead::Mlp => {
                        let channels = Projection::input_size(shape);
                        module.projection = Some(Projection::new(channels, dim, device));
                    }
                    ProjectionHead::Aux => {
                        let head = model.aux_head_like(k, shape, dim, device);
                        module.aux_projection = Some(head.ok_or(NoAuxProjection { module: k })?);
                    }
                }
            }
            let seed = derive_seed(seed, HEADS_SALT, k as u64);
            heads.push(initialize_seeded_with(
                module,
                device,
                seed,
                model.conv_init(),
            ));
        }
        Ok(Self { modules: heads })
    }

    /// Whether `objective` needs any extra head for a network of `modules` modules: whether
    /// some module's reconstruction or contrastive weight is `> 0`.
    pub fn needed(objective: &dyn LocalObjective, modules: usize) -> bool {
        !objective.is_plain_ce()
            && (0..modules).any(|k| {
                let w = objective.weights(k, modules);
                w.reconstruction > 0.0 || w.contrastive > 0.0
            })
    }

    /// Whether there are no extra heads at all.
    pub fn is_empty(&self) -> bool {
        self.modules.is_empty()
    }

    /// Whether some module has a decoder (its loss needs the input images).
    pub fn needs_images(&self) -> bool {
        self.modules.iter().any(|m| m.decoder.is_some())
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
/// shape `image`.
fn output_shapes<M: DecoupledModel>(
    model: &M,
    image: [usize; 3],
    device: &Device,
) -> Vec<Vec<usize>> {
    let model = model.valid();
    let device = device.clone().inner();
    let [c, h, w] = image;
    let mut x = Activation::Spatial(Tensor::<4>::zeros([1, c, h, w], &device));
    (0..model.num_modules())
        .map(|k| {
            x = model.forward_module(k, x.clone());
            x.dims()[1..].to_vec()
        })
        .collect()
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

/// How one module's local loss is made: the weights of its terms, the contrastive term's
/// temperature, the module's extra heads and the cross-entropy loss.
#[derive(Clone, Copy)]
pub struct ModuleLoss<'a> {
    /// The weight of every term (a term of weight 0 is not computed).
    pub weights: ObjectiveWeights,
    /// The contrastive term's temperature.
    pub temperature: f64,
    /// The module's extra heads (`None` when it has none).
    pub heads: Option<&'a ModuleHeads>,
    /// The cross-entropy of the classification term.
    pub loss_fn: &'a CrossEntropyLoss,
}

/// The local loss of module `k` (0-based within `model`, which may be a pipeline group) on its
/// output `features`: the terms `terms.weights` asks for, with module k's extra heads.
///
/// # Panics
/// When the weights use a head that `terms.heads` lacks, or reconstruction without
/// `targets.images` (the trainer builds the heads from the same weights).
pub fn module_loss<M: DecoupledModel>(
    model: &M,
    k: usize,
    features: Activation,
    targets: LocalTargets<'_>,
    terms: &ModuleLoss<'_>,
) -> Tensor<1> {
    let ModuleLoss {
        weights,
        temperature,
        heads,
        loss_fn,
    } = *terms;
    if weights.is_ce() {
        return ce::classification_term(model, k, features, targets.labels, loss_fn);
    }
    let mut total: Option<Tensor<1>> = None;
    let mut add = |term: Tensor<1>, weight: f64| {
        let term = term * weight;
        total = Some(match total.take() {
            Some(sum) => sum + term,
            None => term,
        });
    };
    if weights.reconstruction > 0.0 {
        let decoder = heads
            .and_then(|h| h.decoder.as_ref())
            .expect("a decoder for a module with a reconstruction weight");
        let images = targets.images.expect("input images for the reconstruction");
        let target = &heads.expect("the decoder's module").target;
        add(
            infopro::reconstruction_term(decoder, target, features.clone(), images),
            weights.reconstruction,
        );
    }
    if weights.classification > 0.0 {
        let term = ce::classification_term(model, k, features.clone(), targets.labels, loss_fn);
        add(term, weights.classification);
    }
    if weights.contrastive > 0.0 {
        let heads = heads.expect("a projection head for a module with a contrastive weight");
        let projections = heads.project(features);
        let term = supcon::supcon_loss(projections, targets.labels, temperature);
        add(term, weights.contrastive);
    }
    total.expect("valid weights have a term > 0")
}
