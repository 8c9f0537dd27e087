//! Per-module optimizers: [`OptimizerSettings`] (from a [`RunConfig`]) and the fresh
//! optimizers built from them.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, ModuleOptimizer, SgdConfig};
use pgl_core::{OptimizerKind, RunConfig};

/// Which optimizer every module gets, with its hyper-parameters (the learning rate is given
/// per step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OptimizerSettings {
    /// SGD or Adam.
    pub kind: OptimizerKind,
    /// SGD momentum (0: none); ignored by Adam.
    pub momentum: f64,
    /// Nesterov momentum with SGD.
    pub nesterov: bool,
    /// L2 weight decay (0: none).
    pub weight_decay: f64,
}

impl OptimizerSettings {
    /// The optimizer fields of `config`.
    pub fn from_config(config: &RunConfig) -> Self {
        Self {
            kind: config.optimizer,
            momentum: config.momentum,
            nesterov: config.nesterov,
            weight_decay: config.weight_decay,
        }
    }

    /// One fresh optimizer (SGD with optional Nesterov momentum and weight decay, or Adam
    /// with optional weight decay).
    pub fn build(&self) -> ModuleOptimizer {
        let decay =
            (self.weight_decay > 0.0).then(|| WeightDecayConfig::new(self.weight_decay as f32));
        match self.kind {
            OptimizerKind::Sgd => {
                let momentum = (self.momentum > 0.0).then_some(MomentumConfig {
                    momentum: self.momentum,
                    dampening: 0.0,
                    nesterov: self.nesterov,
                });
                SgdConfig::new()
                    .with_momentum(momentum)
                    .with_weight_decay(decay)
                    .init()
            }
            OptimizerKind::Adam => AdamConfig::new().with_weight_decay(decay).init(),
        }
    }

    /// `modules` independent optimizers, one per module (its body, its head).
    pub fn build_per_module(&self, modules: usize) -> Vec<ModuleOptimizer> {
        (0..modules).map(|_| self.build()).collect()
    }
}
