//! [`ModelState`]: what training steps change — the model, the local objective's extra heads
//! and the per-module optimizers — kept together, so that a step takes and returns it as one
//! value and the pipeline splits it into groups and rejoins it as one unit.

use burn::optim::{GradientsParams, ModuleOptimizer};

use crate::model::{DecoupledModel, settle_running_stats, split_into_groups};
use crate::objective::ObjectiveHeads;

/// The model, its objective heads and its optimizers (see the module documentation).
pub(crate) struct ModelState<M> {
    /// The model (the whole network, or a pipeline group of consecutive modules).
    pub model: M,
    /// The local objective's extra heads of the model's modules (empty with `ce`).
    pub heads: ObjectiveHeads,
    /// One optimizer per module for local steps (and for global steps when they share it),
    /// then, with [`GlobalOptimizer::Separate`](pgl_core::GlobalOptimizer::Separate), one more
    /// per module for global steps. A pipeline group holds its modules' local ones only.
    pub optimizers: Vec<ModuleOptimizer>,
}

impl<M: DecoupledModel> ModelState<M> {
    /// Number of modules of the model.
    pub fn num_modules(&self) -> usize {
        self.model.num_modules()
    }

    /// Steps modules `first..` (one entry of `grads` each, in order) with their global-step
    /// optimizers — the separate ones when the run has them, otherwise the local ones — at
    /// learning rate `lr`.
    pub fn apply_global(mut self, first: usize, lr: f64, grads: Vec<GradientsParams>) -> Self {
        let modules = self.num_modules();
        let offset = if self.optimizers.len() > modules {
            modules
        } else {
            0
        };
        for (k, grads) in (first..modules).zip(grads) {
            self.model = self.optimizers[offset + k].step(lr, self.model, grads);
        }
        self
    }

    /// Splits the state into consecutive groups of `sizes` modules, each with its modules'
    /// heads and local optimizers; the separate global-step optimizers (which no local step
    /// uses) come back apart. BatchNorm's pending running-statistics updates are settled first,
    /// since the groups move to other threads.
    pub fn into_groups(self, sizes: &[usize]) -> (Vec<Self>, Vec<ModuleOptimizer>) {
        settle_running_stats(&self.model);
        settle_running_stats(&self.heads);
        let mut optimizers = self.optimizers;
        let global = optimizers.split_off(self.model.num_modules());
        let heads = self.heads.into_groups(sizes);
        let groups = self
            .model
            .into_groups(sizes)
            .into_iter()
            .zip(heads)
            .zip(split_into_groups(optimizers, sizes))
            .map(|((model, heads), optimizers)| Self {
                model,
                heads,
                optimizers,
            })
            .collect();
        (groups, global)
    }

    /// The inverse of [`into_groups`](Self::into_groups): the groups, in module order, and the
    /// separate global-step optimizers. Running statistics are settled, as the groups come
    /// from other threads.
    pub fn from_groups(groups: Vec<Self>, global: Vec<ModuleOptimizer>) -> Self {
        let mut models = Vec::with_capacity(groups.len());
        let mut heads = Vec::with_capacity(groups.len());
        let mut optimizers = Vec::new();
        for group in groups {
            models.push(group.model);
            heads.push(group.heads);
            optimizers.extend(group.optimizers);
        }
        optimizers.extend(global);
        let state = Self {
            model: M::from_groups(models),
            heads: ObjectiveHeads::from_groups(heads),
            optimizers,
        };
        settle_running_stats(&state.model);
        settle_running_stats(&state.heads);
        state
    }
}
