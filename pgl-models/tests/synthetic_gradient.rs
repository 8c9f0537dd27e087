//! Synthetic gradients trained by the global steps (`--synthetic-gradient α`, issue 24): the
//! predictors start at zero and learn only in global steps; a local step adds α times their
//! prediction (linear in α); runs resume exactly and pipeline bit-identically; settings the
//! predictors cannot learn from are refused.

use pgl_burn::Trainer;
use pgl_burn::burn::prelude::*;
use pgl_burn::checkpoint::{CheckpointStore, restore};
use pgl_burn::objective::TermHead;
use pgl_core::{GuidanceConfig, ObjectiveConfig, OptimizerConfig, RuntimeConfig, TrainingConfig};
use pgl_core::{NullSink, OptimizerKind, RunConfig, StepKind};
use pgl_models::DecoupledNet;
use pgl_models::testing::{
    digits_batch, digits_subset, digits_trainer, metrics_fingerprint, model_bits, trainable_weights,
};

fn step(trainer: &mut Trainer<DecoupledNet>, kind: StepKind, offset: usize) {
    let (images, labels) = digits_batch(32, offset);
    trainer.step(kind, images, labels).expect("a finite step");
}

/// The parameters of module `k`'s gradient predictor.
fn predictor(trainer: &Trainer<DecoupledNet>, k: usize) -> Vec<f32> {
    let heads = trainer
        .objective_heads()
        .module(k)
        .expect("module k's heads");
    let Some(TermHead::Predictor(p)) = heads.head_of("synthetic-gradient") else {
        panic!("module {k} has no predictor");
    };
    let mut values = p.weight.val().into_data().try_to_vec::<f32>().unwrap();
    values.extend(p.class_bias.val().into_data().try_to_vec::<f32>().unwrap());
    values
}

fn sgd(alpha: f64) -> RunConfig {
    RunConfig {
        optimizer: OptimizerConfig {
            kind: OptimizerKind::Sgd,
            momentum: 0.0,
            lr: 0.05,
            lr_schedule: "constant".to_string(),
            ..Default::default()
        },
        guidance: GuidanceConfig {
            synthetic_gradient: alpha,
            ..Default::default()
        },
        objective: ObjectiveConfig {
            local_objective: "ce".to_string(),
        },
        ..RunConfig::default()
    }
}

#[test]
fn predictors_start_at_zero_and_learn_in_global_steps_only() {
    let mut plain = digits_trainer("cnn", 4, &sgd(0.0), 5);
    let mut synthetic = digits_trainer("cnn", 4, &sgd(1.0), 5);
    assert!(plain.objective_heads().is_empty());
    // Modules 1..K-1 have a predictor, the classifier's module none.
    assert!(predictor(&synthetic, 0).iter().all(|&v| v == 0.0));
    let last = synthetic.objective_heads().module(3).unwrap();
    assert!(last.head_of("synthetic-gradient").is_none());
    // A zero prediction adds nothing: the first local step is the plain one, bit for bit.
    step(&mut plain, StepKind::Local, 0);
    step(&mut synthetic, StepKind::Local, 0);
    assert!(model_bits(&plain) == model_bits(&synthetic));
    assert!(predictor(&synthetic, 0).iter().all(|&v| v == 0.0));
    // A global step trains every predictor; a local step leaves them as they are.
    step(&mut synthetic, StepKind::Global, 32);
    let trained: Vec<_> = (0..3).map(|k| predictor(&synthetic, k)).collect();
    for (k, values) in trained.iter().enumerate() {
        assert!(values.iter().any(|&v| v != 0.0), "module {k}'s predictor");
    }
    step(&mut synthetic, StepKind::Local, 64);
    for (k, values) in trained.iter().enumerate() {
        assert!(
            predictor(&synthetic, k) == *values,
            "module {k}'s predictor moved"
        );
    }
}

#[test]
fn a_local_step_adds_alpha_times_the_prediction() {
    // Plain SGD: a local step's update is -lr * (local gradient + alpha * J^T prediction / B),
    // and the global step before it (which trains the predictors) does not depend on alpha:
    // the update is affine in alpha, and the synthetic part is not zero.
    let update = |alpha: f64| {
        let mut trainer = digits_trainer("cnn", 4, &sgd(alpha), 9);
        step(&mut trainer, StepKind::Global, 0);
        step(&mut trainer, StepKind::Global, 32);
        let before = trainable_weights(&trainer);
        step(&mut trainer, StepKind::Local, 64);
        let after = trainable_weights(&trainer);
        after
            .iter()
            .zip(&before)
            .map(|(a, b)| a - b)
            .collect::<Vec<f32>>()
    };
    let (one, two, three) = (update(1.0), update(2.0), update(3.0));
    let mut largest = 0.0f32;
    for ((u1, u2), u3) in one.iter().zip(&two).zip(&three) {
        let (first, second) = (u2 - u1, u3 - u2);
        largest = largest.max(first.abs());
        assert!(
            (first - second).abs() <= 1e-5 + 1e-3 * first.abs(),
            "{first} vs {second}"
        );
    }
    assert!(largest > 1e-6, "the synthetic gradient changed nothing");
}

