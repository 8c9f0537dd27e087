//! A loss term added from outside pgl-burn's objective folder (issue 19): `probe`, the
//! cross-entropy of a linear probe of its own on the module's output, described here for
//! pgl-core (a `TermDescription`), computed here for pgl-burn (a `LossTerm` with its own head)
//! and used by an objective of this crate (`probed`: the aux head's cross-entropy plus λ times
//! the probe's). It trains with the engine's heads, checkpoints and pipeline like the built-in
//! terms: the run learns, resumes exactly and pipelines bit-identically; without the term
//! registered, the trainer refuses the objective, naming the term.

use pgl_core::{
    GuidanceConfig, ModelConfig, ObjectiveConfig, OptimizerConfig, RuntimeConfig, TrainingConfig,
};
use std::sync::Arc;

use pgl_burn::HeadStack;
use pgl_burn::burn::nn::LinearConfig;
use pgl_burn::burn::prelude::*;
use pgl_burn::checkpoint::{CheckpointStore, restore};
use pgl_burn::inspect::param_values;
use pgl_burn::objective::{LossTerm, TermEntry, TermHead, TermInput, TermSetup, TermSite};
use pgl_burn::{HeadLayer, TrainSettings, Trainer};
use pgl_core::objective::{
    CrossEntropyTerm, LocalObjective, ModuleTerms, ObjectiveEntry, ObjectiveRegistry,
    TermDescription, TermSpec,
};
use pgl_core::schedule::SpecArgs;
use pgl_core::{CoreError, LrScheduleRegistry, NullSink, RunConfig, ScheduleRegistry};
use pgl_data::{DatasetSplits, load_dataset};
use pgl_models::testing::{metrics_fingerprint, seeded_model};
use pgl_models::{DecoupledNet, ModelInput};

/// pgl-core's side of the term: its parameter (the probe's classes) and spec.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ProbeTerm {
    classes: usize,
}

impl TermDescription for ProbeTerm {
    const NAME: &'static str = "probe";

    fn spec(&self) -> TermSpec {
        TermSpec::new(Self::NAME, &[("classes", self.classes.to_string())])
    }

    fn from_spec(spec: &TermSpec) -> Result<Self, CoreError> {
        let raw = spec.required("classes")?;
        let classes = raw
            .parse()
            .ok()
            .filter(|c| *c > 0)
            .ok_or_else(|| spec.bad_value("classes", raw, "an integer > 0"))?;
        Ok(Self { classes })
    }
}

/// pgl-burn's side: a linear probe per module, and its cross-entropy.
#[derive(Debug)]
struct ProbeLoss(ProbeTerm);

impl LossTerm for ProbeLoss {
    fn spec(&self) -> TermSpec {
        self.0.spec()
    }

    fn build_head(&self, site: &TermSite<'_>) -> Result<Option<TermHead>, String> {
        let inputs: usize = site.features.iter().product();
        let linear = LinearConfig::new(inputs, self.0.classes).init(site.device);
        Ok(Some(TermHead::Stack(HeadStack::new(vec![
            HeadLayer::Linear(linear),
        ]))))
    }

    fn loss(&self, input: &TermInput<'_>, head: Option<&TermHead>) -> Tensor<1> {
        let Some(TermHead::Stack(probe)) = head else {
            panic!("the probe's head");
        };
        let logits = probe.forward(input.features.clone());
        input.loss_fn.forward(logits, input.labels.clone())
    }
}

const PROBE: TermEntry = TermEntry {
    name: ProbeTerm::NAME,
    build: |spec: &TermSpec, _: &TermSetup<'_>| -> Result<Arc<dyn LossTerm>, CoreError> {
        Ok(Arc::new(ProbeLoss(ProbeTerm::from_spec(spec)?)))
    },
};

/// An objective of this crate: every aux module learns from its head's cross-entropy plus
/// `lambda` times a 10-class probe's.
#[derive(Debug, Clone)]
struct Probed {
    lambda: f64,
}

impl LocalObjective for Probed {
    fn spec(&self) -> String {
        format!("probed:lambda={}", self.lambda)
    }
    fn terms(&self, module: usize, modules: usize) -> ModuleTerms {
        if module + 1 == modules {
            return ModuleTerms::ce();
        }
        ModuleTerms::new()
            .with(CrossEntropyTerm.spec(), 1.0)
            .with(ProbeTerm { classes: 10 }.spec(), self.lambda)
    }
    fn clone_box(&self) -> Box<dyn LocalObjective> {
        Box::new(self.clone())
    }
}

const PROBED: ObjectiveEntry = ObjectiveEntry {
    name: "probed",
    summary: "[lambda=L]: the aux head's cross-entropy plus L times a linear probe's",
    build: |node, _| {
        let args = SpecArgs::new(node, &["lambda"])?;
        let lambda = args.non_negative_f64("lambda", 0.5)?;
        Ok(Box::new(Probed { lambda }))
    },
};

