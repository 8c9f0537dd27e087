//! Partial global steps (`--global-depth J`, issue 24): the bottom K-J modules take a local
//! step, the top J are trained end to end by the classifier's loss; J = K is the global step.

use pgl_burn::activation::batch_tensors;
use pgl_burn::burn::prelude::*;
use pgl_burn::inspect::param_values;
use pgl_burn::{Activation, Trainer};
use pgl_core::{GuidanceConfig, ObjectiveConfig, OptimizerConfig, RuntimeConfig, TrainingConfig};
use pgl_core::{NullSink, OptimizerKind, RunConfig, StepKind};
use pgl_data::{DatasetSplits, load_dataset};
use pgl_models::DecoupledNet;
use pgl_models::testing::{digits_trainer, metrics_fingerprint};

fn batch(n: usize) -> (Activation, Tensor<1, Int>) {
    let data: DatasetSplits = load_dataset("digits", None).unwrap();
    let indices: Vec<usize> = (0..n).collect();
    batch_tensors(&data.train.batch(&indices), &Device::flex().autodiff())
}

/// Every parameter and buffer as bits, by path.
fn params(trainer: &Trainer<DecoupledNet>) -> Vec<(String, Vec<u32>)> {
    param_values(trainer.model())
        .into_iter()
        .map(|p| (p.path, p.values.iter().map(|v| v.to_bits()).collect()))
        .collect()
}

/// The parameters under `prefix` (e.g. `stages.1.head`).
fn part(all: &[(String, Vec<u32>)], prefix: &str) -> Vec<(String, Vec<u32>)> {
    let found: Vec<_> = all
        .iter()
        .filter(|(path, _)| path.starts_with(prefix))
        .cloned()
        .collect();
    assert!(!found.is_empty(), "no parameter under {prefix}");
    found
}

fn sgd(depth: Option<usize>, aux_weight: f64) -> RunConfig {
    RunConfig {
        optimizer: OptimizerConfig {
            kind: OptimizerKind::Sgd,
            momentum: 0.0,
            lr: 0.05,
            ..Default::default()
        },
        guidance: GuidanceConfig {
            aux_weight,
            global_depth: depth,
            ..Default::default()
        },
        objective: ObjectiveConfig {
            local_objective: "ce".to_string(),
        },
        ..RunConfig::default()
    }
}

fn after(config: &RunConfig, kind: StepKind) -> Vec<(String, Vec<u32>)> {
    let mut trainer = digits_trainer("mlp", 3, config, 4);
    let (images, labels) = batch(32);
    let outcome = trainer.step(kind, images, labels).unwrap();
    assert_eq!(outcome.kind, kind);
    params(&trainer)
}

#[test]
fn a_partial_global_step_is_local_below_and_end_to_end_above() {
    let start = params(&digits_trainer("mlp", 3, &sgd(None, 0.0), 4));
    let local = after(&sgd(None, 0.0), StepKind::Local);
    let partial = after(&sgd(Some(2), 0.0), StepKind::Global);
    // Module 1 (and its head) takes exactly a local step.
    assert_eq!(part(&partial, "stages.0"), part(&local, "stages.0"));
    // The classifier's module sees the same input and the same loss in both steps.
    assert_eq!(part(&partial, "stages.2"), part(&local, "stages.2"));
    // Module 2 learns from the classifier through module 3, not from its aux head, which the
    // step leaves untouched (aux weight 0).
    assert_ne!(
        part(&partial, "stages.1.body"),
        part(&local, "stages.1.body")
    );
    assert_ne!(
        part(&partial, "stages.1.body"),
        part(&start, "stages.1.body")
    );
    assert_eq!(
        part(&partial, "stages.1.head"),
        part(&start, "stages.1.head")
    );
    // With an aux weight, the top modules' aux heads learn too.
    let weighted = after(&sgd(Some(2), 1.0), StepKind::Global);
    assert_ne!(
        part(&weighted, "stages.1.head"),
        part(&start, "stages.1.head")
    );
}

#[test]
fn a_partial_global_step_over_every_module_is_the_global_step() {
    let whole = after(&sgd(None, 1.0), StepKind::Global);
    assert_eq!(after(&sgd(Some(3), 1.0), StepKind::Global), whole);
    assert_ne!(after(&sgd(Some(2), 1.0), StepKind::Global), whole);
}

#[test]
fn a_depth_beyond_k_or_with_micro_batches_is_refused_naming_the_field() {
    let build = |config: RunConfig| {
        let device = Device::flex().autodiff();
        let input = pgl_models::ModelInput::DIGITS;
        let model = pgl_models::testing::seeded_model("mlp", input, 3, 1, &device);
        let schedule = pgl_core::ScheduleRegistry::with_builtins()
            .build("periodic:every=2")
            .unwrap();
        let settings = pgl_burn::TrainSettings::from_config(&config).unwrap();
        Trainer::new(model, schedule, settings, &device).map(|_| ())
    };
    let error = build(sgd(Some(4), 1.0)).unwrap_err().to_string();
    assert!(
        error.contains("global_depth") && error.contains("[1, 3]"),
        "{error}"
    );
    let micro = RunConfig {
        guidance: GuidanceConfig {
            global_microbatch: Some(2),
            ..sgd(Some(2), 1.0).guidance
        },
        ..sgd(Some(2), 1.0)
    };
    let error = build(micro).unwrap_err().to_string();
    assert!(
        error.contains("global_depth") && error.contains("global_microbatch"),
        "{error}"
    );
    assert!(build(sgd(Some(3), 1.0)).is_ok());
}

#[test]
fn partial_global_steps_pipeline_bit_identically_and_leave_end_to_end_whole() {
    let mut data = load_dataset("digits", None).unwrap();
    data.train = data.train.truncated(256);
    data.test = data.test.truncated(64);
    let config = |schedule: &str, depth: Option<usize>, pipeline: Option<usize>| RunConfig {
        training: TrainingConfig {
            epochs: 2,
            batch_size: 32,
            ..Default::default()
        },
        guidance: GuidanceConfig {
            schedule: schedule.to_string(),
            global_depth: depth,
            global_replay: 0.5,
            ..Default::default()
        },
        runtime: RuntimeConfig {
            pipeline,
            ..Default::default()
        },
        objective: ObjectiveConfig {
            local_objective: "ce".to_string(),
        },
        ..RunConfig::default()
    };
    let fit = |config: RunConfig| {
        let mut trainer = digits_trainer("cnn", 4, &config, 3);
        let history = trainer.fit(&data, &mut NullSink).unwrap();
        (params(&trainer), metrics_fingerprint(&history))
    };
    let sequential = fit(config("periodic:every=2", Some(2), None));
    assert_eq!(
        fit(config("periodic:every=2", Some(2), Some(2))),
        sequential
    );
    // `end-to-end` is the baseline: plain backprop through every module whatever the depth.
    let whole = fit(config("end-to-end", None, None));
    assert_eq!(fit(config("end-to-end", Some(1), None)), whole);
}
