//! The guidance knobs of issue 12 on real zoo models and the digits data: separate optimizer
//! state for global steps, a learning-rate scale for global steps, micro-batched global steps,
//! AdamW and `--no-decay-norm-bias`.

use pgl_burn::activation::batch_tensors;
use pgl_burn::burn::module::Module;
use pgl_burn::burn::prelude::*;
use pgl_burn::inspect::param_values;
use pgl_burn::{Activation, Trainer};
use pgl_core::{GlobalOptimizer, OptimizerKind, RunConfig, StepKind};
use pgl_core::{GuidanceConfig, ObjectiveConfig, OptimizerConfig};
use pgl_data::{DatasetSplits, load_dataset};
use pgl_models::DecoupledNet;
use pgl_models::testing::digits_trainer;

fn batch(n: usize, offset: usize) -> (Activation, Tensor<1, Int>) {
    let data: DatasetSplits = load_dataset("digits", None).unwrap();
    let indices: Vec<usize> = (offset..offset + n).collect();
    batch_tensors(&data.train.batch(&indices), &Device::flex().autodiff())
}

/// Every trainable parameter (not buffers such as BatchNorm's running statistics).
fn weights(trainer: &Trainer<DecoupledNet>) -> Vec<(String, Vec<f32>)> {
    param_values(trainer.model())
        .into_iter()
        .filter(|p| p.trainable)
        .map(|p| (p.path, p.values))
        .collect()
}

fn adam(global: GlobalOptimizer) -> RunConfig {
    RunConfig {
        optimizer: OptimizerConfig {
            kind: OptimizerKind::Adam,
            global_optimizer: global,
            ..Default::default()
        },
        objective: ObjectiveConfig {
            local_objective: "ce".to_string(),
        },
        ..RunConfig::default()
    }
}

fn step(trainer: &mut Trainer<DecoupledNet>, kind: StepKind, offset: usize) {
    let (images, labels) = batch(32, offset);
    trainer.step(kind, images, labels).expect("a finite step");
}

#[test]
fn separate_global_optimizers_keep_their_own_moments() {
    let mut trainer = digits_trainer("cnn", 4, &adam(GlobalOptimizer::Separate), 5);
    assert_eq!(
        trainer.optimizers().len(),
        8,
        "K local + K global optimizers"
    );
    step(&mut trainer, StepKind::Global, 0);
    let (local, global) = trainer.optimizers().split_at(4);
    assert!(
        local.iter().all(|o| o.to_record().is_empty()),
        "local state untouched"
    );
    assert!(global.iter().all(|o| !o.to_record().is_empty()));

    let mut trainer = digits_trainer("cnn", 4, &adam(GlobalOptimizer::Separate), 5);
    step(&mut trainer, StepKind::Local, 0);
    let (local, global) = trainer.optimizers().split_at(4);
    assert!(local.iter().all(|o| !o.to_record().is_empty()));
    assert!(
        global.iter().all(|o| o.to_record().is_empty()),
        "global state untouched"
    );
}

#[test]
fn separate_and_shared_optimizers_agree_until_the_step_kinds_mix() {
    // Global steps only: the separate optimizers see exactly what the shared ones see.
    let mut shared = digits_trainer("cnn", 4, &adam(GlobalOptimizer::Shared), 5);
    let mut separate = digits_trainer("cnn", 4, &adam(GlobalOptimizer::Separate), 5);
    for offset in [0, 32, 64] {
        step(&mut shared, StepKind::Global, offset);
        step(&mut separate, StepKind::Global, offset);
    }
    assert_eq!(weights(&shared), weights(&separate));
    // A local step after them starts from fresh moments with `separate`: the runs diverge.
    step(&mut shared, StepKind::Local, 96);
    step(&mut separate, StepKind::Local, 96);
    assert_ne!(weights(&shared), weights(&separate));
}

/// Plain SGD (no momentum): an update is `-lr · gradient`.
fn sgd(lr: f64) -> RunConfig {
    RunConfig {
        optimizer: OptimizerConfig {
            kind: OptimizerKind::Sgd,
            momentum: 0.0,
            lr,
            ..Default::default()
        },
        objective: ObjectiveConfig {
            local_objective: "ce".to_string(),
        },
        ..RunConfig::default()
    }
}

/// `after - before` of every parameter, flattened.
fn update(before: &[(String, Vec<f32>)], after: &[(String, Vec<f32>)]) -> Vec<f32> {
    before
        .iter()
        .zip(after)
        .flat_map(|((_, b), (_, a))| b.iter().zip(a).map(|(b, a)| a - b))
        .collect()
}