fn data() -> DatasetSplits {
    load_dataset("digits", None).unwrap()
}

fn config(epochs: u64, pipeline: Option<usize>) -> RunConfig {
    RunConfig {
        model: ModelConfig {
            modules: 3,
            ..Default::default()
        },
        training: TrainingConfig {
            epochs,
            batch_size: 32,
            ..Default::default()
        },
        optimizer: OptimizerConfig {
            lr: 1e-2,
            ..Default::default()
        },
        guidance: GuidanceConfig {
            schedule: "periodic:every=3".to_string(),
            ..Default::default()
        },
        objective: ObjectiveConfig {
            local_objective: "probed:lambda=0.5".to_string(),
        },
        runtime: RuntimeConfig {
            pipeline,
            ..Default::default()
        },
        ..RunConfig::default()
    }
}

fn settings(config: &RunConfig, with_term: bool) -> Result<TrainSettings, CoreError> {
    let mut objectives = ObjectiveRegistry::with_builtins();
    objectives.register_entry(PROBED)?;
    let lr = LrScheduleRegistry::with_builtins();
    let settings = TrainSettings::from_config_with(config, &lr, &objectives)?;
    let settings = settings.with_input_shape([1, 8, 8]);
    if with_term {
        settings.with_loss_term(PROBE)
    } else {
        Ok(settings)
    }
}

fn trainer(config: &RunConfig) -> Trainer<DecoupledNet> {
    let device = Device::flex().autodiff();
    let net = seeded_model("cnn", ModelInput::DIGITS, 3, 5, &device);
    let schedule = ScheduleRegistry::with_builtins()
        .build(&config.guidance.schedule)
        .unwrap();
    let settings = settings(config, true).unwrap();
    Trainer::new(net, schedule, settings, &device).unwrap()
}

/// Every weight's bits, the model's and the probes'.
fn bits(t: &Trainer<DecoupledNet>) -> Vec<Vec<u32>> {
    let model = param_values(t.model()).into_iter();
    let heads = param_values(t.objective_heads()).into_iter();
    model
        .chain(heads)
        .map(|p| p.values.iter().map(|v| v.to_bits()).collect())
        .collect()
}

#[test]
fn a_term_from_outside_trains_its_own_head_and_the_run_learns() {
    let data = data();
    let mut t = trainer(&config(3, None));
    let before = param_values(t.objective_heads());
    assert_eq!(
        before.len(),
        2 * 2,
        "a weight and a bias per aux module's probe"
    );
    for k in 0..2 {
        let own = t.objective_heads().module(k).unwrap();
        assert!(matches!(own.head_of("probe"), Some(TermHead::Stack(_))));
        assert!(own.head_of("ce").is_none(), "the aux head is the model's");
    }
    let history = t.fit(&data, &mut NullSink).unwrap();
    let last = history.last().unwrap();
    assert!(last.test_accuracy > 0.5, "{history:?}");
    let after = param_values(t.objective_heads());
    for (b, a) in before.iter().zip(&after) {
        assert_ne!(b.values, a.values, "{} learns", a.path);
    }
}

#[test]
fn a_term_from_outside_resumes_exactly_and_pipelines_bit_identically() {
    let data = data();
    let mut straight = trainer(&config(2, None));
    let history = straight.fit(&data, &mut NullSink).unwrap();
    let expected = (bits(&straight), metrics_fingerprint(&history));

    let tmp = tempfile::tempdir().unwrap();
    let store = CheckpointStore::new(tmp.path(), 2);
    let mut first = trainer(&config(2, None));
    first.train_epoch(&data, &mut NullSink).unwrap();
    let saved = store.save(&first, &config(2, None), [32, 1, 8, 8]).unwrap();
    let mut resumed = trainer(&config(2, None));
    restore(&saved, &mut resumed).unwrap();
    let history = resumed.fit(&data, &mut NullSink).unwrap();
    assert!(
        (bits(&resumed), metrics_fingerprint(&history)) == expected,
        "resumed run differs"
    );

    let mut pipelined = trainer(&config(2, Some(2)));
    let history = pipelined.fit(&data, &mut NullSink).unwrap();
    assert!(
        (bits(&pipelined), metrics_fingerprint(&history)) == expected,
        "pipelined run differs"
    );
}

#[test]
fn an_objective_whose_term_is_not_registered_is_refused_naming_the_term() {
    let device = Device::flex().autodiff();
    let net = seeded_model("cnn", ModelInput::DIGITS, 3, 5, &device);
    let schedule = ScheduleRegistry::with_builtins()
        .build("local-only")
        .unwrap();
    let without = settings(&config(1, None), false).unwrap();
    let err = Trainer::new(net, schedule, without, &device)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains("probe") && err.contains("ce, reconstruction, supcon"),
        "{err}"
    );
    // A term's name can be registered once.
    let twice = settings(&config(1, None), true)
        .unwrap()
        .with_loss_term(PROBE);
    assert!(twice.is_err());
}
