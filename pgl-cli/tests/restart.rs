//! Runs that start over or stop: the NaN guard, `--resume` refusing a changed configuration,
//! `--init-from`, `pgl eval`, pipelined runs and `pgl bench` from the CLI.

mod common;

use std::path::{Path, PathBuf};

use common::{SMALL, final_weights, metrics, ok, pgl, text, train};
use pgl_burn::checkpoint::CheckpointStore;

#[test]
fn a_non_finite_loss_stops_the_run_names_the_module_and_keeps_the_last_good_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    let mlp = ["--optimizer", "sgd", "--momentum", "0", "--model", "mlp"];
    ok(train(
        &[&["--epochs", "1", "--lr", "0.01"][..], &mlp[..]].concat(),
        &run,
    ));
    // Continue these weights with an exploding learning rate: a new run (--init-from).
    let exploding = tmp.path().join("exploding");
    let mut args = vec!["train", "--init-from", run.to_str().unwrap()];
    args.extend([
        "--out",
        exploding.to_str().unwrap(),
        "--epochs",
        "2",
        "--lr",
        "1e38",
    ]);
    args.extend(SMALL);
    args.extend(mlp);
    let out = pgl(&args, tmp.path());
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    // Step 1 is finite (its losses are computed before its update) and blows up module 1's
    // weights; step 2 is local (periodic:every=10), so module 1's own loss is the first
    // non-finite one, and it is seen before any update of step 2.
    assert!(
        stderr.contains("non-finite loss")
            && stderr.contains(
                "epoch 1, iteration 2 (batch 2 of the epoch), local step, aux head of module 1"
            ),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
    let kept: Vec<u64> = CheckpointStore::new(&run, 3)
        .list()
        .unwrap()
        .into_iter()
        .map(|(e, _)| e)
        .collect();
    assert_eq!(kept, vec![1], "the first run's checkpoint stays as it was");
    assert!(
        CheckpointStore::new(&exploding, 3)
            .list()
            .unwrap()
            .is_empty(),
        "no checkpoint of a diverged epoch"
    );
    ok(pgl(
        &["eval", "--checkpoint", run.to_str().unwrap()],
        tmp.path(),
    ));
}

#[test]
fn resume_refuses_a_changed_config_json_and_lists_every_change() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    ok(train(
        &["--epochs", "1", "--model", "mlp", "--modules", "2"],
        &run,
    ));
    let config_path = run.join("config.json");
    let original = std::fs::read_to_string(&config_path).unwrap();
    let mut config: serde_json::Value = serde_json::from_str(&original).unwrap();
    config["lr"] = serde_json::json!(0.5);
    config["seed"] = serde_json::json!(7);
    config["epochs"] = serde_json::json!(2);
    std::fs::write(&config_path, serde_json::to_string(&config).unwrap()).unwrap();
    let out = pgl(&["train", "--resume", run.to_str().unwrap()], tmp.path());
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("lr: 0.001 → 0.5") && stderr.contains("seed: 42 → 7"),
        "{stderr}"
    );
    assert!(!stderr.contains("epochs:"), "epochs may change: {stderr}");
    assert!(stderr.contains("--init-from"), "{stderr}");
    // With only epochs changed, the run continues.
    config["lr"] = serde_json::json!(0.001);
    config["seed"] = serde_json::json!(42);
    std::fs::write(&config_path, serde_json::to_string(&config).unwrap()).unwrap();
    ok(pgl(
        &["train", "--resume", run.to_str().unwrap()],
        tmp.path(),
    ));
    assert_eq!(metrics(&run).len(), 2);
}

#[test]
fn init_from_starts_a_new_run_from_the_weights_and_records_where_they_came_from() {
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("first");
    let common = [
        "--model",
        "mlp",
        "--modules",
        "2",
        "--schedule",
        "periodic:every=4",
    ];
    ok(train(
        &[&["--epochs", "2"][..], &common[..]].concat(),
        &first,
    ));
    // A new run from the first run's last checkpoint, with another learning rate.
    let start_from_first = |out: &Path| {
        let mut args = vec!["train", "--init-from", first.to_str().unwrap()];
        args.extend([
            "--out",
            out.to_str().unwrap(),
            "--epochs",
            "1",
            "--lr",
            "0.01",
        ]);
        args.extend(SMALL);
        args.extend(common);
        ok(pgl(&args, tmp.path()));
    };
    let second = tmp.path().join("second");
    start_from_first(&second);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(second.join("config.json")).unwrap())
            .unwrap();
    let source = config["init_from"].as_str().unwrap();
    assert!(source.ends_with("epoch-0002"), "{source}");
    assert_eq!(config["keep_optimizer"], false);
    assert_eq!(config["lr"], 0.01);
    // A fresh run with the same flags starts from other weights, so it ends elsewhere.
    let fresh = tmp.path().join("fresh");
    ok(train(
        &[&["--epochs", "1", "--lr", "0.01"][..], &common[..]].concat(),
        &fresh,
    ));
    assert_ne!(final_weights(&second), final_weights(&fresh));
    // Starting twice from the same checkpoint gives the same run.
    let again = tmp.path().join("again");
    start_from_first(&again);
    assert_eq!(metrics(&again), metrics(&second));
    // A model of another shape (K = 4 instead of 2) is refused, naming what does not fit.
    let other = tmp.path().join("other");
    let mut args = vec!["train", "--init-from", first.to_str().unwrap()];
    args.extend([
        "--model",
        "mlp",
        "--modules",
        "4",
        "--out",
        other.to_str().unwrap(),
    ]);
    args.extend(SMALL);
    let out = pgl(&args, tmp.path());
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("--init-from"),
        "{stderr}"
    );
    assert!(!other.exists(), "a refused start leaves no run folder");
}

