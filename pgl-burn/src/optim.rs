//! Per-module optimizers built from a [`RunConfig`].

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, ModuleOptimizer, SgdConfig};
use pgl_core::{OptimizerKind, RunConfig};

/// One fresh optimizer as configured (SGD with optional Nesterov momentum and weight decay,
/// or Adam with optional weight decay).
pub fn build_optimizer(config: &RunConfig) -> ModuleOptimizer {
    let decay =
        (config.weight_decay > 0.0).then(|| WeightDecayConfig::new(config.weight_decay as f32));
    match config.optimizer {
        OptimizerKind::Sgd => {
            let momentum = (config.momentum > 0.0).then_some(MomentumConfig {
                momentum: config.momentum,
                dampening: 0.0,
                nesterov: config.nesterov,
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
pub fn build_module_optimizers(config: &RunConfig, modules: usize) -> Vec<ModuleOptimizer> {
    (0..modules).map(|_| build_optimizer(config)).collect()
}
