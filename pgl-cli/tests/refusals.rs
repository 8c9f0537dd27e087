//! Inputs `pgl` refuses, each with an error that names the flag, or the config file and key,
//! and says what is wrong (never a panic, an abort, or a silent change of meaning); and two
//! that it accepts with a warning or now trains on.

mod common;

use std::path::Path;

use common::{SMALL, ok, pgl, text, train};

/// `pgl train ARGS` in `cwd`, which must fail; its standard error.
fn refused(args: &[&str], cwd: &Path) -> String {
    let out = pgl(args, cwd);
    let stderr = text(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded: {stderr}");
    assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    stderr
}

#[test]
fn negative_numbers_reach_the_range_check_of_their_flag() {
    let tmp = tempfile::tempdir().unwrap();
    for flag in [
        "--aux-weight",
        "--global-lr-scale",
        "--weight-decay",
        "--momentum",
        "--lr",
    ] {
        let stderr = refused(&["train", flag, "-1"], tmp.path());
        assert!(
            stderr.contains(flag.trim_start_matches('-')) && stderr.contains("expected"),
            "{flag} -1: {stderr}"
        );
        assert!(!stderr.contains("unexpected argument"), "{flag}: {stderr}");
    }
    for args in [
        vec!["train", "--epochs", "-1"],
        vec!["train", "--modules", "-2"],
        vec!["compare", "--modules", "-2"],
        vec!["eval", "--checkpoint", "x", "--batch-size", "-3"],
    ] {
        let flag = args[args.len() - 2];
        let stderr = refused(&args, tmp.path());
        assert!(
            stderr.contains(flag) && !stderr.contains("unexpected argument"),
            "{args:?}: {stderr}"
        );
    }
    assert!(!tmp.path().join("runs").exists());
}

#[test]
fn a_bad_spec_in_a_config_file_names_the_file_and_the_key_and_on_the_command_line_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("run.toml");
    for (key, value, why) in [
        ("lr_schedule", "cosine:min=5", "min"),
        ("schedule", "periodic:every=0", "every"),
        ("local_objective", "supcon:dim=0", "dim"),
        ("augment", "crop:pad=x", "pad"),
        ("dataset", "imagenet", "imagenet"),
    ] {
        std::fs::write(&file, format!("{key} = \"{value}\"\n")).unwrap();
        let stderr = refused(&["train", "--config", file.to_str().unwrap()], tmp.path());
        assert!(
            stderr.contains(&format!("`{key}` = `{value}` in config file"))
                && stderr.contains("run.toml")
                && stderr.contains(why),
            "{key}: {stderr}"
        );
        let flag = format!("--{}", key.replace('_', "-"));
        let stderr = refused(&["train", &flag, value], tmp.path());
        assert!(
            stderr.contains(&format!("invalid {flag} `{value}`")) && stderr.contains(why),
            "{flag}: {stderr}"
        );
    }
    // A flag given over the file is named as the flag.
    std::fs::write(&file, "lr_schedule = \"constant\"\n").unwrap();
    let stderr = refused(
        &[
            "train",
            "--config",
            file.to_str().unwrap(),
            "--lr-schedule",
            "cosine:min=5",
        ],
        tmp.path(),
    );
    assert!(stderr.contains("invalid --lr-schedule"), "{stderr}");
    // Numbers out of range in a file name the file and the key.
    std::fs::write(&file, "aux_weight = -1.0\n").unwrap();
    let stderr = refused(&["train", "--config", file.to_str().unwrap()], tmp.path());
    assert!(
        stderr.contains("`aux_weight` = `-1.0` in config file") && stderr.contains("run.toml"),
        "{stderr}"
    );
    assert!(!tmp.path().join("runs").exists());
}

#[test]
fn a_projection_head_too_large_to_build_is_refused_naming_its_size() {
    let tmp = tempfile::tempdir().unwrap();
    let stderr = refused(
        &[
            "train",
            "--local-objective",
            "supcon:dim=100000000000",
            "--epochs",
            "1",
        ],
        tmp.path(),
    );
    assert!(
        stderr.contains("--local-objective") && stderr.contains("dim") && stderr.contains("4096"),
        "{stderr}"
    );
}

#[test]
fn too_many_modules_is_explained_once() {
    let tmp = tempfile::tempdir().unwrap();
    let stderr = refused(&["train", "--modules", "9", "--epochs", "1"], tmp.path());
    assert_eq!(
        stderr.matches("cannot make 9 non-empty modules").count(),
        1,
        "{stderr}"
    );
}

#[test]
fn keep_optimizer_with_another_optimizer_is_refused_naming_both() {
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("first");
    ok(train(&["--epochs", "1", "--optimizer", "adam"], &first));
    let second = tmp.path().join("second");
    let mut args = vec![
        "train",
        "--init-from",
        first.to_str().unwrap(),
        "--keep-optimizer",
        "--optimizer",
        "sgd",
        "--out",
        second.to_str().unwrap(),
    ];
    args.extend(SMALL);
    let stderr = refused(&args, tmp.path());
    assert!(
        stderr.contains("--keep-optimizer") && stderr.contains("adam") && stderr.contains("sgd"),
        "{stderr}"
    );
    assert!(!second.exists());
}

#[test]
fn a_last_batch_of_one_sample_trains_every_local_objective() {
    let tmp = tempfile::tempdir().unwrap();
    for objective in ["supcon", "infopro:class=supcon"] {
        let run = tmp.path().join(objective.replace([':', '='], "-"));
        // 65 samples in batches of 64: every epoch ends with a batch of one.
        ok(pgl(
            &[
                "train",
                "--out",
                run.to_str().unwrap(),
                "--local-objective",
                objective,
                "--train-limit",
                "65",
                "--test-limit",
                "50",
                "--batch-size",
                "64",
                "--epochs",
                "2",
            ],
            tmp.path(),
        ));
    }
}

#[test]
fn a_local_objective_with_one_module_warns_that_it_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let out = ok(train(
        &[
            "--epochs",
            "1",
            "--modules",
            "1",
            "--local-objective",
            "infopro",
        ],
        &run,
    ));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("warning") && stderr.contains("--modules 1"),
        "{stderr}"
    );
}
