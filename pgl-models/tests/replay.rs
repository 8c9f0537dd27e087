//! Global-gradient replay (`--global-replay β`, issue 24): a local step after a global step
//! adds β times that global step's gradient to every module's own; runs with replay resume
//! exactly and pipeline bit-identically.

use pgl_burn::Trainer;
use pgl_burn::checkpoint::{CheckpointStore, restore};
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

fn difference(after: &[f32], before: &[f32]) -> Vec<f32> {
    after.iter().zip(before).map(|(a, b)| a - b).collect()
}

#[test]
fn a_local_step_adds_beta_times_the_latest_global_gradient() {
    // Plain SGD: an update is -lr * gradient, so the replayed part of a local step's update
    // is beta times the global step's update.
    let config = |beta: f64| RunConfig {
        optimizer: OptimizerConfig {
            kind: OptimizerKind::Sgd,
            momentum: 0.0,
            lr: 0.05,
            ..Default::default()
        },
        guidance: GuidanceConfig {
            global_replay: beta,
            ..Default::default()
        },
        objective: ObjectiveConfig {
            local_objective: "ce".to_string(),
        },
        ..RunConfig::default()
    };
    let run = |beta: f64| {
        let mut trainer = digits_trainer("mlp", 3, &config(beta), 9);
        let start = trainable_weights(&trainer);
        step(&mut trainer, StepKind::Global, 0);
        let after_global = trainable_weights(&trainer);
        assert_eq!(trainer.replay().is_some(), beta > 0.0);
        step(&mut trainer, StepKind::Local, 32);
        let global = difference(&after_global, &start);
        let local = difference(&trainable_weights(&trainer), &after_global);
        (global, local)
    };
    let (global, plain) = run(0.0);
    assert!(global.iter().any(|d| d.abs() > 1e-5));
    for beta in [0.5, 2.0] {
        let (same_global, replayed) = run(beta);
        assert_eq!(same_global, global, "the global step itself is unchanged");
        for ((g, p), r) in global.iter().zip(&plain).zip(&replayed) {
            let expected = p + (beta as f32) * g;
            assert!(
                (r - expected).abs() <= 1e-6 + 1e-4 * expected.abs(),
                "beta {beta}: local update {r}, expected {p} + beta * {g}"
            );
        }
    }
}

#[test]
fn local_only_runs_and_runs_before_any_global_step_replay_nothing() {
    let config = RunConfig {
        guidance: GuidanceConfig {
            global_replay: 1.0,
            ..Default::default()
        },
        objective: ObjectiveConfig {
            local_objective: "ce".to_string(),
        },
        ..RunConfig::default()
    };
    let plain = RunConfig {
        objective: ObjectiveConfig {
            local_objective: "ce".to_string(),
        },
        ..RunConfig::default()
    };
    let mut replaying = digits_trainer("cnn", 4, &config, 3);
    let mut reference = digits_trainer("cnn", 4, &plain, 3);
    for offset in [0, 32] {
        step(&mut replaying, StepKind::Local, offset);
        step(&mut reference, StepKind::Local, offset);
    }
    assert!(replaying.replay().is_none());
    assert_eq!(model_bits(&replaying), model_bits(&reference));
}

fn replay_config(epochs: u64) -> RunConfig {
    RunConfig {
        training: TrainingConfig {
            epochs,
            batch_size: 32,
            ..Default::default()
        },
        optimizer: OptimizerConfig {
            // Resumed to more epochs than the first run planned: a rate that does not depend on
            // the run's length.
            lr_schedule: "constant".to_string(),
            ..Default::default()
        },
        guidance: GuidanceConfig {
            schedule: "periodic:every=3".to_string(),
            global_replay: 0.5,
            ..Default::default()
        },
        objective: ObjectiveConfig {
            local_objective: "ce".to_string(),
        },
        ..RunConfig::default()
    }
}

#[test]
fn a_run_with_replay_resumes_exactly() {
    let data = digits_subset(300, 100);
    let full_config = replay_config(2);
    let mut uninterrupted = digits_trainer("cnn", 4, &full_config, 7);
    let full = uninterrupted.fit(&data, &mut NullSink).unwrap();

    let tmp = tempfile::tempdir().unwrap();
    let store = CheckpointStore::new(tmp.path(), 2);
    let mut first = digits_trainer("cnn", 4, &replay_config(1), 7);
    first.fit(&data, &mut NullSink).unwrap();
    // 10 batches per epoch, a global step every 3: the epoch ends on a local step, after the
    // global step of iteration 9 left its gradients.
    assert!(first.replay().is_some());
    let saved = store.save(&first, &full_config, [1, 8, 8, 10]).unwrap();
    assert!(saved.join("replay.bpk").is_file());
    drop(first);

    let mut resumed = digits_trainer("cnn", 4, &full_config, 99);
    restore(&saved, &mut resumed).unwrap();
    let history = resumed.fit(&data, &mut NullSink).unwrap();
    assert_eq!(metrics_fingerprint(&history), metrics_fingerprint(&full));
    assert!(
        model_bits(&resumed) == model_bits(&uninterrupted),
        "weights differ after resume"
    );

    // Without the replayed gradients the resumed run differs: the file matters.
    std::fs::remove_file(saved.join("replay.bpk")).unwrap();
    let mut forgetful = digits_trainer("cnn", 4, &full_config, 99);
    restore(&saved, &mut forgetful).unwrap();
    forgetful.fit(&data, &mut NullSink).unwrap();
    assert!(model_bits(&forgetful) != model_bits(&uninterrupted));
}

#[test]
fn a_pipelined_run_with_replay_is_bit_identical_to_a_sequential_one() {
    let data = digits_subset(300, 100);
    let config = replay_config(2);
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
    }
}
