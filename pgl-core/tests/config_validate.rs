//! `RunConfig::validate` checks numbers only; names are the business of the crates that own
//! them (issue 10 item 3: pgl-core knows no backend, split, label or augmentation names).

use pgl_core::{CoreError, RunConfig};
use pgl_core::{
    DataConfig, GuidanceConfig, ModelConfig, OptimizerConfig, RuntimeConfig, TrainingConfig,
};

fn field_of(config: RunConfig) -> String {
    match config.validate() {
        Err(CoreError::InvalidConfig { field, .. }) => field,
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

#[test]
fn numeric_fields_are_checked_and_named() {
    assert_eq!(RunConfig::default().validate(), Ok(()));
    let base = RunConfig::default;
    let cases: Vec<(RunConfig, &str)> = vec![
        (
            RunConfig {
                model: ModelConfig {
                    modules: 0,
                    ..base().model
                },
                ..base()
            },
            "modules",
        ),
        (
            RunConfig {
                training: TrainingConfig {
                    epochs: 0,
                    ..base().training
                },
                ..base()
            },
            "epochs",
        ),
        (
            RunConfig {
                training: TrainingConfig {
                    batch_size: 0,
                    ..base().training
                },
                ..base()
            },
            "batch-size",
        ),
        (
            RunConfig {
                optimizer: OptimizerConfig {
                    lr: 0.0,
                    ..base().optimizer
                },
                ..base()
            },
            "lr",
        ),
        (
            RunConfig {
                optimizer: OptimizerConfig {
                    lr: f64::NAN,
                    ..base().optimizer
                },
                ..base()
            },
            "lr",
        ),
        (
            RunConfig {
                optimizer: OptimizerConfig {
                    momentum: 1.0,
                    ..base().optimizer
                },
                ..base()
            },
            "momentum",
        ),
        (
            RunConfig {
                optimizer: OptimizerConfig {
                    nesterov: true,
                    momentum: 0.0,
                    ..base().optimizer
                },
                ..base()
            },
            "nesterov",
        ),
        (
            RunConfig {
                optimizer: OptimizerConfig {
                    weight_decay: -1.0,
                    ..base().optimizer
                },
                ..base()
            },
            "weight-decay",
        ),
        (
            RunConfig {
                guidance: GuidanceConfig {
                    aux_weight: f64::INFINITY,
                    ..base().guidance
                },
                ..base()
            },
            "aux-weight",
        ),
        (
            RunConfig {
                runtime: RuntimeConfig {
                    pipeline: Some(0),
                    ..base().runtime
                },
                ..base()
            },
            "pipeline",
        ),
        (
            RunConfig {
                runtime: RuntimeConfig {
                    checkpoint_every: 0,
                    ..base().runtime
                },
                ..base()
            },
            "checkpoint-every",
        ),
        (
            RunConfig {
                runtime: RuntimeConfig {
                    keep_checkpoints: 0,
                    ..base().runtime
                },
                ..base()
            },
            "keep-checkpoints",
        ),
        (
            RunConfig {
                data: DataConfig {
                    train_limit: Some(0),
                    ..base().data
                },
                ..base()
            },
            "train-limit",
        ),
        (
            RunConfig {
                data: DataConfig {
                    test_limit: Some(0),
                    ..base().data
                },
                ..base()
            },
            "test-limit",
        ),
        (
            RunConfig {
                guidance: GuidanceConfig {
                    synthetic_gradient: -0.5,
                    ..base().guidance
                },
                ..base()
            },
            "synthetic-gradient",
        ),
        (
            RunConfig {
                guidance: GuidanceConfig {
                    synthetic_gradient: f64::NAN,
                    ..base().guidance
                },
                ..base()
            },
            "synthetic-gradient",
        ),
    ];
    for (config, field) in cases {
        assert_eq!(field_of(config), field);
    }
}

#[test]
fn names_are_left_to_the_crates_that_own_them() {
    // A backend, split or recipe that a later release (or a user's own crate) adds must not be
    // refused here: pgl-burn's backend table, the model zoo and pgl-data parse these names.
    let config = RunConfig {
        runtime: RuntimeConfig {
            backend: "my-npu".to_string(),
            device: Some(3),
            ..Default::default()
        },
        model: ModelConfig {
            split: "my-split".to_string(),
            ..Default::default()
        },
        data: DataConfig {
            label: "my-label".to_string(),
            augment: "crop:pad=4,flip".to_string(),
            ..Default::default()
        },
        ..RunConfig::default()
    };
    assert_eq!(config.validate(), Ok(()));
}
