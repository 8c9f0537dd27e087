//! The engine with a model whose layers this crate defines: it learns, resumes exactly from a
//! checkpoint, pipelines bit-identically, and exports.

use pgl_burn::burn::prelude::*;
use pgl_burn::checkpoint::{CheckpointStore, restore};
use pgl_burn::export::{Naming, export_safetensors, import_safetensors};
use pgl_burn::inspect::param_values;
use pgl_burn::{StagedNet, TrainSettings, Trainer};
use pgl_core::{EpochMetrics, NullSink, RunConfig, ScheduleRegistry};
use pgl_core::{GuidanceConfig, ModelConfig, OptimizerConfig, RuntimeConfig, TrainingConfig};
use pgl_data::{DatasetSplits, load_dataset};
use pgl_example_custom_model::{SeparableStage, separable_net};

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
        runtime: RuntimeConfig {
            pipeline,
            ..Default::default()
        },
        ..RunConfig::default()
    }
}

/// A trainer of the separable network, initialised from seed 7.
fn trainer(config: &RunConfig) -> Trainer<StagedNet<SeparableStage>> {
    let device = Device::flex().autodiff();
    let net = separable_net(&[1, 8, 16, 16], 10, 7, &device);
    let schedule = ScheduleRegistry::with_builtins()
        .build(&config.guidance.schedule)
        .unwrap();
    let settings = TrainSettings::from_config(config)
        .unwrap()
        .with_input_shape([1, 8, 8]);
    Trainer::new(net, schedule, settings, &device).unwrap()
}

/// Every weight's bits and every epoch's metrics.
fn fingerprint(
    t: &Trainer<StagedNet<SeparableStage>>,
    history: &[EpochMetrics],
) -> (Vec<Vec<u32>>, Vec<String>) {
    let weights = param_values(t.model())
        .into_iter()
        .map(|p| p.values.iter().map(|v| v.to_bits()).collect())
        .collect();
    let metrics = history
        .iter()
        .map(|m| {
            format!(
                "{} {} {}",
                m.train_loss.to_bits(),
                m.test_accuracy,
                m.steps_global
            )
        })
        .collect();
    (weights, metrics)
}

#[test]
fn the_user_layers_learn_the_digits_with_guidance() {
    let data = data();
    let mut t = trainer(&config(4, None));
    let history = t.fit(&data, &mut NullSink).unwrap();
    let last = history.last().unwrap();
    assert!(last.steps_global > 0 && last.steps_local > last.steps_global);
    assert!(history[0].train_loss > last.train_loss, "{history:?}");
    // Far above chance (10 %) after four short epochs.
    assert!(last.test_accuracy > 0.5, "{history:?}");
}

#[test]
fn training_resumes_exactly_from_a_checkpoint_and_pipelines_bit_identically() {
    let data = data();
    let mut straight = trainer(&config(2, None));
    let history = straight.fit(&data, &mut NullSink).unwrap();
    let expected = fingerprint(&straight, &history);

    // One epoch, a checkpoint on disk, a fresh trainer restored from it, one more epoch.
    let tmp = tempfile::tempdir().unwrap();
    let store = CheckpointStore::new(tmp.path(), 2);
    let mut first = trainer(&config(2, None));
    first.train_epoch(&data, &mut NullSink).unwrap();
    let saved = store.save(&first, &config(2, None), [32, 1, 8, 8]).unwrap();
    let mut resumed = trainer(&config(2, None));
    restore(&saved, &mut resumed).unwrap();
    let history = resumed.fit(&data, &mut NullSink).unwrap();
    assert!(
        fingerprint(&resumed, &history) == expected,
        "resumed run differs"
    );

    // Local steps in a pipeline of two workers: the same computation.
    let mut pipelined = trainer(&config(2, Some(2)));
    let history = pipelined.fit(&data, &mut NullSink).unwrap();
    assert!(pipelined.pipeline_groups().is_some());
    assert!(
        fingerprint(&pipelined, &history) == expected,
        "pipelined run differs"
    );

    // Exported with pgl's names and read back into a fresh network: the same weights.
    let out = tmp.path().join("separable.safetensors");
    export_safetensors(straight.model(), &out, Naming::Pgl, &[]).unwrap();
    let fresh = trainer(&config(1, None)).into_model();
    let (loaded, imported) = import_safetensors(fresh, &out, &[]).unwrap();
    assert!(imported.tensors > 0);
    let bits = |m: &StagedNet<SeparableStage>| -> Vec<Vec<u32>> {
        param_values(m)
            .into_iter()
            .map(|p| p.values.iter().map(|v| v.to_bits()).collect())
            .collect()
    };
    assert_eq!(bits(&loaded), expected.0);
}
