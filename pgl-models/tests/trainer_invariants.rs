//! Numerical invariants of the trainer on real zoo models and real data: gradient isolation
//! of local steps, global step = plain backprop, learning, determinism.
//!
//! The backend-generic tests are written once, as functions of a [`Backend`], and instantiated
//! for every backend compiled in by [`backend_suite!`]: always the CPU, and `wgpu` / `cuda`
//! when the test is built with `--features wgpu` / `--features cuda` (CI runs the wgpu suite on
//! Mesa's software Vulkan driver). Each backend brings its own tolerance.

use pgl_burn::activation::batch_tensors;
use pgl_burn::burn::nn::loss::CrossEntropyLoss;
use pgl_burn::burn::prelude::*;
use pgl_burn::inspect::{param_grads, param_values};
use pgl_burn::{Activation, BackendKind, DecoupledModel, TrainError, TrainSettings, Trainer};
use pgl_core::{GuidanceConfig, ObjectiveConfig, OptimizerConfig, TrainingConfig};
use pgl_core::{NullSink, OptimizerKind, RunConfig, ScheduleRegistry, StepKind};
use pgl_data::{DatasetSplits, load_dataset};
use pgl_models::{DecoupledNet, ModelInput, ModelOptions, SplitKind, build_model};

fn digits() -> DatasetSplits {
    load_dataset("digits", None).unwrap()
}

/// A backend under test: its training device, how close a parameter update must be to the
/// reference gradient, and the models the suite runs on it.
struct Backend {
    device: Device,
    /// Absolute tolerance; a relative one of ten times this is added.
    tolerance: f32,
    /// Models for the local-step test; software GPU drivers get the small ones only.
    local_step_models: &'static [(&'static str, SplitKind)],
    /// Spatial model of the global-step test (with DGL's MLP-SR aux heads).
    global_step_model: &'static str,
}

const ALL_MODELS: &[(&str, SplitKind)] = &[
    ("cnn", SplitKind::Even),
    ("mlp", SplitKind::Even),
    ("resnet32", SplitKind::InfoPro),
];

fn cpu() -> Backend {
    Backend {
        device: BackendKind::CPU.training_device(None, false).unwrap(),
        tolerance: 1e-5,
        local_step_models: ALL_MODELS,
        global_step_model: "resnet32",
    }
}

fn device() -> Device {
    cpu().device
}

/// Plain SGD with learning rate 1: `before - after` is exactly the gradient.
fn plain_sgd() -> RunConfig {
    RunConfig {
        optimizer: OptimizerConfig {
            kind: OptimizerKind::Sgd,
            lr: 1.0,
            momentum: 0.0,
            ..Default::default()
        },
        objective: ObjectiveConfig {
            local_objective: "ce".to_string(),
        },
        ..RunConfig::default()
    }
}

fn batch(data: &DatasetSplits, n: usize, device: &Device) -> (Activation, Tensor<1, Int>) {
    batch_tensors(&data.train.batch(&(0..n).collect::<Vec<_>>()), device)
}

/// Burn's CPU backend seeds one process-wide generator, and tests run on parallel threads:
/// seeding and initialising happen under this lock so that a seed always gives the same model.
static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn seeded_model(name: &str, options: &ModelOptions, seed: u64, device: &Device) -> DecoupledNet {
    let _guard = INIT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    device.seed(seed);
    build_model(name, ModelInput::DIGITS, options, device).unwrap()
}

fn build(name: &str, modules: usize, seed: u64, device: &Device) -> DecoupledNet {
    seeded_model(name, &ModelOptions::even(modules), seed, device)
}

fn trainer(
    model: DecoupledNet,
    config: &RunConfig,
    schedule: &str,
    device: &Device,
) -> Trainer<DecoupledNet> {
    let schedule = ScheduleRegistry::with_builtins().build(schedule).unwrap();
    Trainer::new(
        model,
        schedule,
        TrainSettings::from_config(config).unwrap(),
        device,
    )
    .unwrap()
}

/// The update `before - after` of every trainable parameter, by path.
fn updates(before: &DecoupledNet, after: &DecoupledNet) -> Vec<(String, Vec<f32>)> {
    param_values(before)
        .into_iter()
        .zip(param_values(after))
        .filter(|(b, _)| b.trainable)
        .map(|(b, a)| {
            assert_eq!(b.path, a.path);
            (
                b.path,
                b.values.iter().zip(&a.values).map(|(x, y)| x - y).collect(),
            )
        })
        .collect()
}

