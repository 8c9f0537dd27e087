//! Global-gradient replay (`--global-replay β`): a global step leaves behind, for every
//! module, β times the gradient of the global loss it applied to that module; every local
//! step until the next global step adds it to the module's own local gradient before the
//! module's optimizer steps. A global step's direction then keeps acting between global
//! steps — explicitly, and with any optimizer (the guidance study found that Adam's shared
//! first moment does this implicitly: separate moment buffers halved what guidance won back).
//!
//! The replayed gradients are kept as a [`ReplayBuffer`]: a copy of the model whose every
//! parameter holds β·(its global gradient), zeros where the global step gave none. Being
//! model-shaped, it is saved and loaded like the model (`replay.bpk` in a checkpoint) and
//! split into the pipeline's groups like the model, so pipelined and resumed runs replay
//! exactly what a sequential, uninterrupted one does. It only ever adds to gradients of
//! parameters a local step computed, so BatchNorm's running statistics (which have none) and
//! the local objective's extra heads (not part of the model) are never touched.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;

/// β times the gradients of the latest global step, shaped like the model (see the module
/// documentation). Its parameter ids are the model's, which is how it finds them.
#[derive(Debug, Clone)]
pub struct ReplayBuffer<M> {
    /// The model's shape, with β·gradient values (an evaluation copy: no autodiff).
    values: M,
}

impl<M: Module> ReplayBuffer<M> {
    /// β times `grads` (every module's gradients of one global step), shaped like `model`.
    pub fn capture(model: &M, grads: &[GradientsParams], beta: f64) -> Self {
        /// Puts β·gradient into every parameter, zeros where no gradient was computed.
        struct Capture<'a> {
            grads: &'a [GradientsParams],
            beta: f32,
        }
        impl ModuleMapper for Capture<'_> {
            fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
                let id = param.id;
                let found = self.grads.iter().find_map(|g| g.get::<D>(id));
                let value = match found {
                    Some(grad) => grad.mul_scalar(self.beta),
                    None => param.val().zeros_like(),
                };
                Param::initialized(id, value)
            }
        }
        let mut capture = Capture {
            grads,
            beta: beta as f32,
        };
        Self {
            values: model.valid().map(&mut capture),
        }
    }

    /// Adds the replayed gradient of every parameter that `grads` (one module's local
    /// gradients) holds a gradient for.
    pub fn add_to(&self, grads: &mut GradientsParams) {
        /// Adds the buffer's value to each gradient present.
        struct Add<'a>(&'a mut GradientsParams);
        impl ModuleVisitor for Add<'_> {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                if let Some(local) = self.0.remove::<D>(param.id) {
                    self.0.register(param.id, local + param.val());
                }
            }
        }
        self.values.visit(&mut Add(grads));
    }

    /// The buffer as a model (for saving: `replay.bpk`).
    pub fn values(&self) -> &M {
        &self.values
    }

    /// A buffer from `values` loaded into an evaluation copy of the model being trained.
    pub fn from_values(values: M) -> Self {
        Self { values }
    }
}

impl<M: crate::DecoupledModel> ReplayBuffer<M> {
    /// The buffer cut like the model into groups of `sizes` modules (for pipeline workers).
    pub fn into_groups(self, sizes: &[usize]) -> Vec<Self> {
        self.values
            .into_groups(sizes)
            .into_iter()
            .map(|values| Self { values })
            .collect()
    }
}
