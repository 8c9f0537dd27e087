//! Helpers shared by the end-to-end tests of the `pgl` binary. Each test file uses a part of
//! them, hence `dead_code` is allowed.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use pgl_burn::burn::prelude::Device;
use pgl_burn::checkpoint::{CheckpointStore, load_model, read_manifest};
use pgl_burn::inspect::param_values;
use pgl_models::{DecoupledNet, ModelInput, ModelOptions, build_model};

/// Runs the `pgl` binary with `args` in `cwd` and waits for it.
pub fn pgl(args: &[&str], cwd: &Path) -> Output {
    pgl_command(args, cwd).output().expect("pgl runs")
}

/// Output bytes as text (lossy).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The `pgl` binary with `args`, run in `cwd` (not started yet).
pub fn pgl_command(args: &[&str], cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pgl"));
    command.args(args).current_dir(cwd);
    command
}

/// `output`, after asserting that the run succeeded.
pub fn ok(output: Output) -> Output {
    assert!(
        output.status.success(),
        "pgl failed: {}",
        text(&output.stderr)
    );
    output
}

/// Options that keep a digits run small. The learning rate is constant: a run extended by
/// `--resume RUN --epochs N` equals an uninterrupted N-epoch run only when the learning-rate
/// schedule does not depend on the run's planned length (the default `cosine` does).
pub const SMALL: &[&str] = &[
    "--train-limit",
    "256",
    "--test-limit",
    "100",
    "--batch-size",
    "32",
    "--lr-schedule",
    "constant",
];

/// `pgl train --out OUT` with [`SMALL`] and `extra`.
pub fn train(extra: &[&str], out: &Path) -> Output {
    let mut args = vec!["train", "--out", out.to_str().unwrap()];
    args.extend(SMALL);
    args.extend(extra);
    pgl(&args, out.parent().unwrap())
}

/// Every epoch's metrics without wall-clock and memory fields (those are measurements).
pub fn metrics(run: &Path) -> Vec<serde_json::Value> {
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

/// The weights of the newest checkpoint of a digits run, as bit patterns.
pub fn final_weights(run: &Path) -> Vec<(String, Vec<u32>)> {
    let (_, model) = latest_checkpoint_model(run);
    param_values(&model)
        .into_iter()
        .map(|p| (p.path, p.values.iter().map(|v| v.to_bits()).collect()))
        .collect()
}

/// The newest checkpoint folder of the digits run `run` and the model it holds (on the
/// autodiff CPU backend).
pub fn latest_checkpoint_model(run: &Path) -> (PathBuf, DecoupledNet) {
    let dir = CheckpointStore::new(run, 1)
        .latest()
        .unwrap()
        .expect("a checkpoint");
    let config = read_manifest(&dir).unwrap().config;
    let device = Device::flex().autodiff();
    let skeleton = build_model(
        &config.model.name,
        ModelInput::DIGITS,
        &ModelOptions::even(config.model.modules),
        &device,
    )
    .unwrap();
    let model = load_model(&dir, skeleton).unwrap();
    (dir, model)
}

/// Polls `ready` every 5 ms; fails the test, naming `what`, after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Writes a CIFAR-10 binary folder into `dir`: five training batches of `per_batch` records
/// and a test batch of `test`, each image coloured by its label so that the task is learnable.
pub fn write_cifar10(dir: &Path, per_batch: usize, test: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let record = |i: usize| -> Vec<u8> {
        let label = (i % 10) as u8;
        let mut r = vec![label];
        // Class-dependent colour so that the task is learnable.
        r.extend(
            (0..3072)
                .map(|p| ((p / 1024) * 40 + usize::from(label) * 20 + (p * 13 + i) % 17) as u8),
        );
        r
    };
    for b in 1..=5 {
        let bytes: Vec<u8> = (0..per_batch).flat_map(|i| record(i + b * 100)).collect();
        std::fs::write(dir.join(format!("data_batch_{b}.bin")), bytes).unwrap();
    }
    let bytes: Vec<u8> = (0..test).flat_map(record).collect();
    std::fs::write(dir.join("test_batch.bin"), bytes).unwrap();
}