fn assert_close(path: &str, got: &[f32], expected: &[f32]) {
    assert_close_within(1e-5, path, got, expected);
}

fn assert_close_within(tolerance: f32, path: &str, got: &[f32], expected: &[f32]) {
    assert_eq!(got.len(), expected.len(), "{path}: length");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        let tolerance = tolerance + 10.0 * tolerance * e.abs();
        assert!(
            (g - e).abs() <= tolerance,
            "{path}[{i}]: update {g} but gradient {e}"
        );
    }
}

/// Module index of a parameter path `stages.K. ...`.
fn module_of(path: &str) -> usize {
    path.split('.')
        .nth(1)
        .and_then(|k| k.parse().ok())
        .unwrap_or_else(|| panic!("path {path}"))
}

fn is_head(path: &str) -> bool {
    path.split('.').nth(2) == Some("head")
}

/// Instantiates the backend-generic tests for one backend, in a module of that name.
macro_rules! backend_suite {
    ($name:ident, $backend:expr) => {
        mod $name {
            #[test]
            fn a_local_step_updates_each_module_with_its_own_head_loss_only() {
                super::local_step_isolation(&$backend);
            }

            #[test]
            fn a_global_step_is_plain_backprop_through_the_composed_network() {
                super::global_step_is_backprop(&$backend);
            }

            #[test]
            fn a_global_step_with_aux_weight_adds_the_weighted_aux_losses() {
                super::global_step_with_aux_weight(&$backend);
            }

            #[test]
            fn training_learns_the_digits_with_every_schedule() {
                super::training_learns(&$backend);
            }
        }
    };
}

backend_suite!(on_cpu, super::cpu());

/// Mesa's lavapipe (CI) or a real GPU; the tolerance covers reordered float sums.
#[cfg(feature = "wgpu")]
fn wgpu() -> Backend {
    Backend {
        device: BackendKind::WGPU.training_device(None, false).unwrap(),
        tolerance: 1e-4,
        local_step_models: &ALL_MODELS[..2],
        global_step_model: "cnn",
    }
}

#[cfg(feature = "wgpu")]
backend_suite!(on_wgpu, super::wgpu());

/// CUDA matmuls may run in TF32, so updates are compared at a looser tolerance.
#[cfg(feature = "cuda")]
fn cuda() -> Backend {
    Backend {
        device: BackendKind::CUDA.training_device(None, false).unwrap(),
        tolerance: 2e-3,
        local_step_models: ALL_MODELS,
        global_step_model: "resnet32",
    }
}

#[cfg(feature = "cuda")]
backend_suite!(on_cuda, super::cuda());

fn local_step_isolation(backend: &Backend) {
    for (model_name, split) in backend.local_step_models {
        let split = split.clone();
        let device = backend.device.clone();
        let data = digits();
        let options = ModelOptions {
            modules: 4,
            split,
            aux_head: None,
            ..ModelOptions::even(1)
        };
        let model = seeded_model(model_name, &options, 1, &device);
        let (images, labels) = batch(&data, 32, &device);
        let ce = CrossEntropyLoss::new(None, &device);

        // Reference: gradient of head k's loss alone, on the detached output of module k-1.
        let mut expected: Vec<(String, Option<Vec<f32>>)> = Vec::new();
        let mut input = images.clone();
        for k in 0..model.num_modules() {
            let features = model.forward_module(k, input.clone());
            let loss = ce.forward(model.head(k, features.clone()), labels.clone());
            let grads = loss.backward();
            expected.extend(
                param_grads(&model.stages[k], &grads)
                    .into_iter()
                    .map(|(p, g)| (format!("stages.{k}.{p}"), g)),
            );
            input = features.detach();
        }

        let mut t = trainer(model.clone(), &plain_sgd(), "local-only", &device);
        let outcome = t.step(StepKind::Local, images, labels).unwrap();
        assert_eq!(outcome.kind, StepKind::Local);
        assert!(outcome.module_losses.iter().all(Option::is_some));
        let got = updates(&model, t.model());
        assert_eq!(got.len(), expected.len());
        for ((path, update), (expected_path, grad)) in got.iter().zip(&expected) {
            assert_eq!(path, expected_path);
            let grad = grad
                .as_ref()
                .unwrap_or_else(|| panic!("{path} has no gradient from its own head"));
            assert_close_within(backend.tolerance, path, update, grad);
        }
    }
}

