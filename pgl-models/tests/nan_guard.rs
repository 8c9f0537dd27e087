//! The NaN guard and gradient isolation, at the level of single steps: a non-finite loss
//! stops a step before the update it would drive and names the exact module; a local step's
//! gradients reach no earlier module.

use pgl_core::{GuidanceConfig, ObjectiveConfig, OptimizerConfig, TrainingConfig};
use std::sync::Mutex;

use pgl_burn::activation::batch_tensors;
use pgl_burn::burn::module::{Module, ModuleMapper, Param};
use pgl_burn::burn::nn::loss::CrossEntropyLoss;
use pgl_burn::burn::prelude::*;
use pgl_burn::inspect::{param_grads, param_values};
use pgl_burn::step::local_module_backward;
use pgl_burn::{Activation, DecoupledModel, TrainError, TrainSettings, Trainer};
use pgl_core::{OptimizerKind, RunConfig, ScheduleRegistry, StepKind};
use pgl_data::load_dataset;
use pgl_models::{DecoupledNet, ModelInput, ModelOptions, build_model};

/// Parameter initialisation draws from a process-wide generator: one build at a time.
static INIT: Mutex<()> = Mutex::new(());

fn device() -> Device {
    Device::flex().autodiff()
}

fn model(name: &str, modules: usize, device: &Device) -> DecoupledNet {
    let input = ModelInput {
        channels: 1,
        height: 8,
        width: 8,
        classes: 10,
    };
    let _guard = INIT.lock().unwrap_or_else(|p| p.into_inner());
    device.seed(5);
    build_model(name, input, &ModelOptions::even(modules), device).unwrap()
}

fn batch(device: &Device) -> (Activation, Tensor<1, Int>) {
    let data = load_dataset("digits", None).unwrap();
    batch_tensors(&data.train.batch(&(0..32).collect::<Vec<_>>()), device)
}

fn trainer(model: DecoupledNet, aux_weight: f64, device: &Device) -> Trainer<DecoupledNet> {
    let config = RunConfig {
        optimizer: OptimizerConfig {
            kind: OptimizerKind::Sgd,
            momentum: 0.0,
            lr: 0.1,
            ..Default::default()
        },
        guidance: GuidanceConfig {
            aux_weight,
            ..Default::default()
        },
        objective: ObjectiveConfig {
            local_objective: "ce".to_string(),
        },
        ..RunConfig::default()
    };
    let schedule = ScheduleRegistry::with_builtins()
        .build("local-only")
        .unwrap();
    Trainer::new(
        model,
        schedule,
        TrainSettings::from_config(&config).unwrap(),
        device,
    )
    .unwrap()
}

/// Multiplies every float parameter by NaN.
struct Poison;

impl ModuleMapper for Poison {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|t| t * f32::NAN)
    }
}

/// The model with module `k`'s body and head (0-based) poisoned with NaN.
fn poisoned(mut net: DecoupledNet, k: usize) -> DecoupledNet {
    net.stages[k] = net.stages[k].clone().map(&mut Poison);
    net
}

/// The bits of every parameter of module `k` (0-based).
fn module_bits(net: &DecoupledNet, k: usize) -> Vec<Vec<u32>> {
    param_values(&net.stages[k])
        .into_iter()
        .map(|p| p.values.iter().map(|v| v.to_bits()).collect())
        .collect()
}

fn non_finite_module(result: Result<pgl_burn::StepOutcome, TrainError>) -> (StepKind, usize) {
    match result {
        Err(TrainError::NonFiniteLoss { kind, module, .. }) => (kind, module),
        other => panic!("expected a non-finite loss, got {other:?}"),
    }
}

#[test]
fn a_local_step_stops_at_the_first_non_finite_module_and_updates_no_later_module() {
    let device = device();
    let before = poisoned(model("mlp", 4, &device), 2);
    let mut t = trainer(before.clone(), 0.0, &device);
    let (images, labels) = batch(&device);
    let (kind, module) = non_finite_module(t.step(StepKind::Local, images, labels));
    assert_eq!(
        (kind, module),
        (StepKind::Local, 3),
        "module 3 (1-based) is poisoned"
    );
    let after = t.model();
    for k in 0..2 {
        assert_ne!(
            module_bits(after, k),
            module_bits(&before, k),
            "module {k} learned"
        );
    }
    for k in 2..4 {
        assert_eq!(
            module_bits(after, k),
            module_bits(&before, k),
            "module {k} untouched"
        );
    }
}