#[test]
fn eval_reports_the_accuracy_of_a_saved_model() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    ok(train(&["--epochs", "2"], &run));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap();
    let out = ok(pgl(
        &[
            "eval",
            "--checkpoint",
            run.to_str().unwrap(),
            "--json",
            "--test-limit",
            "100",
        ],
        tmp.path(),
    ));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["test_accuracy"], summary["test_accuracy"]);
    assert_eq!(report["module_accuracy"], summary["module_accuracy"]);
    assert_eq!(report["epochs_done"], 2);
    let checkpoint: PathBuf = run.join("checkpoints/epoch-0001");
    let out = ok(pgl(
        &[
            "eval",
            "--checkpoint",
            checkpoint.to_str().unwrap(),
            "--dataset",
            "digits",
        ],
        tmp.path(),
    ));
    assert!(text(&out.stdout).contains("module  4 (classifier)"));
    let out = pgl(
        &["eval", "--checkpoint", tmp.path().to_str().unwrap()],
        tmp.path(),
    );
    assert!(!out.status.success() && text(&out.stderr).contains("neither a checkpoint folder"));
    let mnist = std::env::var_os("PGL_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
        .join("mnist");
    let out = pgl(
        &[
            "eval",
            "--checkpoint",
            run.to_str().unwrap(),
            "--dataset",
            "mnist",
            "--data-dir",
            mnist.to_str().unwrap(),
            "--test-limit",
            "10",
        ],
        tmp.path(),
    );
    assert!(
        !out.status.success() && text(&out.stderr).contains("does not fit"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn pipelined_runs_match_sequential_runs_from_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let sequential = tmp.path().join("seq");
    ok(train(
        &["--epochs", "2", "--schedule", "periodic:every=4"],
        &sequential,
    ));
    let pipelined = tmp.path().join("pipe");
    ok(train(
        &[
            "--epochs",
            "2",
            "--schedule",
            "periodic:every=4",
            "--pipeline",
            "2",
        ],
        &pipelined,
    ));
    assert_eq!(metrics(&pipelined), metrics(&sequential));
    assert!(final_weights(&pipelined) == final_weights(&sequential));
    let out = pgl(
        &[
            "train",
            "--pipeline",
            "2",
            "--schedule",
            "plateau:patience=3",
            "--epochs",
            "1",
        ],
        tmp.path(),
    );
    assert!(
        !out.status.success() && text(&out.stderr).contains("reads the loss"),
        "{}",
        text(&out.stderr)
    );
    let out = pgl(&["train", "--pipeline", "9", "--epochs", "1"], tmp.path());
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("--pipeline `9` needs at least 9 modules"),
        "{stderr}"
    );
}

#[cfg(unix)]
#[test]
fn bench_reports_sequential_and_pipelined_throughput_as_json() {
    let tmp = tempfile::tempdir().unwrap();
    let out = ok(pgl(
        &[
            "bench",
            "--steps",
            "4",
            "--batch-size",
            "32",
            "--modules",
            "4",
            "--workers",
            "2",
            "--json",
        ],
        tmp.path(),
    ));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sequential = report["images_per_second"]["sequential"].as_f64().unwrap();
    let pipelined = report["images_per_second"]["pipelined"].as_f64().unwrap();
    assert!(sequential > 0.0 && pipelined > 0.0);
    assert!((report["speedup"].as_f64().unwrap() - pipelined / sequential).abs() < 1e-9);
    assert!(report["global_images_per_second"].as_f64().unwrap() > 0.0);
    // The kernels the steps ran on: what `auto` resolved to, never `auto`.
    let kernels = report["kernels"].as_str().unwrap();
    let installed = pgl_burn::kernels::onednn::available().is_ok();
    assert_eq!(kernels, if installed { "onednn" } else { "pgl" });
    let out = ok(pgl(
        &[
            "bench",
            "--steps",
            "2",
            "--batch-size",
            "16",
            "--schedule",
            "plateau:patience=2",
        ],
        tmp.path(),
    ));
    assert!(text(&out.stdout).contains("not pipelinable"));
}
