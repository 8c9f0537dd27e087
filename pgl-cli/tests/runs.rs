//! Runs that survive: exact resume, SIGKILL at random points, config files, NaN guard, eval.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use pgl_burn::burn::prelude::Device;
use pgl_burn::checkpoint::{CheckpointStore, load_model, read_manifest};
use pgl_burn::inspect::param_values;
use pgl_models::{ModelInput, ModelOptions, build_model};

fn pgl_command(args: &[&str], cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pgl"));
    command.args(args).current_dir(cwd);
    command
}

fn pgl(args: &[&str], cwd: &Path) -> Output {
    pgl_command(args, cwd).output().expect("pgl runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(output: Output) -> Output {
    assert!(
        output.status.success(),
        "pgl failed: {}",
        text(&output.stderr)
    );
    output
}

const SMALL: &[&str] = &[
    "--train-limit",
    "256",
    "--test-limit",
    "100",
    "--batch-size",
    "32",
];

fn train(extra: &[&str], out: &Path) -> Output {
    let mut args = vec!["train", "--out", out.to_str().unwrap()];
    args.extend(SMALL);
    args.extend(extra);
    pgl(&args, out.parent().unwrap())
}

/// Every epoch's metrics without wall-clock and memory fields (those are measurements).
fn metrics(run: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|line| {
            let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
            for key in [
                "train_seconds",
                "eval_seconds",
                "data_wait_seconds",
                "images_per_second",
                "peak_memory_bytes_local",
                "peak_memory_bytes_global",
            ] {
                v.as_object_mut().unwrap().remove(key);
            }
            v
        })
        .collect()
}

/// The weights of the newest checkpoint of a digits CNN run, as bit patterns.
fn final_weights(run: &Path) -> Vec<(String, Vec<u32>)> {
    let dir = CheckpointStore::new(run, 1)
        .latest()
        .unwrap()
        .expect("a checkpoint");
    let config = read_manifest(&dir).unwrap().config;
    let device = Device::flex().autodiff();
    let input = ModelInput {
        channels: 1,
        height: 8,
        width: 8,
        classes: 10,
    };
    let skeleton = build_model(
        &config.model,
        input,
        &ModelOptions::even(config.modules),
        &device,
    )
    .unwrap();
    let model = load_model(&dir, skeleton).unwrap();
    param_values(&model)
        .into_iter()
        .map(|p| (p.path, p.values.iter().map(|v| v.to_bits()).collect()))
        .collect()
}

#[test]
fn train_then_resume_equals_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let full = tmp.path().join("full");
    ok(train(
        &[
            "--epochs",
            "3",
            "--schedule",
            "any(periodic:every=5,plateau:patience=4)",
        ],
        &full,
    ));
    let split = tmp.path().join("split");
    ok(train(
        &[
            "--epochs",
            "1",
            "--schedule",
            "any(periodic:every=5,plateau:patience=4)",
        ],
        &split,
    ));
    let out = ok(pgl(
        &[
            "train",
            "--resume",
            split.to_str().unwrap(),
            "--epochs",
            "3",
        ],
        tmp.path(),
    ));
    assert!(text(&out.stdout).contains("resuming from"));
    assert_eq!(metrics(&split), metrics(&full));
    assert!(
        final_weights(&split) == final_weights(&full),
        "weights differ after resume"
    );
    let summary = |run: &Path| {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap())
                .unwrap();
        for key in [
            "wall_seconds",
            "train_seconds",
            "images_per_second",
            "peak_memory_bytes",
        ] {
            v.as_object_mut().unwrap().remove(key);
        }
        v
    };
    assert_eq!(summary(&split), summary(&full));
    // Only --epochs may accompany --resume.
    let out = pgl(
        &["train", "--resume", split.to_str().unwrap(), "--lr", "0.1"],
        tmp.path(),
    );
    assert!(!out.status.success() && text(&out.stderr).contains("only --epochs"));
    let out = pgl(
        &[
            "train",
            "--resume",
            tmp.path().join("nothing").to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(!out.status.success() && text(&out.stderr).contains("config.json"));
}

/// Waits (up to a minute) until `ready()` holds.
fn wait_until(mut ready: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for the run"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn has_partial_checkpoint(run: &Path) -> bool {
    std::fs::read_dir(run.join("checkpoints"))
        .map(|entries| {
            entries.flatten().any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(".partial-epoch-0002")
            })
        })
        .unwrap_or(false)
}