#[test]
fn a_global_step_checks_every_loss_before_any_update() {
    let device = device();
    let before = poisoned(model("mlp", 4, &device), 1);
    // Without aux losses, the classifier's loss is the first one the step sees.
    for (aux_weight, expected_module) in [(0.0, 4), (0.5, 2)] {
        let mut t = trainer(before.clone(), aux_weight, &device);
        let (images, labels) = batch(&device);
        let (kind, module) = non_finite_module(t.step(StepKind::Global, images, labels));
        assert_eq!(
            (kind, module),
            (StepKind::Global, expected_module),
            "aux weight {aux_weight}"
        );
        for k in 0..4 {
            assert_eq!(
                module_bits(t.model(), k),
                module_bits(&before, k),
                "aux weight {aux_weight}: module {k} must not be updated"
            );
        }
    }
}

#[test]
fn the_gradient_of_a_local_loss_reaches_no_earlier_module() {
    // Runs the trainer's own per-module local work module after module and asks, after each
    // module's backward, for gradients of every earlier module: a missing detach between
    // modules would give them one (which the optimizer step would then silently drop).
    for name in ["mlp", "cnn"] {
        let device = device();
        let net = model(name, 4, &device);
        let (images, labels) = batch(&device);
        let loss = CrossEntropyLoss::new(None, &device);
        let mut input = images;
        for k in 0..net.num_modules() {
            let backward = local_module_backward(&net, k, input, &labels, &loss);
            let grads = backward.grads.expect("finite loss");
            for earlier in 0..k {
                let leaked: Vec<String> = param_grads(&net.stages[earlier], &grads)
                    .into_iter()
                    .filter(|(_, g)| g.is_some())
                    .map(|(path, _)| path)
                    .collect();
                assert!(
                    leaked.is_empty(),
                    "{name}: module {k}'s loss has gradients in module {earlier}: {leaked:?}"
                );
            }
            let own = param_grads(&net.stages[k], &grads);
            assert!(
                own.iter().any(|(_, g)| g.is_some()),
                "{name}: module {k} learns"
            );
            input = backward.output;
        }
    }
}

#[test]
fn the_message_blames_the_learning_rate_only_when_updates_made_the_weights_non_finite() {
    let device = device();
    // Broken weights before any update: the initial weights, not the learning rate.
    let mut t = trainer(poisoned(model("mlp", 4, &device), 2), 0.0, &device);
    let (images, labels) = batch(&device);
    let message = t
        .step(StepKind::Local, images, labels)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("initial weights are broken") && message.contains("stages.2"),
        "{message}"
    );
    assert!(!message.contains("lower `lr`"), "{message}");
    // An exploding learning rate: step 1 is finite, and its update leaves weights so large
    // (or infinite) that the next loss is not.
    let config = RunConfig {
        optimizer: OptimizerConfig {
            kind: OptimizerKind::Sgd,
            momentum: 0.0,
            lr: 1e38,
            ..Default::default()
        },
        training: TrainingConfig {
            epochs: 1,
            ..Default::default()
        },
        objective: ObjectiveConfig {
            local_objective: "ce".to_string(),
        },
        ..RunConfig::default()
    };
    let schedule = ScheduleRegistry::with_builtins()
        .build("local-only")
        .unwrap();
    let settings = TrainSettings::from_config(&config).unwrap();
    let mut t = Trainer::new(model("mlp", 2, &device), schedule, settings, &device).unwrap();
    let mut data = load_dataset("digits", None).unwrap();
    data.train = data.train.truncated(256);
    data.test = data.test.truncated(10);
    let message = t
        .fit(&data, &mut pgl_core::NullSink)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("module 1's weights") && message.contains("a lower `lr`"),
        "{message}"
    );
}
