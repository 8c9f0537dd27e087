//! `RunConfig` in groups: the flat records written before the groups read unchanged, keys keep
//! their names, errors name the key, and (with the `clap` feature) the flags declared on the
//! groups apply over a configuration only where given.

use pgl_core::{OptimizerKind, RunConfig};

/// Every key of a run record as pgl wrote it before the configuration had groups
/// (2026-12-07), in its order then.
const KEYS_BEFORE_GROUPS: [&str; 41] = [
    "dataset",
    "data_dir",
    "model",
    "modules",
    "split",
    "aux_head",
    "shortcut",
    "conv_init",
    "schedule",
    "epochs",
    "batch_size",
    "lr",
    "lr_schedule",
    "local_objective",
    "optimizer",
    "momentum",
    "nesterov",
    "weight_decay",
    "no_decay_norm_bias",
    "aux_weight",
    "global_optimizer",
    "global_lr_scale",
    "global_replay",
    "synthetic_gradient",
    "global_depth",
    "global_aux_detach",
    "local_lr_schedule",
    "global_microbatch",
    "seed",
    "train_limit",
    "test_limit",
    "label",
    "augment",
    "backend",
    "device",
    "global_checkpointing",
    "pipeline",
    "checkpoint_every",
    "keep_checkpoints",
    "init_from",
    "keep_optimizer",
];

/// Keys added after the groups, each read with a default that means what runs did before.
const KEYS_ADDED_SINCE: [&str; 1] = ["kernels"];

/// A `config.json` as a run wrote it before the groups (flat, in the old field order), with a
/// value off the default in every group.
const OLD_RECORD: &str = r#"{
  "dataset": "fashion-mnist", "data_dir": "/data/fmnist", "model": "resnet32", "modules": 16,
  "split": "infopro", "aux_head": "1c2f", "shortcut": "option-b",
  "conv_init": "he-normal-fan-out", "schedule": "periodic:every=8", "epochs": 3,
  "batch_size": 128, "lr": 0.1, "lr_schedule": "multistep:at=(2),gamma=0.1",
  "local_objective": "ce", "optimizer": "sgd", "momentum": 0.9, "nesterov": true,
  "weight_decay": 0.0005, "no_decay_norm_bias": true, "aux_weight": 0.5,
  "global_optimizer": "separate", "global_lr_scale": 2.0, "global_replay": 0.25,
  "synthetic_gradient": 0.0, "global_depth": 3, "global_aux_detach": true,
  "local_lr_schedule": "cosine", "global_microbatch": null, "seed": 7, "train_limit": 1000,
  "test_limit": 500, "label": "coarse", "augment": "off", "backend": "cpu", "device": null,
  "global_checkpointing": false, "pipeline": 2, "checkpoint_every": 2,
  "keep_checkpoints": 1, "init_from": "runs/a/checkpoints/epoch-0001",
  "keep_optimizer": true
}"#;

#[test]
fn a_record_written_before_the_groups_reads_into_them_and_writes_back_the_same_keys() {
    let config: RunConfig = serde_json::from_str(OLD_RECORD).unwrap();
    assert_eq!(config.data.dataset, "fashion-mnist");
    assert_eq!(config.data.data_dir.as_deref(), Some("/data/fmnist"));
    assert_eq!(
        (config.data.label.as_str(), config.data.test_limit),
        ("coarse", Some(500))
    );
    assert_eq!(
        (config.model.name.as_str(), config.model.modules),
        ("resnet32", 16)
    );
    assert_eq!(config.model.conv_init, "he-normal-fan-out");
    assert_eq!(
        (config.training.epochs, config.training.batch_size),
        (3, 128)
    );
    assert_eq!(config.training.seed, 7);
    assert_eq!(config.optimizer.kind, OptimizerKind::Sgd);
    assert_eq!(
        (config.optimizer.lr, config.optimizer.nesterov),
        (0.1, true)
    );
    assert_eq!(
        config.optimizer.local_lr_schedule.as_deref(),
        Some("cosine")
    );
    assert_eq!(config.objective.local_objective, "ce");
    assert_eq!(config.guidance.schedule, "periodic:every=8");
    assert_eq!(
        (config.guidance.aux_weight, config.guidance.global_depth),
        (0.5, Some(3))
    );
    assert!(config.guidance.global_aux_detach);
    assert_eq!(
        (config.runtime.pipeline, config.runtime.keep_checkpoints),
        (Some(2), 1)
    );
    assert!(config.runtime.keep_optimizer);

    // A key added since reads as what those runs did.
    assert_eq!(config.runtime.kernels, "pgl");

    let written = serde_json::to_value(&config).unwrap();
    let mut keys: Vec<&str> = written
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // Every key of then, with its name, plus those added since.
    let mut expected = KEYS_BEFORE_GROUPS.to_vec();
    expected.extend(KEYS_ADDED_SINCE);
    keys.sort_unstable();
    expected.sort_unstable();
    assert_eq!(keys, expected, "a record keeps every key and its name");
    let mut listed = RunConfig::keys();
    listed.sort_unstable();
    assert_eq!(listed, expected);
    let again: RunConfig = serde_json::from_value(written).unwrap();
    assert_eq!(again, config);
}

