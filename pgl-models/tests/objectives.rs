//! Local objectives on real zoo models and digits: gradient isolation with every objective,
//! a local step's update equals the gradient of each module's own objective (extra heads
//! included), exact resume and bit-identical pipelining with extra heads.

use pgl_burn::activation::batch_tensors;
use pgl_burn::burn::nn::loss::CrossEntropyLoss;
use pgl_burn::burn::prelude::*;
use pgl_burn::checkpoint::{CheckpointStore, restore};
use pgl_burn::inspect::{param_grads, param_values};
use pgl_burn::objective::{InputImages, LocalTargets, ObjectiveHeads};
use pgl_burn::step::local_module_backward_with;
use pgl_burn::{Activation, DecoupledModel, TrainSettings, Trainer};
use pgl_core::{
    EpochMetrics, NullSink, ObjectiveRegistry, OptimizerKind, RunConfig, ScheduleRegistry, StepKind,
};
use pgl_core::{GuidanceConfig, ObjectiveConfig, OptimizerConfig, RuntimeConfig, TrainingConfig};
use pgl_data::{DatasetSplits, load_dataset};
use pgl_models::testing::{digits_trainer, metrics_fingerprint, seeded_model};
use pgl_models::{DecoupledNet, ModelInput};

const IMAGE: [usize; 3] = [1, 8, 8];
const OBJECTIVES: &[&str] = &[
    "infopro",
    "infopro:class=supcon",
    "supcon:temperature=0.2",
    "infopro:class=supcon,proj=mlp,recon=mse",
];

fn data(train: usize) -> DatasetSplits {
    let mut d = load_dataset("digits", None).unwrap();
    d.train = d.train.truncated(train);
    d.test = d.test.truncated(100);
    d
}

fn batch(data: &DatasetSplits, n: usize, device: &Device) -> (Activation, Tensor<1, Int>) {
    batch_tensors(&data.train.batch(&(0..n).collect::<Vec<_>>()), device)
}

fn has_grads(grads: &[(String, Option<Vec<f32>>)]) -> bool {
    grads.iter().any(|(_, g)| g.is_some())
}

#[test]
fn the_gradient_of_every_objective_reaches_no_earlier_module() {
    let data = data(64);
    for spec in OBJECTIVES {
        let objective = ObjectiveRegistry::with_builtins().build(spec).unwrap();
        for name in ["mlp", "cnn"] {
            let device = Device::flex().autodiff();
            let net = seeded_model(name, ModelInput::DIGITS, 4, 3, &device);
            let input = InputImages::new(IMAGE, data.train.mean.clone(), data.train.std.clone());
            let heads = ObjectiveHeads::build(&*objective, &net, &input, 3, &device).unwrap();
            assert!(!heads.is_empty(), "{spec}: extra heads");
            let (images, labels) = batch(&data, 32, &device);
            let targets = LocalTargets {
                labels: &labels,
                images: Some(&images),
            };
            let loss = CrossEntropyLoss::new(None, &device);
            let mut input = images.clone();
            for k in 0..net.num_modules() {
                let backward = local_module_backward_with(&net, &heads, k, input, targets, &loss);
                let grads = backward.grads.expect("finite loss");
                for earlier in 0..k {
                    let mut leaked = param_grads(&net.stages[earlier], &grads);
                    if let Some(h) = heads.module(earlier) {
                        leaked.extend(param_grads(h, &grads));
                    }
                    leaked.retain(|(_, g)| g.is_some());
                    assert!(
                        leaked.is_empty(),
                        "{spec} {name}: module {k}'s loss has gradients in module {earlier}: {leaked:?}"
                    );
                }
                let stage = param_grads(&net.stages[k], &grads);
                let (head, body): (Vec<_>, Vec<_>) =
                    stage.into_iter().partition(|(p, _)| p.starts_with("head"));
                assert!(has_grads(&body), "{spec} {name}: module {k} learns");
                let terms = objective.terms(k, 4);
                assert_eq!(
                    has_grads(&head),
                    terms.weight_of("ce") > 0.0,
                    "{spec} {name}: head {k} learns exactly when its weight is > 0"
                );
                let own = heads.module(k).unwrap();
                assert_eq!(
                    own.heads.len(),
                    terms.terms().len(),
                    "{spec}: a slot per term"
                );
                for (slot, weighted) in own.heads.iter().zip(terms.terms()) {
                    let term = weighted.term.name();
                    let needs_head = term != "ce";
                    assert_eq!(slot.is_some(), needs_head, "{spec} {name}: {term} {k}");
                    if let Some(head) = slot {
                        let g = param_grads(head, &grads);
                        assert!(
                            has_grads(&g),
                            "{spec} {name}: the {term} head of module {k}"
                        );
                    }
                }
                input = backward.output;
            }
        }
    }
}

