//! Per-module optimizers: the fresh optimizers a run's [`OptimizerConfig`] builds
//! ([`BuildOptimizers`]).

use std::collections::BTreeSet;

use burn::module::{Module, ModuleVisitor, Param, ParamGroup};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use pgl_core::{GlobalOptimizer, OptimizerConfig, OptimizerKind};

/// Builds fresh per-module optimizers from the run's [`OptimizerConfig`] (the group the
/// trainer holds; the learning rate is given per step).
pub trait BuildOptimizers {
    /// One fresh optimizer for `model`'s parameters: SGD with optional Nesterov momentum and
    /// L2 weight decay, Adam with optional L2 weight decay, or AdamW with decoupled weight
    /// decay; with `no_decay_norm_bias`, the parameters of rank 1 of `model` get the same
    /// optimizer without weight decay.
    fn build<M: Module>(&self, model: &M) -> ModuleOptimizer;

    /// The optimizers of a trainer for `model` with `modules` modules: one per module (its
    /// body, its head), followed by one more per module for global steps when
    /// `global_optimizer` is [`GlobalOptimizer::Separate`].
    fn build_per_module<M: Module>(&self, model: &M, modules: usize) -> Vec<ModuleOptimizer>;
}

impl BuildOptimizers for OptimizerConfig {
    fn build<M: Module>(&self, model: &M) -> ModuleOptimizer {
        let optimizer = build_with_decay(self, self.weight_decay);
        if !(self.no_decay_norm_bias && self.weight_decay > 0.0) {
            return optimizer;
        }
        // By parameter name, not by id or full path: a checkpoint restores weights with their
        // saved ids, and a pipeline worker steps a part of the model whose paths are renumbered;
        // the names stay.
        let names = rank_one_parameter_names(model);
        if names.is_empty() {
            return optimizer;
        }
        let pattern = format!(r"(^|\.)({})$", names.join("|"));
        let group = ParamGroup::from_regex(&pattern).expect("parameter names are identifiers");
        match self.kind {
            OptimizerKind::Sgd => optimizer.with_group(group, sgd(self, 0.0).build(), None),
            OptimizerKind::Adam => optimizer.with_group(group, adam(0.0).build(), None),
            OptimizerKind::AdamW => optimizer.with_group(group, adamw(0.0).build(), None),
        }
    }

    fn build_per_module<M: Module>(&self, model: &M, modules: usize) -> Vec<ModuleOptimizer> {
        let sets = match self.global_optimizer {
            GlobalOptimizer::Shared => 1,
            GlobalOptimizer::Separate => 2,
        };
        (0..modules * sets).map(|_| self.build(model)).collect()
    }
}

/// Every parameter's optimizer of `config` with weight decay `weight_decay`.
fn build_with_decay(config: &OptimizerConfig, weight_decay: f64) -> ModuleOptimizer {
    match config.kind {
        OptimizerKind::Sgd => sgd(config, weight_decay).init(),
        OptimizerKind::Adam => adam(weight_decay).init(),
        OptimizerKind::AdamW => adamw(weight_decay).init(),
    }
}

/// SGD with `config`'s momentum and L2 weight decay `weight_decay`.
fn sgd(config: &OptimizerConfig, weight_decay: f64) -> SgdConfig {
    let momentum = (config.momentum > 0.0).then_some(MomentumConfig {
        momentum: config.momentum,
        dampening: 0.0,
        nesterov: config.nesterov,
    });
    SgdConfig::new()
        .with_momentum(momentum)
        .with_weight_decay(l2(weight_decay))
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

/// The names (last path component, e.g. `bias`, `gamma`, `beta`) of `model`'s float
/// parameters of rank 1 (biases, normalisation scales and shifts), leaving out any name that
/// some parameter of higher rank also has, and any that is not a plain identifier.
pub fn rank_one_parameter_names<M: Module>(model: &M) -> Vec<String> {
    /// Collects parameter names by rank.
    #[derive(Default)]
    struct Names {
        current: Vec<String>,
        rank_one: BTreeSet<String>,
        higher: BTreeSet<String>,
    }
    impl ModuleVisitor for Names {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.current.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.current.pop();
        }
        fn visit_float<const D: usize>(&mut self, _param: &Param<Tensor<D>>) {
            let name = self.current.last().cloned().unwrap_or_default();
            if D == 1 {
                self.rank_one.insert(name);
            } else {
                self.higher.insert(name);
            }
        }
    }
    let mut names = Names::default();
    model.visit(&mut names);
    let identifier =
        |n: &String| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    names
        .rank_one
        .difference(&names.higher)
        .filter(|n| identifier(n))
        .cloned()
        .collect()
}
