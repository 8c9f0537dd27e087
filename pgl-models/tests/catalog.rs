//! The model and head tables: a crate adds a model (one builder and one table line) and a
//! head, and they build, train and show up in the catalog like the built-ins.

use pgl_burn::activation::batch_tensors;
use pgl_burn::burn::nn::{LinearConfig, Relu};
use pgl_burn::burn::prelude::*;
use pgl_burn::inspect::param_values;
use pgl_burn::{DecoupledModel, TrainSettings, Trainer};
use pgl_core::ObjectiveConfig;
use pgl_core::{RunConfig, ScheduleRegistry, StepKind};
use pgl_data::load_dataset;
use pgl_models::layer::{Flatten, linear_bn_relu};
use pgl_models::{
    AuxHead, BUILTIN_MODELS, Backbone, Block, FeatureShape, Layer, ModelCatalog, ModelEntry,
    ModelError, ModelInput, ModelOptions, SplitKind, mlp,
};

/// A tiny model of this crate: three `linear 16 → BN → ReLU` blocks and a linear classifier.
fn tiny_backbone(input: ModelInput, device: &Device) -> Result<Backbone, ModelError> {
    let mut shape = input.features();
    let blocks = (0..3)
        .map(|_| {
            let (layers, output) = linear_bn_relu(shape, 16, device);
            shape = output;
            Block { layers, output }
        })
        .collect();
    Ok(Backbone {
        blocks,
        classifier: AuxHead::ZeroConvOneFc,
    })
}

/// Its line of the model table; it publishes a split table for K = 3 only.
const TINY: ModelEntry = ModelEntry {
    name: "tiny",
    description: "3 x (linear 16, BN, ReLU)",
    default_head: AuxHead::ZeroConvOneFc,
    units: 3,
    infopro: |modules| (modules == 3).then(|| vec![1, 2]),
    reference_input: [1, 8, 8],
    build: tiny_backbone,
    pytorch: None,
};

/// A head of this crate: linear 32 → ReLU → linear, on any features.
fn two_fc(
    features: FeatureShape,
    classes: usize,
    device: &Device,
) -> Result<Vec<Layer>, ModelError> {
    let mut layers = Vec::new();
    if matches!(features, FeatureShape::Spatial { .. }) {
        layers.push(Layer::Flatten(Flatten));
    }
    layers.push(Layer::Linear(
        LinearConfig::new(features.numel(), 32).init(device),
    ));
    layers.push(Layer::Relu(Relu::new()));
    layers.push(Layer::Linear(LinearConfig::new(32, classes).init(device)));
    Ok(layers)
}

const TWO_FC: AuxHead = AuxHead::new("2f", "linear 32 -> ReLU -> linear", "this test", two_fc);

fn catalog() -> ModelCatalog {
    let mut catalog = ModelCatalog::with_builtins();
    catalog.register(TINY).unwrap();
    catalog.register_head(TWO_FC).unwrap();
    catalog
}

#[test]
fn a_registered_model_and_head_are_listed_and_described() {
    let catalog = catalog();
    let builtins: Vec<&str> = BUILTIN_MODELS.iter().map(|m| m.name).collect();
    assert_eq!(catalog.model_names()[..builtins.len()], builtins[..]);
    assert_eq!(catalog.model_names().last(), Some(&"tiny"));
    assert_eq!(catalog.head_names().last(), Some(&"2f"));
    assert_eq!(catalog.head("2f").unwrap(), TWO_FC);
    assert_eq!(
        catalog.infopro_models(),
        vec!["resnet32", "resnet110", "tiny"]
    );
    let unknown = catalog.head("3f").unwrap_err().to_string();
    assert!(unknown.contains("aug5, 2f"), "{unknown}");
    let unknown = catalog.model("huge").unwrap_err().to_string();
    assert!(unknown.contains("vgg13, tiny"), "{unknown}");

    let info = catalog.describe(&Device::flex());
    let tiny = info.iter().find(|m| m.name == "tiny").unwrap();
    assert_eq!(tiny.units, 3);
    assert_eq!(tiny.infopro_modules, vec![3]);
    assert_eq!(tiny.default_head, "0c1f");
    // (64·16 + 16 + 2·16) + 2 · (16·16 + 16 + 2·16) + (16·10 + 10)
    assert_eq!(tiny.params, 1072 + 2 * 304 + 170);
}

#[test]
fn names_are_registered_once() {
    let mut catalog = catalog();
    for e in [
        catalog.register(TINY).unwrap_err(),
        catalog.register(mlp::MLP).unwrap_err(),
        catalog.register_head(TWO_FC).unwrap_err(),
        catalog.register_head(AuxHead::MlpSr).unwrap_err(),
    ] {
        assert!(matches!(e, ModelError::DuplicateName { .. }), "{e}");
    }
    assert_eq!(catalog.models().len(), BUILTIN_MODELS.len() + 1);
    assert_eq!(catalog.heads().len(), AuxHead::ALL.len() + 1);
}

#[test]
fn a_registered_model_is_cut_by_its_own_table_and_trains_with_a_registered_head() {
    let catalog = catalog();
    let device = Device::flex().autodiff();
    let e = catalog
        .build(
            "tiny",
            ModelInput::DIGITS,
            &ModelOptions {
                modules: 2,
                split: SplitKind::InfoPro,
                aux_head: None,
                ..ModelOptions::even(1)
            },
            1,
            &device,
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("tiny") && e.contains("K = 3"), "{e}");

    let options = ModelOptions {
        modules: 3,
        split: SplitKind::InfoPro,
        aux_head: Some(catalog.head("2f").unwrap()),
        ..ModelOptions::even(1)
    };
    let model = catalog
        .build("tiny", ModelInput::DIGITS, &options, 1, &device)
        .unwrap();
    assert_eq!(model.num_modules(), 3);
    for stage in &model.stages[..2] {
        assert_eq!(stage.head.len(), 3, "linear, ReLU, linear");
    }
    let before = param_values(&model);

    let data = load_dataset("digits", None).unwrap();
    let (images, labels) = batch_tensors(&data.train.batch(&(0..32).collect::<Vec<_>>()), &device);
    let schedule = ScheduleRegistry::with_builtins()
        .build("local-only")
        .unwrap();
    let settings = TrainSettings::from_config(&RunConfig {
        objective: ObjectiveConfig {
            local_objective: "ce".to_string(),
        },
        ..RunConfig::default()
    })
    .unwrap();
    let mut trainer = Trainer::new(model, schedule, settings, &device).unwrap();
    let outcome = trainer.step(StepKind::Local, images, labels).unwrap();
    assert_eq!(outcome.module_losses.len(), 3);
    assert!(
        outcome
            .module_losses
            .iter()
            .all(|l| l.is_some_and(f32::is_finite)),
        "{:?}",
        outcome.module_losses
    );
    let after = param_values(trainer.model());
    for k in 0..3 {
        let prefix = format!("stages.{k}.");
        let moved = before
            .iter()
            .zip(&after)
            .filter(|(b, _)| b.trainable && b.path.starts_with(&prefix))
            .any(|(b, a)| b.values != a.values);
        assert!(moved, "module {k} was not updated");
    }
}