fn run_config(epochs: u64) -> RunConfig {
    RunConfig {
        training: TrainingConfig {
            epochs,
            batch_size: 32,
            ..Default::default()
        },
        optimizer: OptimizerConfig {
            lr_schedule: "constant".to_string(),
            ..Default::default()
        },
        guidance: GuidanceConfig {
            schedule: "periodic:every=3".to_string(),
            synthetic_gradient: 1.0,
            ..Default::default()
        },
        objective: ObjectiveConfig {
            local_objective: "ce".to_string(),
        },
        ..RunConfig::default()
    }
}

#[test]
fn a_run_with_synthetic_gradients_resumes_exactly() {
    let data = digits_subset(300, 100);
    let full_config = run_config(2);
    let mut uninterrupted = digits_trainer("cnn", 4, &full_config, 7);
    let full = uninterrupted.fit(&data, &mut NullSink).unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let store = CheckpointStore::new(tmp.path(), 2);
    let mut first = digits_trainer("cnn", 4, &run_config(1), 7);
    first.fit(&data, &mut NullSink).unwrap();
    let saved = store.save(&first, &full_config, [1, 8, 8, 10]).unwrap();
    assert!(saved.join("objective.bpk").is_file());
    drop(first);

    let mut resumed = digits_trainer("cnn", 4, &full_config, 99);
    restore(&saved, &mut resumed).unwrap();
    let history = resumed.fit(&data, &mut NullSink).unwrap();
    assert_eq!(metrics_fingerprint(&history), metrics_fingerprint(&full));
    assert!(
        model_bits(&resumed) == model_bits(&uninterrupted),
        "weights differ after resume"
    );
    for k in 0..3 {
        assert!(predictor(&resumed, k) == predictor(&uninterrupted, k));
    }
}

#[test]
fn a_pipelined_run_with_synthetic_gradients_is_bit_identical_to_a_sequential_one() {
    let data = digits_subset(300, 100);
    let config = run_config(2);
    let mut sequential = digits_trainer("cnn", 4, &config, 3);
    let history = sequential.fit(&data, &mut NullSink).unwrap();
    let expected = (model_bits(&sequential), metrics_fingerprint(&history));
    for workers in [2, 4] {
        let config = RunConfig {
            runtime: RuntimeConfig {
                pipeline: Some(workers),
                ..config.clone().runtime
            },
            ..config.clone()
        };
        let mut pipelined = digits_trainer("cnn", 4, &config, 3);
        let history = pipelined.fit(&data, &mut NullSink).unwrap();
        assert!(
            (model_bits(&pipelined), metrics_fingerprint(&history)) == expected,
            "{workers} workers differ from sequential"
        );
        for k in 0..3 {
            assert!(predictor(&pipelined, k) == predictor(&sequential, k));
        }
    }
}

#[test]
fn micro_batches_and_partial_global_steps_are_refused_naming_the_field() {
    let build = |config: RunConfig| {
        let device = Device::flex().autodiff();
        let input = pgl_models::ModelInput::DIGITS;
        let model = pgl_models::testing::seeded_model("cnn", input, 3, 1, &device);
        let schedule = pgl_core::ScheduleRegistry::with_builtins()
            .build("periodic:every=2")
            .unwrap();
        let settings = pgl_burn::TrainSettings::from_config(&config)
            .unwrap()
            .with_input_shape([input.channels, input.height, input.width]);
        Trainer::new(model, schedule, settings, &device).map(|_| ())
    };
    for config in [
        RunConfig {
            guidance: GuidanceConfig {
                global_microbatch: Some(2),
                ..sgd(1.0).guidance
            },
            ..sgd(1.0)
        },
        RunConfig {
            guidance: GuidanceConfig {
                global_depth: Some(2),
                ..sgd(1.0).guidance
            },
            ..sgd(1.0)
        },
    ] {
        let error = build(config).unwrap_err().to_string();
        assert!(error.contains("synthetic_gradient"), "{error}");
    }
    assert!(build(sgd(1.0)).is_ok());
    // Checkpointed global steps compute the same boundaries: accepted.
    let checkpointed = RunConfig {
        guidance: GuidanceConfig {
            global_checkpointing: true,
            ..sgd(1.0).guidance
        },
        ..sgd(1.0)
    };
    assert!(build(checkpointed).is_ok());
}