fn global_step_is_backprop(backend: &Backend) {
    let device = backend.device.clone();
    let data = digits();
    let options = ModelOptions {
        modules: 4,
        split: SplitKind::Even,
        aux_head: Some(pgl_models::AuxHead::MlpSr),
        ..ModelOptions::even(1)
    };
    let model = seeded_model(backend.global_step_model, &options, 2, &device);
    let (images, labels) = batch(&data, 32, &device);
    let ce = CrossEntropyLoss::new(None, &device);

    let loss = ce.forward(model.forward(images.clone()), labels.clone());
    let expected = param_grads(&model, &loss.backward());

    let mut t = trainer(model.clone(), &plain_sgd(), "end-to-end", &device);
    let outcome = t.step(StepKind::Global, images, labels).unwrap();
    assert_eq!(outcome.kind, StepKind::Global);
    let got = updates(&model, t.model());
    let mut aux_params = 0;
    for ((path, update), (expected_path, grad)) in got.iter().zip(&expected) {
        assert_eq!(path, expected_path);
        let is_aux_head = is_head(path) && module_of(path) < 3;
        match grad {
            Some(grad) => assert_close_within(backend.tolerance, path, update, grad),
            None => {
                assert!(is_aux_head, "{path} got no gradient from the global loss");
                assert!(
                    update.iter().all(|u| *u == 0.0),
                    "aux head {path} changed in a global step"
                );
                aux_params += 1;
            }
        }
    }
    assert!(aux_params > 0);
}

fn global_step_with_aux_weight(backend: &Backend) {
    let device = backend.device.clone();
    let data = digits();
    let model = build("mlp", 4, 3, &device);
    let (images, labels) = batch(&data, 16, &device);
    let ce = CrossEntropyLoss::new(None, &device);
    let weight = 0.5f32;

    let mut x = images.clone();
    let mut total = None;
    for k in 0..4 {
        x = model.forward_module(k, x);
        let loss = ce.forward(model.head(k, x.clone()), labels.clone());
        let term = if k < 3 { loss * weight } else { loss };
        total = Some(match total {
            None => term,
            Some(t) => t + term,
        });
    }
    let expected = param_grads(&model, &total.unwrap().backward());

    let config = RunConfig {
        guidance: GuidanceConfig {
            aux_weight: f64::from(weight),
            ..plain_sgd().guidance
        },
        ..plain_sgd()
    };
    // Every step global, but a guided schedule: its global steps add the aux losses.
    let mut t = trainer(model.clone(), &config, "periodic:every=1", &device);
    let outcome = t
        .step(StepKind::Global, images.clone(), labels.clone())
        .unwrap();
    assert!(outcome.module_losses.iter().all(Option::is_some));
    for ((path, update), (_, grad)) in updates(&model, t.model()).iter().zip(&expected) {
        assert_close_within(
            backend.tolerance,
            path,
            update,
            grad.as_ref().expect("every parameter gets a gradient"),
        );
    }
    // `end-to-end` is the plain-backprop baseline whatever the aux weight: no aux losses.
    let mut plain = trainer(model.clone(), &config, "end-to-end", &device);
    let outcome = plain.step(StepKind::Global, images, labels).unwrap();
    assert!(outcome.module_losses[..3].iter().all(Option::is_none));
    let heads_moved = updates(&model, plain.model())
        .iter()
        .filter(|(path, _)| path.contains(".head.") && !path.starts_with("stages.3."))
        .any(|(_, update)| update.iter().any(|u| *u != 0.0));
    assert!(!heads_moved, "end-to-end trained an aux head");
    assert!(
        updates(&model, t.model())
            .iter()
            .any(|(path, u)| path.starts_with("stages.0.head.") && u.iter().any(|u| *u != 0.0)),
        "the guided global step trains the aux heads"
    );
}