/// Plain SGD with learning rate 1: `before - after` is exactly the gradient.
fn plain_sgd(objective: &str) -> RunConfig {
    RunConfig {
        optimizer: OptimizerConfig {
            kind: OptimizerKind::Sgd,
            lr: 1.0,
            momentum: 0.0,
            ..Default::default()
        },
        guidance: GuidanceConfig {
            schedule: "local-only".to_string(),
            ..Default::default()
        },
        objective: ObjectiveConfig {
            local_objective: objective.to_string(),
        },
        ..RunConfig::default()
    }
}

fn values_of<M: pgl_burn::burn::module::Module>(m: &M) -> Vec<(String, Vec<f32>)> {
    param_values(m)
        .into_iter()
        .filter(|p| p.trainable)
        .map(|p| (p.path, p.values))
        .collect()
}

fn assert_update_is_gradient(
    what: &str,
    before: &[(String, Vec<f32>)],
    after: &[(String, Vec<f32>)],
    grads: &[(String, Option<Vec<f32>>)],
) {
    assert_eq!(before.len(), grads.len(), "{what}: parameters");
    for (((path, b), (_, a)), (grad_path, g)) in before.iter().zip(after).zip(grads) {
        assert_eq!(path, grad_path);
        let zeros = vec![0.0; b.len()];
        let g = g.as_ref().unwrap_or(&zeros);
        for (i, ((x, y), e)) in b.iter().zip(a).zip(g).enumerate() {
            let update = x - y;
            assert!(
                (update - e).abs() <= 1e-5 + 1e-4 * e.abs(),
                "{what} {path}[{i}]: update {update}, gradient {e}"
            );
        }
    }
}

#[test]
fn a_local_step_updates_each_module_and_its_extra_heads_by_its_own_objective() {
    let data = data(64);
    for spec in ["infopro", "supcon"] {
        let mut t = digits_trainer("cnn", 4, &plain_sgd(spec), 5);
        let device = t.device().clone();
        let net: DecoupledNet = t.model().clone();
        let heads = t.objective_heads().clone();
        let (images, labels) = batch(&data, 32, &device);
        let targets = LocalTargets {
            labels: &labels,
            images: Some(&images),
        };
        let loss = CrossEntropyLoss::new(None, &device);
        let mut input = images.clone();
        let mut expected_model = Vec::new();
        let mut expected_heads = Vec::new();
        for k in 0..4 {
            let backward = local_module_backward_with(&net, &heads, k, input, targets, &loss);
            let grads = backward.grads.unwrap();
            expected_model.extend(
                param_grads(&net.stages[k], &grads)
                    .into_iter()
                    .map(|(p, g)| (format!("stages.{k}.{p}"), g)),
            );
            expected_heads.extend(
                param_grads(heads.module(k).unwrap(), &grads)
                    .into_iter()
                    .map(|(p, g)| (format!("modules.{k}.{p}"), g)),
            );
            input = backward.output;
        }
        t.step(StepKind::Local, images, labels).unwrap();
        assert_update_is_gradient(
            spec,
            &values_of(&net),
            &values_of(t.model()),
            &expected_model,
        );
        assert_update_is_gradient(
            spec,
            &values_of(&heads),
            &values_of(t.objective_heads()),
            &expected_heads,
        );
    }
}

fn config(epochs: u64, objective: &str) -> RunConfig {
    RunConfig {
        training: TrainingConfig {
            epochs,
            batch_size: 32,
            ..Default::default()
        },
        optimizer: OptimizerConfig {
            kind: OptimizerKind::Adam,
            // The resume test extends a 1-epoch run to 2: the schedule must not depend on the
            // run's length (cosine does).
            lr_schedule: "constant".to_string(),
            ..Default::default()
        },
        guidance: GuidanceConfig {
            schedule: "periodic:every=3".to_string(),
            ..Default::default()
        },
        objective: ObjectiveConfig {
            local_objective: objective.to_string(),
        },
        ..RunConfig::default()
    }
}

type Fingerprint = (Vec<Vec<u32>>, Vec<Vec<u32>>, Vec<String>);

fn fingerprint(t: &Trainer<DecoupledNet>, history: &[EpochMetrics]) -> Fingerprint {
    let bits = |values: Vec<(String, Vec<f32>)>| -> Vec<Vec<u32>> {
        values
            .into_iter()
            .map(|(_, v)| v.iter().map(|x| x.to_bits()).collect())
            .collect()
    };
    (
        bits(values_of(t.model())),
        bits(values_of(t.objective_heads())),
        metrics_fingerprint(history),
    )
}

