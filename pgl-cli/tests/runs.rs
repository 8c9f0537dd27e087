//! Runs that survive: exact resume, SIGKILL at random points, config files, Ctrl-C.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{SMALL, final_weights, metrics, ok, pgl, pgl_command, text, train};
use pgl_burn::checkpoint::CheckpointStore;

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
    // Fields the file leaves out take today's defaults, also those whose default changed.
    assert_eq!(config["lr_schedule"], "cosine");
    assert_eq!(config["aux_weight"], 1.0);
    assert_eq!(
        config["local_objective"],
        "supcon:temperature=0.07,dim=128,proj=auto"
    );
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
