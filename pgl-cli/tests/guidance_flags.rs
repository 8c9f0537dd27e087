//! The guidance study's round-2 flags (issue 24) reach the run's configuration, train, and
//! are checked against the model.

mod common;

use common::{ok, pgl, text, train};

#[test]
fn the_round_two_guidance_flags_train_and_are_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    ok(train(
        &[
            "--global-replay",
            "0.5",
            "--global-depth",
            "2",
            "--global-aux-detach",
            "--local-lr-schedule",
            "cosine",
        ],
        &run,
    ));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["global_replay"], 0.5);
    assert_eq!(config["global_depth"], 2);
    assert_eq!(config["global_aux_detach"], true);
    assert_eq!(config["local_lr_schedule"], "cosine");
    let newest = newest_checkpoint(&run);
    assert!(newest.join("replay.bpk").is_file(), "{newest:?}");
}

#[test]
fn bad_round_two_values_are_refused_naming_the_setting() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, named) in [
        (&["--global-depth", "9"][..], "global_depth"),
        (&["--global-depth", "0"][..], "global-depth"),
        (&["--global-replay=-1"][..], "global-replay"),
        (&["--synthetic-gradient=-1"][..], "synthetic-gradient"),
        (
            &["--synthetic-gradient", "1", "--global-microbatch", "2"][..],
            "synthetic",
        ),
        (&["--local-lr-schedule", "nonsense"][..], "nonsense"),
    ] {
        let out = pgl(
            &[&["train", "--epochs", "1", "--out", "x"][..], args].concat(),
            tmp.path(),
        );
        assert!(!out.status.success(), "{args:?} was accepted");
        let err = text(&out.stderr);
        assert!(err.contains(named), "{args:?}: {err}");
    }
}

#[test]
fn synthetic_gradients_train_from_the_cli_and_their_predictors_are_saved() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    ok(train(&["--synthetic-gradient", "1"], &run));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["synthetic_gradient"], 1.0);
    let newest = newest_checkpoint(&run);
    assert!(newest.join("objective.bpk").is_file(), "{newest:?}");
}

/// The newest checkpoint folder of the run folder `run`.
fn newest_checkpoint(run: &std::path::Path) -> std::path::PathBuf {
    std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .max()
        .unwrap()
}