fn short_run(seed: u64) -> (Vec<pgl_core::EpochMetrics>, Vec<Vec<f32>>) {
    let device = device();
    let mut data = digits();
    data.train = data.train.truncated(400);
    data.test = data.test.truncated(100);
    let config = RunConfig {
        training: TrainingConfig {
            epochs: 2,
            batch_size: 32,
            seed,
        },
        objective: ObjectiveConfig {
            local_objective: "ce".to_string(),
        },
        ..RunConfig::default()
    };
    let model = build("cnn", 4, seed, &device);
    let mut t = trainer(model, &config, "periodic:every=3", &device);
    let metrics = t.fit(&data, &mut NullSink).unwrap();
    let params = param_values(t.model())
        .into_iter()
        .map(|p| p.values)
        .collect();
    (metrics, params)
}

#[test]
fn the_same_seed_gives_bit_identical_runs() {
    let (metrics_a, params_a) = short_run(9);
    let (metrics_b, params_b) = short_run(9);
    let strip = |m: &[pgl_core::EpochMetrics]| {
        m.iter()
            .map(|e| {
                (
                    e.train_loss.to_bits(),
                    e.module_train_loss.clone(),
                    e.test_loss.to_bits(),
                    e.module_accuracy.clone(),
                    e.steps_global,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&metrics_a), strip(&metrics_b));
    assert_eq!(params_a, params_b);
    assert!(
        metrics_a
            .iter()
            .all(|m| m.steps_global > 0 && m.steps_local > 0)
    );
    let (metrics_c, _) = short_run(10);
    assert_ne!(
        strip(&metrics_a),
        strip(&metrics_c),
        "a different seed gives a different run"
    );
}

fn training_learns(backend: &Backend) {
    for (schedule, threshold) in [
        ("local-only", 0.85),
        ("end-to-end", 0.85),
        ("periodic:every=5", 0.85),
    ] {
        let device = backend.device.clone();
        let data = digits();
        let config = RunConfig {
            training: TrainingConfig {
                epochs: 3,
                ..Default::default()
            },
            objective: ObjectiveConfig {
                local_objective: "ce".to_string(),
            },
            ..RunConfig::default()
        };
        let mut t = trainer(build("mlp", 4, 5, &device), &config, schedule, &device);
        let metrics = t.fit(&data, &mut NullSink).unwrap();
        let last = metrics.last().unwrap();
        assert!(
            last.test_accuracy >= threshold,
            "{schedule}: accuracy {}",
            last.test_accuracy
        );
        assert_eq!(last.module_accuracy.len(), 4);
        let steps = last.steps_local + last.steps_global;
        match schedule {
            "local-only" => assert_eq!(last.steps_global, 0),
            "end-to-end" => assert_eq!(last.steps_local, 0),
            _ => assert!(last.steps_global > 0 && last.steps_global < steps),
        }
    }
}

#[test]
fn an_exploding_loss_stops_training_with_a_named_error() {
    let device = device();
    let data = digits();
    let config = RunConfig {
        optimizer: OptimizerConfig {
            lr: 1e38,
            ..plain_sgd().optimizer
        },
        training: TrainingConfig {
            epochs: 1,
            ..plain_sgd().training
        },
        ..plain_sgd()
    };
    let mut t = trainer(build("mlp", 2, 1, &device), &config, "local-only", &device);
    match t.fit(&data, &mut NullSink) {
        Err(TrainError::NonFiniteLoss {
            epoch,
            kind,
            location,
            ..
        }) => {
            assert_eq!(epoch, 1);
            assert_eq!(kind, StepKind::Local);
            assert!(location.contains("module"), "{location}");
        }
        other => panic!("expected a non-finite loss error, got {other:?}"),
    }
}

#[test]
fn a_global_step_under_gradient_checkpointing_gives_the_same_update() {
    let plain = device();
    let checkpointed = Device::flex().autodiff().gradient_checkpointing();
    let data = digits();
    let updates_of = |device: &Device| {
        let model = build("cnn", 4, 6, device);
        let (images, labels) = batch(&data, 32, device);
        let mut t = trainer(model.clone(), &plain_sgd(), "end-to-end", device);
        t.step(StepKind::Global, images, labels).unwrap();
        updates(&model, t.model())
    };
    let expected = updates_of(&plain);
    let got = updates_of(&checkpointed);
    for ((path, update), (_, reference)) in got.iter().zip(&expected) {
        assert_close(path, update, reference);
    }
}
