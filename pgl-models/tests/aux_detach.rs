//! `--global-aux-detach` (issue 24): in global steps the aux losses train the aux heads only;
//! the modules learn from the classifier's loss alone, as with aux weight 0.

use pgl_burn::activation::batch_tensors;
use pgl_burn::burn::module::Module;
use pgl_burn::burn::prelude::*;
use pgl_burn::inspect::param_values;
use pgl_core::{GuidanceConfig, OptimizerConfig};
use pgl_core::{OptimizerKind, RunConfig, StepKind};
use pgl_data::load_dataset;
use pgl_models::testing::digits_trainer;

/// Every parameter and buffer after one global step of `config` on 32 digits, by path.
fn after_global_step(config: &RunConfig) -> Vec<(String, Vec<u32>)> {
    let data = load_dataset("digits", None).unwrap();
    let indices: Vec<usize> = (0..32).collect();
    let (images, labels) = batch_tensors(&data.train.batch(&indices), &Device::flex().autodiff());
    let mut trainer = digits_trainer("mlp", 3, config, 6);
    trainer.step(StepKind::Global, images, labels).unwrap();
    // `valid` folds pending BatchNorm running-statistics updates into the values read here.
    let _ = trainer.model().valid();
    param_values(trainer.model())
        .into_iter()
        .map(|p| (p.path, p.values.iter().map(|v| v.to_bits()).collect()))
        .collect()
}

fn parts(all: &[(String, Vec<u32>)], wanted: &str) -> Vec<(String, Vec<u32>)> {
    all.iter()
        .filter(|(path, _)| path.contains(wanted))
        .cloned()
        .collect()
}

#[test]
fn detached_aux_losses_train_the_heads_and_leave_the_modules_to_the_classifier() {
    let config = |aux_weight: f64, aux_detach: bool| RunConfig {
        optimizer: OptimizerConfig {
            kind: OptimizerKind::Sgd,
            momentum: 0.0,
            lr: 0.05,
            ..Default::default()
        },
        guidance: GuidanceConfig {
            aux_weight,
            global_aux_detach: aux_detach,
            ..Default::default()
        },
        ..RunConfig::default()
    };
    let detached = after_global_step(&config(1.0, true));
    let classifier_only = after_global_step(&config(0.0, false));
    let joint = after_global_step(&config(1.0, false));
    // Module bodies: as if the aux losses were not there.
    assert_eq!(
        parts(&detached, ".body."),
        parts(&classifier_only, ".body.")
    );
    assert_ne!(parts(&detached, ".body."), parts(&joint, ".body."));
    // Aux heads: the same gradient as with the aux losses reaching the modules (a head's
    // gradient does not depend on where its input's gradient goes).
    assert_eq!(parts(&detached, ".head."), parts(&joint, ".head."));
    assert_ne!(
        parts(&detached, ".head."),
        parts(&classifier_only, ".head.")
    );
}

#[test]
fn checkpointed_global_steps_detach_the_aux_losses_too() {
    let config = |checkpointing: bool| RunConfig {
        optimizer: OptimizerConfig {
            kind: OptimizerKind::Sgd,
            momentum: 0.0,
            lr: 0.05,
            ..Default::default()
        },
        guidance: GuidanceConfig {
            aux_weight: 1.0,
            global_aux_detach: true,
            global_checkpointing: checkpointing,
            ..Default::default()
        },
        ..RunConfig::default()
    };
    let plain = after_global_step(&config(false));
    let recomputed = after_global_step(&config(true));
    for ((path, a), (_, b)) in plain.iter().zip(&recomputed) {
        for (a, b) in a.iter().zip(b) {
            let (a, b) = (f32::from_bits(*a), f32::from_bits(*b));
            assert!((a - b).abs() <= 1e-6 + 1e-5 * a.abs(), "{path}: {a} vs {b}");
        }
    }
    // And the modules learned from the classifier alone there too.
    let classifier_only = after_global_step(&RunConfig {
        guidance: GuidanceConfig {
            aux_weight: 0.0,
            global_aux_detach: false,
            ..config(true).guidance
        },
        ..config(true)
    });
    for ((path, a), (_, b)) in parts(&recomputed, ".body.")
        .iter()
        .zip(&parts(&classifier_only, ".body."))
    {
        for (a, b) in a.iter().zip(b) {
            let (a, b) = (f32::from_bits(*a), f32::from_bits(*b));
            assert!((a - b).abs() <= 1e-6 + 1e-5 * a.abs(), "{path}: {a} vs {b}");
        }
    }
}