#[test]
fn an_unknown_key_or_a_value_of_the_wrong_type_is_an_error_naming_the_key() {
    let unknown = serde_json::from_str::<RunConfig>(r#"{"learning_rate": 0.1}"#).unwrap_err();
    assert!(
        unknown
            .to_string()
            .contains("unknown field `learning_rate`"),
        "{unknown}"
    );
    assert!(unknown.to_string().contains("`lr`"), "{unknown}");
    let wrong = serde_json::from_str::<RunConfig>(r#"{"lr": 0.1, "epochs": "many"}"#).unwrap_err();
    assert!(wrong.to_string().contains("field `epochs`"), "{wrong}");
    let wrong = serde_json::from_str::<RunConfig>(r#"{"optimizer": "lbfgs"}"#).unwrap_err();
    assert!(wrong.to_string().contains("field `optimizer`"), "{wrong}");
    // Missing keys take the defaults (with the legacy exceptions of an old record).
    let empty: RunConfig = serde_json::from_str("{}").unwrap();
    assert_eq!(empty.model, RunConfig::default().model);
    assert_eq!(empty.optimizer.lr_schedule, "constant");
}

#[cfg(feature = "clap")]
mod flags {
    use clap::{Args, Command, FromArgMatches};
    use pgl_core::{OptimizerKind, RunConfig};

    fn command() -> Command {
        RunConfig::augment_args(Command::new("mine"))
    }

    #[test]
    fn flags_given_override_a_configuration_and_the_others_leave_it_alone() {
        let mut config = RunConfig::default();
        config.optimizer.lr = 0.05;
        config.data.dataset = "mnist".to_string();
        let matches = command()
            .try_get_matches_from([
                "mine",
                "--aux-weight",
                "0.5",
                "--model",
                "mlp",
                "--optimizer",
                "sgd",
                "--nesterov",
                "--train-limit",
                "100",
            ])
            .unwrap();
        config.update_from_arg_matches(&matches).unwrap();
        assert_eq!(config.guidance.aux_weight, 0.5);
        assert_eq!(config.model.name, "mlp");
        assert_eq!(config.optimizer.kind, OptimizerKind::Sgd);
        assert!(config.optimizer.nesterov);
        assert_eq!(config.data.train_limit, Some(100));
        assert_eq!(
            config.optimizer.lr, 0.05,
            "a flag not given keeps the value"
        );
        assert_eq!(config.data.dataset, "mnist");
        let bad = command().try_get_matches_from(["mine", "--optimizer", "lbfgs"]);
        assert!(bad.unwrap_err().to_string().contains("--optimizer"));
    }

    #[test]
    fn every_key_has_its_flag_except_those_commands_declare_themselves() {
        let command = command();
        let per_command = [
            "modules",
            "schedule",
            "global_checkpointing",
            "init_from",
            "keep_optimizer",
        ];
        for key in RunConfig::keys() {
            let flag = command
                .get_arguments()
                .find(|arg| arg.get_id().as_str() == key);
            if per_command.contains(&key.as_str()) {
                assert!(flag.is_none(), "{key} is declared by the commands");
            } else {
                let flag = flag.unwrap_or_else(|| panic!("{key} has no flag"));
                assert_eq!(flag.get_long(), Some(key.replace('_', "-").as_str()));
            }
        }
    }
}
