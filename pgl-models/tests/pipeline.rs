//! Pipelined local steps compute exactly what sequential local steps compute: every module
//! sees the same (input, label) batches with the same weights.

use pgl_burn::burn::prelude::*;
use pgl_burn::inspect::param_values;
use pgl_burn::{TrainError, TrainSettings, Trainer, TrainerState};
use pgl_core::{EpochMetrics, NullSink, OptimizerKind, RunConfig, ScheduleRegistry};
use pgl_core::{GuidanceConfig, ObjectiveConfig, OptimizerConfig, RuntimeConfig, TrainingConfig};
use pgl_data::{DatasetSplits, load_dataset};
use pgl_models::testing::{digits_trainer, metrics_fingerprint, seeded_model};
use pgl_models::{DecoupledNet, ModelInput};

fn data() -> DatasetSplits {
    let mut d = load_dataset("digits", None).unwrap();
    d.train = d.train.truncated(400);
    d.test = d.test.truncated(100);
    d
}

/// A digits trainer of `model` with K = `modules` and `schedule`, seeded with 3.
fn trainer(
    model: &str,
    modules: usize,
    schedule: &str,
    config: &RunConfig,
) -> Trainer<DecoupledNet> {
    let config = RunConfig {
        guidance: GuidanceConfig {
            schedule: schedule.to_string(),
            ..config.clone().guidance
        },
        ..config.clone()
    };
    digits_trainer(model, modules, &config, 3)
}

fn fingerprint(
    t: &Trainer<DecoupledNet>,
    history: &[EpochMetrics],
) -> (Vec<Vec<u32>>, Vec<String>) {
    let weights = param_values(t.model())
        .into_iter()
        .map(|p| p.values.iter().map(|v| v.to_bits()).collect())
        .collect();
    (weights, metrics_fingerprint(history))
}

#[test]
fn pipelined_training_is_bit_identical_to_sequential_training() {
    let data = data();
    let config = RunConfig {
        training: TrainingConfig {
            epochs: 2,
            batch_size: 32,
            ..Default::default()
        },
        optimizer: OptimizerConfig {
            kind: OptimizerKind::Adam,
            ..Default::default()
        },
        ..RunConfig::default()
    };
    for (model, modules, schedule) in [
        ("cnn", 4, "periodic:every=5"),
        ("mlp", 8, "warmup:epochs=1,then=periodic:every=3,len=2"),
    ] {
        let mut sequential = trainer(model, modules, schedule, &config);
        let history = sequential.fit(&data, &mut NullSink).unwrap();
        let expected = fingerprint(&sequential, &history);
        assert!(history.iter().map(|m| m.steps_global).sum::<u64>() > 0);
        for workers in [1, 2, modules] {
            let config = RunConfig {
                runtime: RuntimeConfig {
                    pipeline: Some(workers),
                    ..config.clone().runtime
                },
                ..config.clone()
            };
            let mut pipelined = trainer(model, modules, schedule, &config);
            let history = pipelined.fit(&data, &mut NullSink).unwrap();
            assert!(
                fingerprint(&pipelined, &history) == expected,
                "{model} K={modules} with {workers} workers differs from sequential"
            );
        }
    }
}

#[test]
fn pipelines_refuse_loss_based_schedules_and_too_many_workers() {
    let refusal = |schedule: &str, workers: usize| {
        let config = RunConfig {
            runtime: RuntimeConfig {
                pipeline: Some(workers),
                ..Default::default()
            },
            objective: ObjectiveConfig {
                local_objective: "ce".to_string(),
            },
            ..RunConfig::default()
        };
        let device = Device::flex().autodiff();
        let net = seeded_model("cnn", ModelInput::DIGITS, 4, 3, &device);
        let schedule = ScheduleRegistry::with_builtins().build(schedule).unwrap();
        Trainer::new(
            net,
            schedule,
            TrainSettings::from_config(&config).unwrap(),
            &device,
        )
        .err()
        .map(|e| e.to_string())
    };
    let e = refusal("any(periodic:every=5,plateau:patience=3)", 2).unwrap();
    assert!(e.contains("plateau") && e.contains("loss"), "{e}");
    let e = refusal("periodic:every=5", 5).unwrap();
    assert!(e.contains("at least 5 modules"), "{e}");
    assert!(refusal("periodic:every=5", 0).is_some());
    assert_eq!(refusal("periodic:every=5", 4), None);
}