#[test]
fn the_global_lr_scale_scales_global_updates_only() {
    let global_update = |scale: f64, kind: StepKind| {
        let config = RunConfig {
            guidance: GuidanceConfig {
                global_lr_scale: scale,
                ..sgd(0.01).guidance
            },
            ..sgd(0.01)
        };
        let mut trainer = digits_trainer("mlp", 3, &config, 9);
        let before = weights(&trainer);
        step(&mut trainer, kind, 0);
        update(&before, &weights(&trainer))
    };
    let plain = global_update(1.0, StepKind::Global);
    let tripled = global_update(3.0, StepKind::Global);
    assert!(plain.iter().any(|d| d.abs() > 1e-6));
    for (p, t) in plain.iter().zip(&tripled) {
        assert!((3.0 * p - t).abs() <= 1e-6 + 1e-4 * t.abs(), "{p} {t}");
    }
    assert_eq!(
        global_update(1.0, StepKind::Local),
        global_update(3.0, StepKind::Local),
        "local steps ignore the global scale"
    );
}

#[test]
fn microbatched_global_steps_accumulate_the_micro_batches_gradients() {
    // A micro-batched step moves the weights by the share-weighted sum of the plain steps
    // each micro-batch would take on its own (BatchNorm normalising by its statistics).
    let config = |microbatch: Option<usize>| RunConfig {
        guidance: GuidanceConfig {
            global_microbatch: microbatch,
            aux_weight: 0.5,
            ..sgd(0.1).guidance
        },
        ..sgd(0.1)
    };
    let run = |microbatch: Option<usize>, size: usize, offset: usize| {
        let mut trainer = digits_trainer("mlp", 3, &config(microbatch), 9);
        let before = weights(&trainer);
        let (images, labels) = batch(size, offset);
        let outcome = trainer.step(StepKind::Global, images, labels).unwrap();
        (update(&before, &weights(&trainer)), outcome)
    };
    let (whole, _) = run(None, 30, 0);
    assert_eq!(
        run(Some(1), 30, 0).0,
        whole,
        "one micro-batch is the plain step"
    );
    for (parts, lengths) in [
        (2, vec![15, 15]),
        (4, vec![8, 8, 7, 7]),
        (3, vec![10, 10, 10]),
    ] {
        let (parted, outcome) = run(Some(parts), 30, 0);
        let mut expected = vec![0.0f32; parted.len()];
        let mut expected_losses = [0.0f32; 3];
        let mut offset = 0;
        for len in lengths {
            let share = len as f32 / 30.0;
            let (alone, alone_outcome) = run(None, len, offset);
            for (e, a) in expected.iter_mut().zip(alone) {
                *e += share * a;
            }
            for (e, l) in expected_losses.iter_mut().zip(&alone_outcome.module_losses) {
                *e += share * l.unwrap();
            }
            offset += len;
        }
        assert_ne!(parted, whole, "M={parts}: BatchNorm sees micro-batches");
        for (e, p) in expected.iter().zip(&parted) {
            assert!(
                (e - p).abs() <= 1e-6 + 1e-4 * e.abs(),
                "M={parts}: {e} vs {p}"
            );
        }
        for (e, l) in expected_losses.iter().zip(&outcome.module_losses) {
            assert!(
                (e - l.unwrap()).abs() < 1e-5,
                "M={parts}: loss {e} vs {l:?}"
            );
        }
        assert_eq!(Some(outcome.loss), outcome.module_losses[2]);
    }
}

#[test]
fn no_decay_norm_bias_spares_exactly_the_rank_one_parameters() {
    let run = |optimizer: OptimizerKind, weight_decay: f64, no_decay_norm_bias: bool| {
        let config = RunConfig {
            optimizer: OptimizerConfig {
                kind: optimizer,
                lr: 0.01,
                momentum: 0.0,
                weight_decay,
                no_decay_norm_bias,
                ..Default::default()
            },
            objective: ObjectiveConfig {
                local_objective: "ce".to_string(),
            },
            ..RunConfig::default()
        };
        let mut trainer = digits_trainer("cnn", 2, &config, 4);
        step(&mut trainer, StepKind::Local, 0);
        weights(&trainer)
    };
    for optimizer in [
        OptimizerKind::Sgd,
        OptimizerKind::Adam,
        OptimizerKind::AdamW,
    ] {
        let undecayed = run(optimizer, 0.0, false);
        let spared = run(optimizer, 0.5, true);
        let decayed = run(optimizer, 0.5, false);
        let mut saw = (0, 0);
        let mut decay_reaches_rank_one = false;
        for ((path, free), ((_, s), (_, d))) in undecayed.iter().zip(spared.iter().zip(&decayed)) {
            let rank_one =
                path.ends_with("bias") || path.ends_with("gamma") || path.ends_with("beta");
            if rank_one {
                assert_eq!(s, free, "{optimizer:?} {path}: no decay");
                // (A parameter initialised to 0, as BatchNorm's β, has nothing to decay.)
                decay_reaches_rank_one |= d != free;
                saw.0 += 1;
            } else {
                assert_eq!(s, d, "{optimizer:?} {path}: weights still decay");
                assert_ne!(s, free, "{optimizer:?} {path}");
                saw.1 += 1;
            }
        }
        assert!(saw.0 > 0 && saw.1 > 0, "{saw:?}");
        assert!(
            decay_reaches_rank_one,
            "{optimizer:?}: without the flag biases decay"
        );
    }
}

