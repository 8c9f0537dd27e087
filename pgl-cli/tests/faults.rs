//! Faults a run survives: SIGTERM (like Ctrl-C: a checkpoint, a message, an exact resume),
//! damaged newest checkpoints (`--resume` falls back to the newest valid one, saying which it
//! skipped and why), and weights no trained model has (NaN, negative BatchNorm variances),
//! refused on load and on import, naming the file and the tensor.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use common::{
    SMALL, final_weights, latest_checkpoint_model, metrics, ok, pgl, pgl_command, text, train,
    wait_until,
};
use pgl_burn::burn::module::{Module, ModuleMapper, Param};
use pgl_burn::burn::prelude::*;

fn checkpoint_names(run: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[cfg(unix)]
#[test]
fn sigterm_writes_a_checkpoint_like_ctrl_c_and_the_run_resumes_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let args = [
        "--epochs",
        "2",
        "--schedule",
        "periodic:every=3",
        "--model",
        "mlp",
    ];
    let reference = tmp.path().join("reference");
    ok(train(&args, &reference));

    let run = tmp.path().join("run");
    let mut command = vec!["train", "--out", run.to_str().unwrap()];
    command.extend(SMALL);
    command.extend(args);
    let child = pgl_command(&command, tmp.path())
        .env("PGL_CHECKPOINT_PAUSE_MS", "60")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // SIGTERM while the first checkpoint is being written (slow writes, a test hook): the
    // run finishes that checkpoint and stops before the first batch of epoch 2.
    wait_until("the run", Duration::from_secs(60), || {
        run.join("checkpoints/.partial-epoch-0001").exists()
    });
    // SAFETY: sending SIGTERM to our own child process.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "{stderr}");
    assert!(
        stderr.contains("stopped by SIGTERM") && stderr.contains("pgl train --resume"),
        "{stderr}"
    );
    assert_eq!(
        checkpoint_names(&run),
        ["epoch-0001", "epoch-0001-batch-00000"]
    );
    ok(pgl(
        &["train", "--resume", run.to_str().unwrap()],
        tmp.path(),
    ));
    assert_eq!(metrics(&run), metrics(&reference));
    assert!(final_weights(&run) == final_weights(&reference));
}

fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn truncate_half(path: &Path) {
    let bytes = std::fs::read(path).unwrap();
    std::fs::write(path, &bytes[..bytes.len() / 2]).unwrap();
}

#[test]
fn resume_passes_over_damaged_newest_checkpoints_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    // supcon: its checkpoints hold the projection heads in objective.bpk too.
    let args = [
        "--epochs",
        "4",
        "--keep-checkpoints",
        "4",
        "--local-objective",
        "supcon:dim=16",
        "--model",
        "mlp",
        "--modules",
        "2",
    ];
    let reference = tmp.path().join("reference");
    ok(train(&args, &reference));
    let run = tmp.path().join("run");
    copy_folder(&reference, &run);
    let ckpt = |epoch: u32| run.join(format!("checkpoints/epoch-{epoch:04}"));
    std::fs::remove_file(ckpt(4).join("objective.bpk")).unwrap();
    std::fs::remove_file(ckpt(3).join("optimizer-1.bpk")).unwrap();
    truncate_half(&ckpt(2).join("model.bpk"));

    let out = ok(pgl(
        &["train", "--resume", run.to_str().unwrap()],
        tmp.path(),
    ));
    let stderr = text(&out.stderr);
    for (epoch, why) in [
        (4, "objective.bpk: missing"),
        (3, "optimizer-1.bpk: missing"),
        (2, "model.bpk: damaged or truncated"),
    ] {
        assert!(
            stderr.contains(&format!(
                "skipped the damaged checkpoint {}",
                ckpt(epoch).display()
            )) && stderr.contains(why),
            "epoch {epoch}: {stderr}"
        );
    }
    assert!(
        stderr.contains(&format!("resuming from {}", ckpt(1).display())),
        "{stderr}"
    );
    assert_eq!(metrics(&run), metrics(&reference));
    assert!(final_weights(&run) == final_weights(&reference));
    // The damaged ones were moved aside, and the run wrote those epochs afresh.
    let names = checkpoint_names(&run);
    for epoch in 2..=4 {
        let name = format!("epoch-{epoch:04}");
        assert!(names.contains(&format!("damaged-{name}")), "{names:?}");
        assert!(names.contains(&name), "{names:?}");
    }

    // With every checkpoint damaged, nothing resumes, and the error says why for each.
    let broken = tmp.path().join("broken");
    ok(train(&["--epochs", "1", "--model", "mlp"], &broken));
    truncate_half(&broken.join("checkpoints/epoch-0001/model.bpk"));
    let out = pgl(&["train", "--resume", broken.to_str().unwrap()], tmp.path());
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("no complete checkpoint") && stderr.contains("damaged or truncated"),
        "{stderr}"
    );
    // pgl eval says the same of it, not that the model "does not fit".
    let out = pgl(
        &["eval", "--checkpoint", broken.to_str().unwrap()],
        tmp.path(),
    );
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success()
            && stderr.contains("model.bpk: damaged or truncated")
            && !stderr.contains("does not fit"),
        "{stderr}"
    );
}

