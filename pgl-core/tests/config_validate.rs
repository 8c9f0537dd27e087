//! `RunConfig::validate` checks numbers only; names are the business of the crates that own
//! them (issue 10 item 3: pgl-core knows no backend, split, label or augmentation names).

use pgl_core::{CoreError, RunConfig};

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
                modules: 0,
                ..base()
            },
            "modules",
        ),
        (
            RunConfig {
                epochs: 0,
                ..base()
            },
            "epochs",
        ),
        (
            RunConfig {
                batch_size: 0,
                ..base()
            },
            "batch-size",
        ),
        (RunConfig { lr: 0.0, ..base() }, "lr"),
        (
            RunConfig {
                lr: f64::NAN,
                ..base()
            },
            "lr",
        ),
        (
            RunConfig {
                momentum: 1.0,
                ..base()
            },
            "momentum",
        ),
        (
            RunConfig {
                nesterov: true,
                momentum: 0.0,
                ..base()
            },
            "nesterov",
        ),
        (
            RunConfig {
                weight_decay: -1.0,
                ..base()
            },
            "weight-decay",
        ),
        (
            RunConfig {
                aux_weight: f64::INFINITY,
                ..base()
            },
            "aux-weight",
        ),
        (
            RunConfig {
                pipeline: Some(0),
                ..base()
            },
            "pipeline",
        ),
        (
            RunConfig {
                checkpoint_every: 0,
                ..base()
            },
            "checkpoint-every",
        ),
        (
            RunConfig {
                keep_checkpoints: 0,
                ..base()
            },
            "keep-checkpoints",
        ),
        (
            RunConfig {
                train_limit: Some(0),
                ..base()
            },
            "train-limit",
        ),
        (
            RunConfig {
                test_limit: Some(0),
                ..base()
            },
            "test-limit",
        ),
        (
            RunConfig {
                synthetic_gradient: -0.5,
                ..base()
            },
            "synthetic-gradient",
        ),
        (
            RunConfig {
                synthetic_gradient: f64::NAN,
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
        backend: "my-npu".to_string(),
        device: Some(3),
        split: "my-split".to_string(),
        label: "my-label".to_string(),
        augment: "crop:pad=4,flip".to_string(),
        ..RunConfig::default()
    };
    assert_eq!(config.validate(), Ok(()));
}
