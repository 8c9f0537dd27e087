//! [`LossTerm`]: one term of a module's local loss, with its head — the tensor side of a
//! [`TermSpec`]. A term owns what it needs: it builds its head
//! for a module (if it has one), and computes its loss from the module's output, the batch and
//! that head. The engine stores, steps, saves and splits the heads ([`super::ObjectiveHeads`])
//! without knowing what they are for.
//!
//! Terms are built from their specs by a [`TermRegistry`] (the built-ins: [`BUILTIN_TERMS`],
//! one line each; a crate of yours adds a [`TermEntry`] with
//! [`TrainSettings::with_loss_term`](crate::TrainSettings::with_loss_term)). A term's head is a
//! [`TermHead`]: a decoder, an MLP projection, or any [`HeadStack`] of plain layers (convolution,
//! batch norm, ReLU, pooling, linear) — what a new term's head is made of.

use std::fmt::Debug;
use std::sync::Arc;

use burn::nn::loss::CrossEntropyLoss;
use burn::prelude::*;
use pgl_core::CoreError;
use pgl_core::objective::TermSpec;

use super::{BUILTIN_TERMS, InputImages, TermHead};
use crate::activation::Activation;
use crate::head::HeadStack;

/// Where a term's head is built: the module, the shape of its output, the network's input
/// images, and the model's way to copy its aux head's design.
pub struct TermSite<'a> {
    /// The module (0-based).
    pub module: usize,
    /// The module's output shape without the batch dimension (`[C, h, w]` or `[F]`).
    pub features: &'a [usize],
    /// The number of classes (outputs of the network's classifier).
    pub classes: usize,
    /// The network's input images (shape and normalisation).
    pub input: &'a InputImages,
    /// A head of the module's aux head design with the given number of outputs, or `None`
    /// when the model cannot make one ([`DecoupledModel::aux_head_like`](crate::DecoupledModel::aux_head_like)).
    pub aux_head_like: &'a dyn Fn(usize) -> Option<HeadStack>,
    /// The device the head lives on.
    pub device: &'a Device,
}

/// What a term's loss is computed from: the module's output and the batch.
pub struct TermInput<'a> {
    /// The module's output (attached: the loss's gradient flows into the module).
    pub features: Activation,
    /// Class labels `[batch]`.
    pub labels: &'a Tensor<1, Int>,
    /// The network's input images, when some term of the run needs them
    /// ([`LossTerm::needs_images`]).
    pub images: Option<&'a Activation>,
    /// The module's own head (its aux head, or the classifier for the last module):
    /// `features → [batch, classes]` logits.
    pub classify: &'a dyn Fn(Activation) -> Tensor<2>,
    /// The cross-entropy loss of the run.
    pub loss_fn: &'a CrossEntropyLoss,
}

/// One term of a module's local loss; see the [module documentation](self).
pub trait LossTerm: Send + Sync + Debug {
    /// The spec this term was built from.
    fn spec(&self) -> TermSpec;

    /// The term's head for the module at `site`, or `None` when the term has no parameters of
    /// its own (the default). The error says why the head cannot be built there.
    fn build_head(&self, site: &TermSite<'_>) -> Result<Option<TermHead>, String> {
        let _ = site;
        Ok(None)
    }

    /// Whether the loss compares with the network's input images (they are then kept for the
    /// local steps). `false` unless said otherwise.
    fn needs_images(&self) -> bool {
        false
    }

    /// The term's loss (a one-element tensor, averaged over the batch) for one module, with
    /// the head [`build_head`](Self::build_head) made for that module.
    fn loss(&self, input: &TermInput<'_>, head: Option<&TermHead>) -> Tensor<1>;
}

/// What a term needs when it is built from its spec: the network's input images, and whether
/// their normalisation is known (a term that de-normalises needs it).
pub struct TermSetup<'a> {
    /// Shape and per-channel normalisation of the input images.
    pub input: &'a InputImages,
    /// Whether `input`'s normalisation is the data's (`false`: it was not given, and `input`
    /// says "not normalised").
    pub normalisation_known: bool,
}

/// Builds a term from its spec (whose name is the entry's).
pub type TermBuildFn = fn(&TermSpec, &TermSetup<'_>) -> Result<Arc<dyn LossTerm>, CoreError>;

/// One line of the term table: a term's name and how it is built.
#[derive(Debug, Clone, Copy)]
pub struct TermEntry {
    /// The name objectives use for the term ([`TermSpec::name`]).
    pub name: &'static str,
    /// Builds the term from its spec.
    pub build: TermBuildFn,
}

/// The terms a trainer can compute, by name.
#[derive(Debug, Clone)]
pub struct TermRegistry {
    entries: Vec<TermEntry>,
}

impl Default for TermRegistry {
    fn default() -> Self {
        Self::with_builtins()
    }
}

impl TermRegistry {
    /// The built-in terms ([`BUILTIN_TERMS`]).
    pub fn with_builtins() -> Self {
        Self {
            entries: BUILTIN_TERMS.to_vec(),
        }
    }

    /// Adds `entry`; refused when its name is taken.
    pub fn register(&mut self, entry: TermEntry) -> Result<(), CoreError> {
        if self.entries.iter().any(|e| e.name == entry.name) {
            return Err(CoreError::DuplicateSchedule {
                name: entry.name.to_string(),
            });
        }
        self.entries.push(entry);
        Ok(())
    }

    /// The names of every term, in table order.
    pub fn names(&self) -> Vec<&'static str> {
        self.entries.iter().map(|e| e.name).collect()
    }

    /// The term `spec` names, built; the error names the term and, for an unknown one, every
    /// known term.
    pub fn build(
        &self,
        spec: &TermSpec,
        setup: &TermSetup<'_>,
    ) -> Result<Arc<dyn LossTerm>, CoreError> {
        let entry = self.entries.iter().find(|e| e.name == spec.name());
        let Some(entry) = entry else {
            let known = self.names().join(", ");
            let expected = format!("a loss term pgl can compute ({known})");
            return Err(spec.bad_value("(name)", spec.name(), &expected));
        };
        (entry.build)(spec, setup)
    }
}
