//! Bring your own layers: [`StagedNet`], a [`DecoupledModel`] made of any Burn modules that
//! implement [`Stage`] (a module's body and its head). Everything the engine does with a
//! model — local and global steps, per-module gradients, pipeline groups, checkpoints, exact
//! resume, safetensors export with pgl's names — works for a `StagedNet` without more user
//! code than the two forward functions.
//!
//! ```
//! use pgl_burn::burn::module::Module;
//! use pgl_burn::burn::nn::{Linear, LinearConfig};
//! use pgl_burn::burn::prelude::*;
//! use pgl_burn::staged::{Stage, StagedNet};
//! use pgl_burn::{Activation, DecoupledModel};
//!
//! /// A linear layer with a GELU, and a linear head.
//! #[derive(Module, Debug)]
//! struct Dense {
//!     body: Linear,
//!     head: Linear,
//! }
//!
//! impl Stage for Dense {
//!     fn forward(&self, input: Activation) -> Activation {
//!         let x = input.into_flat();
//!         Activation::Flat(pgl_burn::burn::tensor::activation::gelu(self.body.forward(x)))
//!     }
//!     fn head(&self, features: Activation) -> Tensor<2> {
//!         self.head.forward(features.into_flat())
//!     }
//! }
//!
//! let device = Device::flex().autodiff();
//! let dense = |inputs, outputs| Dense {
//!     body: LinearConfig::new(inputs, outputs).init(&device),
//!     head: LinearConfig::new(outputs, 10).init(&device),
//! };
//! let net = StagedNet::new(vec![dense(64, 32), dense(32, 32)]);
//! assert_eq!(net.num_modules(), 2);
//! let logits = net.forward(Activation::Flat(Tensor::<2>::zeros([3, 64], &device)));
//! assert_eq!(logits.dims(), [3, 10]);
//! ```

use burn::module::{Module, ModuleDisplay};
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Gradients;

use crate::activation::Activation;
use crate::model::{DecoupledModel, split_into_groups};

/// One module of a [`StagedNet`]: any Burn module with a body and a head. The head of the
/// last stage is the network's classifier; the others' are the auxiliary heads of local
/// learning.
pub trait Stage: Module + ModuleDisplay + Sync {
    /// The module's output for `input` (the previous module's output, or the images).
    fn forward(&self, input: Activation) -> Activation;

    /// The head's logits `[batch, classes]` on this module's output `features`.
    fn head(&self, features: Activation) -> Tensor<2>;
}

/// A network of stages of the user's own type `S`, one stage per decoupled module.
#[derive(Module, Debug)]
pub struct StagedNet<S: Stage> {
    /// The stages, in order.
    pub stages: Vec<S>,
}

impl<S: Stage> StagedNet<S> {
    /// The network of `stages`, module after module.
    ///
    /// # Panics
    /// When `stages` is empty (a network has at least one module).
    pub fn new(stages: Vec<S>) -> Self {
        assert!(!stages.is_empty(), "a StagedNet needs at least one stage");
        Self { stages }
    }
}

impl<S: Stage> DecoupledModel for StagedNet<S> {
    fn num_modules(&self) -> usize {
        self.stages.len()
    }

    fn forward_module(&self, k: usize, input: Activation) -> Activation {
        self.stages[k].forward(input)
    }

    fn head(&self, k: usize, features: Activation) -> Tensor<2> {
        self.stages[k].head(features)
    }

    fn module_grads(&self, k: usize, grads: &mut Gradients) -> GradientsParams {
        GradientsParams::from_module(grads, &self.stages[k])
    }

    fn module_num_params(&self, k: usize) -> usize {
        Module::num_params(&self.stages[k])
    }

    fn into_groups(self, sizes: &[usize]) -> Vec<Self> {
        assert_eq!(
            sizes.iter().sum::<usize>(),
            self.stages.len(),
            "group sizes must cover every module"
        );
        split_into_groups(self.stages, sizes)
            .into_iter()
            .map(|stages| Self { stages })
            .collect()
    }

    fn from_groups(groups: Vec<Self>) -> Self {
        Self {
            stages: groups.into_iter().flat_map(|g| g.stages).collect(),
        }
    }
}