#[test]
fn a_failing_worker_stops_the_pipeline_and_names_its_module() {
    let data = data();
    // SGD at lr = 1e10 makes module 1's weights grow by orders of magnitude each step, so a
    // loss overflows after a few steps: past the calibration steps, inside a pipeline worker.
    let failure = |workers: Option<usize>| {
        let config = RunConfig {
            training: TrainingConfig {
                epochs: 1,
                batch_size: 32,
                ..Default::default()
            },
            optimizer: OptimizerConfig {
                kind: OptimizerKind::Sgd,
                momentum: 0.0,
                lr: 1e10,
                ..Default::default()
            },
            runtime: RuntimeConfig {
                pipeline: workers,
                ..Default::default()
            },
            ..RunConfig::default()
        };
        let mut t = trainer("mlp", 4, "local-only", &config);
        let error = t.fit(&data, &mut NullSink).unwrap_err();
        // The trainer got its model back from the workers and can still evaluate.
        let evaluated = t.evaluate(&data.test).samples;
        (error, evaluated)
    };
    let (sequential, evaluated) = failure(None);
    assert_eq!(evaluated, data.test.len());
    let (pipelined, evaluated) = failure(Some(2));
    assert_eq!(evaluated, data.test.len());
    match (&sequential, &pipelined) {
        (
            TrainError::NonFiniteLoss {
                iteration, module, ..
            },
            TrainError::NonFiniteLoss {
                iteration: pipelined_iteration,
                module: pipelined_module,
                ..
            },
        ) => {
            assert!(
                *iteration > 2,
                "fails after calibration, at iteration {iteration}"
            );
            assert_eq!((pipelined_iteration, pipelined_module), (iteration, module));
        }
        other => panic!("expected non-finite losses, got {other:?}"),
    }
    assert_eq!(pipelined.to_string(), sequential.to_string());
}

#[test]
fn an_interrupted_epoch_continues_exactly_from_where_it_stopped() {
    let data = data();
    let config = RunConfig {
        training: TrainingConfig {
            epochs: 2,
            batch_size: 32,
            ..Default::default()
        },
        ..RunConfig::default()
    };
    let mut whole = trainer("cnn", 4, "periodic:every=4", &config);
    let expected_history = whole.fit(&data, &mut NullSink).unwrap();
    let expected = fingerprint(&whole, &expected_history);

    for workers in [None, Some(2)] {
        let config = RunConfig {
            runtime: RuntimeConfig {
                pipeline: workers,
                ..config.clone().runtime
            },
            ..config.clone()
        };
        let mut t = trainer("cnn", 4, "periodic:every=4", &config);
        // Ask for a stop after 5 steps of the second epoch. The trainer's own handle, not the
        // process-wide flag, so that trainers of other tests running in parallel go on.
        let stop = t.stop_handle();
        let mut steps = 0;
        let mut sink = |event: &pgl_core::TrainEvent| {
            if let pgl_core::TrainEvent::StepFinished { epoch: 2, .. } = event {
                steps += 1;
                if steps == 5 {
                    stop.request();
                }
            }
        };
        let result = t.fit(&data, &mut sink);
        match result {
            Err(TrainError::Interrupted { epoch: 2, batches }) => {
                assert!(batches >= 5, "{batches}")
            }
            other => panic!("expected an interruption, got {other:?}"),
        }
        let progress = t.progress();
        assert!(progress.epoch_position.is_some());
        // A new trainer continues from the saved progress and weights.
        let mut resumed = trainer("cnn", 4, "periodic:every=4", &config);
        resumed
            .restore(TrainerState {
                model: t.model().clone(),
                optimizers: t.optimizers().to_vec(),
                objective_heads: Some(t.objective_heads().clone()),
                progress,
            })
            .unwrap();
        let history = resumed.fit(&data, &mut NullSink).unwrap();
        assert!(
            fingerprint(&resumed, &history) == expected,
            "{workers:?}: interrupted run differs"
        );
    }
}

#[test]
fn a_trainer_state_carries_the_objective_heads_and_continues_exactly() {
    let data = data();
    // The default objective (supcon) has projection heads; a constant rate, so a run of one
    // epoch and a run of two see the same rate in their first epoch.
    let config = |epochs| RunConfig {
        training: TrainingConfig {
            epochs,
            batch_size: 32,
            ..Default::default()
        },
        optimizer: OptimizerConfig {
            lr_schedule: "constant".to_string(),
            ..Default::default()
        },
        ..RunConfig::default()
    };
    let mut whole = trainer("cnn", 4, "periodic:every=4", &config(2));
    assert!(!whole.objective_heads().is_empty());
    let history = whole.fit(&data, &mut NullSink).unwrap();
    let expected = fingerprint(&whole, &history);

    let mut first = trainer("cnn", 4, "periodic:every=4", &config(1));
    first.fit(&data, &mut NullSink).unwrap();
    let continued = |keep_heads: bool| {
        let mut state = first.state();
        if !keep_heads {
            state.objective_heads = None;
        }
        let mut second = trainer("cnn", 4, "periodic:every=4", &config(2));
        second.restore(state).unwrap();
        let history = second.fit(&data, &mut NullSink).unwrap();
        fingerprint(&second, &history)
    };
    assert!(continued(true) == expected, "state() + restore differs");
    // Without the heads the second epoch starts from fresh projection heads: another run.
    assert!(continued(false) != expected);
}