#[test]
fn a_run_killed_at_any_moment_resumes_from_its_last_complete_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let common = [
        "--epochs",
        "4",
        "--schedule",
        "periodic:every=3",
        "--keep-checkpoints",
        "2",
    ];
    let reference = tmp.path().join("reference");
    ok(train(&common, &reference));
    let expected_metrics = metrics(&reference);
    let expected_weights = final_weights(&reference);

    // Kill points from a fixed pseudo-random sequence, measured from the first complete
    // checkpoint; slow checkpoint writes make kills during a write likely. Trial 0 kills
    // exactly while the second checkpoint is being written.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = |range: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % range
    };
    let mut resumed = 0;
    for trial in 0..6 {
        let run = tmp.path().join(format!("trial-{trial}"));
        for kill in 0..2 {
            let mut args = vec!["train".to_string()];
            if kill == 0 || !run.join("config.json").exists() {
                args.extend(["--out".to_string(), run.display().to_string()]);
                args.extend(SMALL.iter().map(|s| s.to_string()));
                args.extend(common.iter().map(|s| s.to_string()));
            } else {
                args.extend(["--resume".to_string(), run.display().to_string()]);
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let mut child = pgl_command(&args, tmp.path())
                .env("PGL_CHECKPOINT_PAUSE_MS", "40")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            if trial == 0 && kill == 0 {
                wait_until(|| has_partial_checkpoint(&run));
            } else {
                // From the first complete checkpoint on, any moment: mid-epoch, mid-write, or
                // after the run ended.
                wait_until(|| {
                    CheckpointStore::new(&run, 2)
                        .latest()
                        .ok()
                        .flatten()
                        .is_some()
                        || child.try_wait().unwrap().is_some()
                });
                std::thread::sleep(Duration::from_millis(next(1200)));
            }
            let _ = child.kill(); // SIGKILL
            let _ = child.wait();
        }
        let out = pgl(&["train", "--resume", run.to_str().unwrap()], tmp.path());
        if CheckpointStore::new(&run, 2).latest().unwrap().is_none() {
            assert!(!out.status.success());
            assert!(
                text(&out.stderr).contains("no complete checkpoint"),
                "{}",
                text(&out.stderr)
            );
            continue;
        }
        ok(out);
        resumed += 1;
        assert_eq!(
            metrics(&run),
            expected_metrics,
            "trial {trial}: metrics differ"
        );
        assert!(
            final_weights(&run) == expected_weights,
            "trial {trial}: weights differ"
        );
        let leftovers: Vec<_> = std::fs::read_dir(run.join("checkpoints"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            leftovers.iter().all(|n| n.starts_with("epoch-")),
            "trial {trial}: {leftovers:?}"
        );
        assert!(leftovers.len() <= 2);
    }
    assert_eq!(resumed, 6, "every trial had a checkpoint to resume from");
}

#[test]
fn config_files_set_options_flags_override_them_and_config_json_reproduces_a_run() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("run.toml");
    std::fs::write(&file, "model = \"mlp\"\nmodules = 2\nepochs = 2\nschedule = \"periodic:every=4\"\nseed = 5\ntrain_limit = 256\ntest_limit = 100\n").unwrap();
    let first = tmp.path().join("first");
    ok(pgl(
        &[
            "train",
            "--config",
            file.to_str().unwrap(),
            "--seed",
            "6",
            "--out",
            first.to_str().unwrap(),
        ],
        tmp.path(),
    ));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(first.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["model"], "mlp");
    assert_eq!(config["modules"], 2);
    assert_eq!(config["seed"], 6, "the flag overrides the file");
    let again = tmp.path().join("again");
    ok(pgl(
        &[
            "train",
            "--config",
            first.join("config.json").to_str().unwrap(),
            "--out",
            again.to_str().unwrap(),
        ],
        tmp.path(),
    ));
    assert_eq!(metrics(&again), metrics(&first));

    std::fs::write(&file, "model = \"mlp\"\nlearning_rate = 0.1\n").unwrap();
    let out = pgl(&["train", "--config", file.to_str().unwrap()], tmp.path());
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("learning_rate") && stderr.contains("run.toml"),
        "{stderr}"
    );
    std::fs::write(&file, "epochs = \"many\"\n").unwrap();
    let stderr = text(&pgl(&["train", "--config", file.to_str().unwrap()], tmp.path()).stderr);
    assert!(
        stderr.contains("epochs") && stderr.contains("run.toml"),
        "{stderr}"
    );
    assert!(
        !tmp.path().join("runs").exists(),
        "bad configs leave no run folder"
    );
}

