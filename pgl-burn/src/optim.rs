//! Per-module optimizers: [`OptimizerSettings`] (from a [`RunConfig`]) and the fresh
//! optimizers built from them.

use burn::module::{Module, ModuleVisitor, Param, ParamGroup, ParamId};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use pgl_core::{GlobalOptimizer, OptimizerKind, RunConfig};

/// Which optimizer every module gets, with its hyper-parameters (the learning rate is given
/// per step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimizerSettings {
    /// SGD, Adam or AdamW.
    pub kind: OptimizerKind,
    /// SGD momentum (0: none); ignored by Adam and AdamW.
    pub momentum: f64,
    /// Nesterov momentum with SGD.
    pub nesterov: bool,
    /// Weight decay (0: none): L2 for SGD and Adam, decoupled for AdamW.
    pub weight_decay: f64,
    /// No weight decay on parameters of rank 1 (biases, BatchNorm's γ and β).
    pub no_decay_norm_bias: bool,
    /// Whether global steps have optimizers of their own.
    pub global: GlobalOptimizer,
}

impl OptimizerSettings {
    /// The optimizer fields of `config`.
    pub fn from_config(config: &RunConfig) -> Self {
        Self {
            kind: config.optimizer,
            momentum: config.momentum,
            nesterov: config.nesterov,
            weight_decay: config.weight_decay,
            no_decay_norm_bias: config.no_decay_norm_bias,
            global: config.global_optimizer,
        }
    }

    /// One fresh optimizer for `model`'s parameters: SGD with optional Nesterov momentum and
    /// L2 weight decay, Adam with optional L2 weight decay, or AdamW with decoupled weight
    /// decay; with [`no_decay_norm_bias`](Self::no_decay_norm_bias), the parameters of rank 1
    /// of `model` get the same optimizer without weight decay.
    pub fn build<M: Module>(&self, model: &M) -> ModuleOptimizer {
        let optimizer = self.build_with_decay(self.weight_decay);
        if !(self.no_decay_norm_bias && self.weight_decay > 0.0) {
            return optimizer;
        }
        let group = ParamGroup::from_ids(rank_one_parameters(model));
        match self.kind {
            OptimizerKind::Sgd => optimizer.with_group(group, self.sgd(0.0).build(), None),
            OptimizerKind::Adam => optimizer.with_group(group, adam(0.0).build(), None),
            OptimizerKind::AdamW => optimizer.with_group(group, adamw(0.0).build(), None),
        }
    }

    /// The optimizers of a trainer for `model` with `modules` modules: one per module (its
    /// body, its head), followed by one more per module for global steps when
    /// [`global`](Self::global) is [`GlobalOptimizer::Separate`].
    pub fn build_per_module<M: Module>(&self, model: &M, modules: usize) -> Vec<ModuleOptimizer> {
        let sets = match self.global {
            GlobalOptimizer::Shared => 1,
            GlobalOptimizer::Separate => 2,
        };
        (0..modules * sets).map(|_| self.build(model)).collect()
    }

    /// Every parameter's optimizer with weight decay `weight_decay`.
    fn build_with_decay(&self, weight_decay: f64) -> ModuleOptimizer {
        match self.kind {
            OptimizerKind::Sgd => self.sgd(weight_decay).init(),
            OptimizerKind::Adam => adam(weight_decay).init(),
            OptimizerKind::AdamW => adamw(weight_decay).init(),
        }
    }

    /// SGD with this setting's momentum and L2 weight decay `weight_decay`.
    fn sgd(&self, weight_decay: f64) -> SgdConfig {
        let momentum = (self.momentum > 0.0).then_some(MomentumConfig {
            momentum: self.momentum,
            dampening: 0.0,
            nesterov: self.nesterov,
        });
        SgdConfig::new()
            .with_momentum(momentum)
            .with_weight_decay(l2(weight_decay))
    }
}

/// L2 weight decay `weight_decay` (`None` for 0).
fn l2(weight_decay: f64) -> Option<WeightDecayConfig> {
    (weight_decay > 0.0).then(|| WeightDecayConfig::new(weight_decay as f32))
}

/// Adam with L2 weight decay `weight_decay`.
fn adam(weight_decay: f64) -> AdamConfig {
    AdamConfig::new().with_weight_decay(l2(weight_decay))
}

/// AdamW with decoupled weight decay `weight_decay`; its other settings are Adam's
/// (β₁ 0.9, β₂ 0.999, ε 1e-5), so Adam and AdamW differ only in how they decay.
fn adamw(weight_decay: f64) -> AdamWConfig {
    AdamWConfig::new().with_weight_decay(weight_decay as f32)
}

/// The ids of `model`'s float parameters of rank 1: biases and normalisation scales/shifts.
pub fn rank_one_parameters<M: Module>(model: &M) -> Vec<ParamId> {
    /// Collects the ids of rank-1 float parameters.
    struct RankOne(Vec<ParamId>);
    impl ModuleVisitor for RankOne {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if D == 1 {
                self.0.push(param.id);
            }
        }
    }
    let mut visitor = RankOne(Vec::new());
    model.visit(&mut visitor);
    visitor.0
}