/// Multiplies every float parameter and buffer by NaN.
struct Poison;

impl ModuleMapper for Poison {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        param.map(|t| t * f32::NAN)
    }
}

/// Sets the value at `index` of the f32 tensor `name` of the safetensors file `path`.
fn patch_safetensors(path: &Path, name: &str, index: usize, value: f32) {
    let mut bytes = std::fs::read(path).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    let entry = &header[name];
    assert_eq!(entry["dtype"], "F32", "{name}: {entry}");
    let start = 8 + header_len + entry["data_offsets"][0].as_u64().unwrap() as usize + 4 * index;
    bytes[start..start + 4].copy_from_slice(&value.to_le_bytes());
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn weights_no_trained_model_has_are_refused_naming_the_file_and_the_tensor() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    ok(train(&["--epochs", "1"], &run));

    // Imported files: a negative BatchNorm running variance, a NaN weight.
    for (names, tensor, value, what) in [
        (
            "pytorch",
            "stages.0.0.1.running_var",
            -1.0,
            "negative values",
        ),
        ("pgl", "stages.1.body.0.Conv.weight", f32::NAN, "NaN"),
    ] {
        let file = tmp.path().join(format!("{names}.safetensors"));
        ok(pgl(
            &[
                "export",
                run.to_str().unwrap(),
                "--names",
                names,
                "--out",
                file.to_str().unwrap(),
            ],
            tmp.path(),
        ));
        patch_safetensors(&file, tensor, 1, value);
        let out_dir = tmp.path().join(format!("from-{names}"));
        let mut args = vec!["train", "--init-from", file.to_str().unwrap()];
        args.extend(["--out", out_dir.to_str().unwrap(), "--epochs", "1"]);
        args.extend(SMALL);
        let out = pgl(&args, tmp.path());
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{names}: {stderr}");
        assert!(
            stderr.contains(file.to_str().unwrap())
                && stderr.contains(tensor)
                && stderr.contains(what),
            "{names}: {stderr}"
        );
        assert!(!out_dir.exists());
    }

    // A checkpoint whose weights hold NaN: eval, export and --init-from refuse it.
    let (dir, model) = latest_checkpoint_model(&run);
    let mut poisoned = model.clone();
    poisoned.stages[2] = poisoned.stages[2].clone().map(&mut Poison);
    let model_file = dir.join("model.bpk");
    std::fs::remove_file(&model_file).unwrap();
    poisoned.save_file(&model_file).unwrap();
    for args in [
        vec!["eval", "--checkpoint", run.to_str().unwrap()],
        vec!["export", run.to_str().unwrap()],
    ] {
        let out = pgl(&args, tmp.path());
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {stderr}");
        assert!(
            stderr.contains(model_file.to_str().unwrap())
                && stderr.contains("stages.2.")
                && stderr.contains("not finite"),
            "{args:?}: {stderr}"
        );
    }
}
