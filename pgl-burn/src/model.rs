//! [`DecoupledModel`]: a Burn module cut into K decoupled modules with one head each.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Gradients;

use crate::activation::Activation;

/// A network cut into K modules `f_1..f_K`, with an auxiliary head `a_k` after each module
/// k < K and the network's own classifier after module K.
///
/// Modules are indexed from 0. `head(k, ..)` is the auxiliary head of module `k` for
/// `k < K-1` and the classifier for `k = K-1`; each head belongs to its module: the module's
/// optimizer updates both, and [`module_grads`](Self::module_grads) returns both.
pub trait DecoupledModel: Module + Sized {
    /// Number of modules K (at least 1).
    fn num_modules(&self) -> usize;

    /// Forward of module `k`'s body.
    fn forward_module(&self, k: usize, input: Activation) -> Activation;

    /// Logits `[batch, classes]` of module `k`'s head on module `k`'s output.
    fn head(&self, k: usize, features: Activation) -> Tensor<2>;

    /// Removes from `grads` the gradients of module `k`'s parameters and of its head's.
    fn module_grads(&self, k: usize, grads: &mut Gradients) -> GradientsParams;

    /// Number of parameters of module `k` and its head.
    fn module_num_params(&self, k: usize) -> usize;

    /// The network's logits: every module in order, then the classifier.
    fn forward(&self, input: Activation) -> Tensor<2> {
        let last = self.num_modules() - 1;
        let mut x = input;
        for k in 0..=last {
            x = self.forward_module(k, x);
        }
        self.head(last, x)
    }
}

struct Initializer;

impl burn::module::ModuleVisitor for Initializer {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        let _ = param.val();
    }
}

/// Initialises every parameter of `module` now.
///
/// Burn initialises parameters lazily, at first use, from a process-wide generator; pgl calls
/// this right after `device.seed(seed)` and construction, so the seed alone determines the
/// initial weights, whatever else draws random numbers later.
pub fn initialize_now<M: Module>(module: &M) {
    module.visit(&mut Initializer);
}