#[test]
fn resuming_with_extra_heads_reproduces_an_uninterrupted_run_bit_for_bit() {
    let data = data(160);
    for spec in ["infopro", "supcon"] {
        let full_config = config(2, spec);
        let mut uninterrupted = digits_trainer("cnn", 4, &full_config, 7);
        let full = uninterrupted.fit(&data, &mut NullSink).unwrap();

        let tmp = tempfile::tempdir().unwrap();
        let store = CheckpointStore::new(tmp.path(), 2);
        let mut first = digits_trainer("cnn", 4, &config(1, spec), 7);
        first.fit(&data, &mut NullSink).unwrap();
        let saved = store.save(&first, &full_config, [1, 8, 8, 10]).unwrap();
        assert!(saved.join("objective.bpk").is_file(), "{spec}: heads saved");
        drop(first);

        // Other initial weights and heads: everything must come from the checkpoint.
        let mut resumed = digits_trainer("cnn", 4, &full_config, 99);
        restore(&saved, &mut resumed).unwrap();
        let history = resumed.fit(&data, &mut NullSink).unwrap();
        let (got, expected) = (
            fingerprint(&resumed, &history),
            fingerprint(&uninterrupted, &full),
        );
        assert!(
            got.1 == expected.1,
            "{spec}: extra heads differ after resume"
        );
        assert!(
            got == expected,
            "{spec}: weights or metrics differ after resume"
        );
    }
}

#[test]
fn pipelined_training_with_extra_heads_is_bit_identical_to_sequential_training() {
    let data = data(200);
    for spec in ["infopro", "infopro:class=supcon"] {
        let mut sequential = digits_trainer("cnn", 4, &config(1, spec), 3);
        let history = sequential.fit(&data, &mut NullSink).unwrap();
        let expected = fingerprint(&sequential, &history);
        for workers in [2, 4] {
            let config = RunConfig {
                runtime: RuntimeConfig {
                    pipeline: Some(workers),
                    ..config(1, spec).runtime
                },
                ..config(1, spec)
            };
            let mut pipelined = digits_trainer("cnn", 4, &config, 3);
            let history = pipelined.fit(&data, &mut NullSink).unwrap();
            assert!(
                fingerprint(&pipelined, &history) == expected,
                "{spec} with {workers} workers differs from sequential"
            );
        }
    }
}

#[test]
fn ce_has_no_extra_heads_and_others_need_the_input_shape() {
    let device = Device::flex().autodiff();
    let build = |objective: &str, shape: Option<[usize; 3]>| {
        let net = seeded_model("cnn", ModelInput::DIGITS, 4, 3, &device);
        let schedule = ScheduleRegistry::with_builtins()
            .build("local-only")
            .unwrap();
        let config = RunConfig {
            objective: ObjectiveConfig {
                local_objective: objective.to_string(),
            },
            ..RunConfig::default()
        };
        let mut settings = TrainSettings::from_config(&config).unwrap();
        if let Some(shape) = shape {
            settings = settings
                .with_input_shape(shape)
                .with_input_normalization(vec![0.5], vec![0.25]);
        }
        Trainer::new(net, schedule, settings, &device)
    };
    assert!(build("ce", None).unwrap().objective_heads().is_empty());
    let err = build("infopro", None).err().unwrap().to_string();
    assert!(err.contains("input shape"), "{err}");
    assert!(
        !build("infopro", Some(IMAGE))
            .unwrap()
            .objective_heads()
            .is_empty()
    );
    let err = build("infopro:ixx_1=0,ixy_1=0", Some(IMAGE))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("module 1 of K=4"), "{err}");
}

/// `objective.bpk` of a digits run (cnn, K = 2, `infopro:class=supcon`, seed 5) written by pgl
/// before issue 22 changed InfoPro's defaults (`tests/fixtures/objective-before-issue-22.bpk`):
/// it loads into the heads of the spec that run's record now reads as (MSE reconstruction, MLP
/// projection), and the heads of today's defaults refuse it.
#[test]
fn objective_heads_saved_before_issue_22_still_load() {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/objective-before-issue-22.bpk");
    let device = Device::flex().autodiff();
    let net = seeded_model("cnn", ModelInput::DIGITS, 2, 5, &device);
    let digits = data(8);
    let input = InputImages::new(IMAGE, digits.train.mean.clone(), digits.train.std.clone());
    let legacy = pgl_core::objective::legacy_spec("infopro:class=supcon");
    let objective = ObjectiveRegistry::with_builtins().build(&legacy).unwrap();
    assert_eq!(
        objective.spec(),
        "infopro:class=supcon,temperature=0.07,proj=mlp,recon=mse"
    );
    let fresh = ObjectiveHeads::build(&*objective, &net, &input, 0, &device).unwrap();
    let before = param_values(&fresh);
    let loaded = fresh.load_file(&fixture).expect("the old heads load");
    let after = param_values(&loaded);
    assert_eq!(
        before.iter().map(|p| &p.path).collect::<Vec<_>>(),
        after.iter().map(|p| &p.path).collect::<Vec<_>>()
    );
    assert!(
        after
            .iter()
            .any(|p| p.path.to_lowercase().contains("projection"))
    );
    for (b, a) in before.iter().zip(&after) {
        assert_ne!(b.values, a.values, "{} comes from the file", a.path);
    }
    let today = ObjectiveRegistry::with_builtins()
        .build("infopro:class=supcon")
        .unwrap();
    let heads = ObjectiveHeads::build(&*today, &net, &input, 0, &device).unwrap();
    assert!(
        heads.load_file(&fixture).is_err(),
        "a proj=aux head cannot take the old MLP projection's weights"
    );
}