#[test]
fn adamw_decays_weights_decoupled_from_the_gradient() {
    // With decay 0 AdamW is Adam; with decay it shrinks weights by lr · decay · w on top.
    let run = |optimizer: OptimizerKind, weight_decay: f64| {
        let config = RunConfig {
            optimizer: OptimizerConfig {
                kind: optimizer,
                lr: 0.01,
                weight_decay,
                ..Default::default()
            },
            objective: ObjectiveConfig {
                local_objective: "ce".to_string(),
            },
            ..RunConfig::default()
        };
        let mut trainer = digits_trainer("mlp", 2, &config, 4);
        let before = weights(&trainer);
        step(&mut trainer, StepKind::Local, 0);
        (before, weights(&trainer))
    };
    let (before, adam) = run(OptimizerKind::Adam, 0.0);
    let (_, adamw) = run(OptimizerKind::AdamW, 0.0);
    let (_, decayed) = run(OptimizerKind::AdamW, 0.5);
    for (((_, w0), (_, a)), ((_, aw), (_, d))) in
        before.iter().zip(&adam).zip(adamw.iter().zip(&decayed))
    {
        for (((w0, a), aw), d) in w0.iter().zip(a).zip(aw).zip(d) {
            assert!((a - aw).abs() <= 1e-6, "adamw(0) = adam");
            // Decoupled: the decayed run moves by the same Adam step plus -lr·λ·w0.
            let expected = aw - 0.01 * 0.5 * w0;
            assert!(
                (d - expected).abs() <= 1e-5 + 1e-4 * expected.abs(),
                "{d} vs {expected}"
            );
        }
    }
}

#[test]
fn checkpointed_global_steps_compute_the_plain_global_step() {
    // The CNN has BatchNorm, in its blocks and in its default `1c2f` aux heads: every running
    // statistic must also end as after a plain step (aux heads' only with `aux_weight` > 0).
    for aux_weight in [0.0, 0.5] {
        let run = |checkpointing: bool, microbatch: Option<usize>| {
            let config = RunConfig {
                guidance: GuidanceConfig {
                    global_checkpointing: checkpointing,
                    global_microbatch: microbatch,
                    aux_weight,
                    ..sgd(0.1).guidance
                },
                ..sgd(0.1)
            };
            let mut trainer = digits_trainer("cnn", 4, &config, 11);
            let (images, labels) = batch(32, 0);
            let outcome = trainer.step(StepKind::Global, images, labels).unwrap();
            // `valid` folds pending running-statistics updates into the values read here.
            let _ = trainer.model().valid();
            (param_values(trainer.model()), outcome)
        };
        for microbatch in [None, Some(3)] {
            let (plain, plain_outcome) = run(false, microbatch);
            let (recomputed, outcome) = run(true, microbatch);
            assert_eq!(plain.len(), recomputed.len());
            for (p, r) in plain.iter().zip(&recomputed) {
                assert_eq!(p.path, r.path);
                if !p.trainable {
                    assert_eq!(p.values, r.values, "buffer {} (aux {aux_weight})", p.path);
                    continue;
                }
                for (a, b) in p.values.iter().zip(&r.values) {
                    assert!(
                        (a - b).abs() <= 1e-6 + 1e-5 * a.abs(),
                        "{}: {a} vs {b}",
                        p.path
                    );
                }
            }
            assert_eq!(
                outcome.module_losses.len(),
                plain_outcome.module_losses.len()
            );
            for (a, b) in outcome
                .module_losses
                .iter()
                .zip(&plain_outcome.module_losses)
            {
                assert_eq!(a.is_some(), b.is_some());
                if let (Some(a), Some(b)) = (a, b) {
                    assert!(
                        (a - b).abs() < 1e-5,
                        "aux {aux_weight} M={microbatch:?}: {a} vs {b}"
                    );
                }
            }
        }
    }
}