#[test]
fn a_non_finite_loss_stops_the_run_and_keeps_the_last_good_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    ok(train(
        &[
            "--epochs",
            "1",
            "--optimizer",
            "sgd",
            "--lr",
            "0.01",
            "--model",
            "mlp",
        ],
        &run,
    ));
    // Continue with an exploding learning rate.
    let config_path = run.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    config["lr"] = serde_json::json!(1e38);
    std::fs::write(&config_path, serde_json::to_string(&config).unwrap()).unwrap();
    let out = pgl(
        &["train", "--resume", run.to_str().unwrap(), "--epochs", "3"],
        tmp.path(),
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("non-finite loss")
            && stderr.contains("epoch 2")
            && stderr.contains("iteration"),
        "{stderr}"
    );
    assert!(
        (stderr.contains("local step") || stderr.contains("global step"))
            && stderr.contains("module"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
    let kept: Vec<u64> = CheckpointStore::new(&run, 3)
        .list()
        .unwrap()
        .into_iter()
        .map(|(e, _)| e)
        .collect();
    assert_eq!(kept, vec![1], "the last good checkpoint stays");
    ok(pgl(
        &["eval", "--checkpoint", run.to_str().unwrap()],
        tmp.path(),
    ));
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
    assert!(!out.status.success() && text(&out.stderr).contains("at least 9 modules"));
}

#[cfg(unix)]
#[test]
fn ctrl_c_drains_the_pipeline_checkpoints_and_the_run_resumes_exactly() {
    use std::io::{BufRead, BufReader};
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "--epochs",
        "3",
        "--schedule",
        "periodic:every=4",
        "--pipeline",
        "2",
        "--batch-size",
        "16",
    ];
    let reference = tmp.path().join("reference");
    let mut reference_args = vec![
        "train",
        "--out",
        reference.to_str().unwrap(),
        "--train-limit",
        "640",
        "--test-limit",
        "100",
    ];
    reference_args.extend(args);
    ok(pgl(&reference_args, tmp.path()));

    let run = tmp.path().join("run");
    let mut run_args = vec![
        "train",
        "--out",
        run.to_str().unwrap(),
        "--train-limit",
        "640",
        "--test-limit",
        "100",
    ];
    run_args.extend(args);
    let mut child = pgl_command(&run_args, tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first epoch's table row, then press Ctrl-C during the second epoch.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        if line.trim_start().starts_with("1 ") {
            break;
        }
        line.clear();
    }
    std::thread::sleep(Duration::from_millis(150));
    // SAFETY: sending SIGINT to our own child process.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    if output.status.code() == Some(0) {
        panic!("the run finished before Ctrl-C arrived; stderr: {stderr}");
    }
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("Ctrl-C") && stderr.contains("--resume"),
        "{stderr}"
    );
    let names: Vec<String> = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().any(|n| n.starts_with("epoch-0001-batch-")),
        "{names:?}"
    );
    ok(pgl(
        &["train", "--resume", run.to_str().unwrap()],
        tmp.path(),
    ));
    assert_eq!(metrics(&run), metrics(&reference));
    assert!(final_weights(&run) == final_weights(&reference));
}

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
