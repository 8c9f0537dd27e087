//! End-to-end tests of the `pgl` binary on real data.

mod common;

use std::path::{Path, PathBuf};

use common::{pgl, text, write_cifar10};

fn data_root() -> PathBuf {
    let fallback = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    std::env::var_os("PGL_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or(fallback)
}

fn summary(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("summary.json")).expect("summary.json exists");
    serde_json::from_str(&text).expect("summary.json is JSON")
}

#[test]
fn train_with_no_arguments_learns_the_embedded_digits() {
    let tmp = tempfile::tempdir().unwrap();
    let out = pgl(&["train"], tmp.path());
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let runs: Vec<_> = std::fs::read_dir(tmp.path().join("runs"))
        .unwrap()
        .collect();
    assert_eq!(runs.len(), 1, "one new run folder under runs/");
    let dir = runs[0].as_ref().unwrap().path();
    let s = summary(&dir);
    let accuracy = s["test_accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.93, "default run reached only {accuracy}");
    assert_eq!(s["epochs"], 10);
    assert_eq!(s["module_accuracy"].as_array().unwrap().len(), 4);
    let local = s["steps_local"].as_u64().unwrap();
    let global = s["steps_global"].as_u64().unwrap();
    assert_eq!(local + global, 10 * 1437u64.div_ceil(64));
    assert_eq!(
        global,
        (10 * 1437u64.div_ceil(64)) / 4,
        "periodic:every=4 over 230 iterations"
    );
    assert!(s["peak_memory_bytes"]["local"].as_u64().unwrap() > 0);
    assert!(s["peak_memory_bytes"]["global"].as_u64().unwrap() > 0);
    for key in ["test_loss", "wall_seconds", "config"] {
        assert!(!s[key].is_null(), "summary.json lacks {key}");
    }
    assert_eq!(s["config"]["schedule"], "periodic:every=4");
    assert_eq!(s["config"]["lr_schedule"], "cosine");
    assert_eq!(s["config"]["aux_weight"], 1.0);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(config, s["config"]);
    let metrics = std::fs::read_to_string(dir.join("metrics.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = metrics
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 10);
    assert_eq!(lines[9]["test_accuracy"], s["test_accuracy"]);
    // Best: the highest accuracy of any epoch, and the first epoch that reached it.
    let accuracies: Vec<f64> = lines
        .iter()
        .map(|l| l["test_accuracy"].as_f64().unwrap())
        .collect();
    let best = accuracies.iter().copied().fold(f64::MIN, f64::max);
    assert_eq!(s["best_test_accuracy"].as_f64().unwrap(), best);
    let first = accuracies.iter().position(|&a| a == best).unwrap() + 1;
    assert_eq!(s["best_epoch"].as_u64().unwrap(), first as u64);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("per-module test acc"),
        "epoch table printed: {stdout}"
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.trim_start().starts_with(char::is_numeric))
            .count(),
        10
    );
}

#[test]
fn train_on_real_mnist_with_every_option() {
    let tmp = tempfile::tempdir().unwrap();
    let mnist = data_root().join("mnist");
    let out_dir = tmp.path().join("run");
    let out = pgl(
        &[
            "train",
            "--dataset",
            "mnist",
            "--data-dir",
            mnist.to_str().unwrap(),
            "--model",
            "cnn",
            "--modules",
            "2",
            "--schedule",
            "warmup:epochs=1,then=periodic:every=5",
            "--epochs",
            "2",
            "--batch-size",
            "50",
            "--lr",
            "0.05",
            "--optimizer",
            "sgd",
            "--seed",
            "3",
            "--train-limit",
            "1000",
            "--test-limit",
            "500",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let s = summary(&out_dir);
    assert_eq!(s["train_samples"], 1000);
    assert_eq!(s["test_samples"], 500);
    assert_eq!(
        s["steps_global"],
        20 + 4,
        "warm-up epoch global, then every 5th"
    );
    assert!(
        s["test_accuracy"].as_f64().unwrap() > 0.6,
        "{}",
        s["test_accuracy"]
    );
    assert_eq!(s["config"]["optimizer"], "sgd");
}

#[test]
fn train_on_a_written_fashion_mnist_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let pixels: Vec<u8> = (0..40 * 784).map(|i| (i * 7 % 256) as u8).collect();
    let labels: Vec<u8> = (0..40).map(|i| (i % 10) as u8).collect();
    let dir = pgl_data_dir(tmp.path(), &pixels, &labels);
    let out_dir = tmp.path().join("run");
    let out = pgl(
        &[
            "train",
            "--dataset",
            "fashion-mnist",
            "--data-dir",
            dir.to_str().unwrap(),
            "--model",
            "mlp",
            "--epochs",
            "1",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert_eq!(summary(&out_dir)["train_samples"], 40);
}

fn pgl_data_dir(root: &Path, pixels: &[u8], labels: &[u8]) -> PathBuf {
    let dir = root.join("fashion");
    std::fs::create_dir_all(&dir).unwrap();
    let images = |p: &[u8]| {
        let mut b = vec![0, 0, 8, 3];
        b.extend((p.len() as u32 / 784).to_be_bytes());
        b.extend(28u32.to_be_bytes());
        b.extend(28u32.to_be_bytes());
        b.extend(p);
        b
    };
    let label_file = |l: &[u8]| {
        let mut b = vec![0, 0, 8, 1];
        b.extend((l.len() as u32).to_be_bytes());
        b.extend(l);
        b
    };
    for prefix in ["train", "t10k"] {
        std::fs::write(
            dir.join(format!("{prefix}-images-idx3-ubyte")),
            images(pixels),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{prefix}-labels-idx1-ubyte")),
            label_file(labels),
        )
        .unwrap();
    }
    dir
}

#[test]
fn bad_input_is_a_clear_error_without_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let existing = tmp.path().join("existing");
    std::fs::create_dir_all(&existing).unwrap();
    std::fs::write(existing.join("summary.json"), "{}").unwrap();
    let mut cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--schedule", "periodic:every=0"], "every=0"),
        (vec!["--schedule", "periodic:every=4,len=9"], "len=9"),
        (
            vec!["--schedule", "sometimes"],
            "unknown schedule `sometimes`",
        ),
        (vec!["--dataset", "cifar"], "unknown dataset `cifar`"),
        (
            vec!["--dataset", "cifar10", "--data-dir", "/nonexistent/c10"],
            "/nonexistent/c10",
        ),
        (
            vec!["--model", "resnet56", "--split", "infopro"],
            "resnet32 and resnet110",
        ),
        (
            vec![
                "--model",
                "resnet32",
                "--split",
                "infopro",
                "--modules",
                "5",
            ],
            "K=5",
        ),
        (vec!["--split", "random"], "split"),
        (vec!["--aux-head", "9c9f"], "unknown aux head `9c9f`"),
        (
            vec!["--model", "mlp", "--aux-head", "mlp-sr"],
            "needs spatial",
        ),
        (vec!["--model", "vgg11"], "at least 32x32"),
        (vec!["--label", "medium"], "label"),
        (vec!["--augment", "maybe"], "augment"),
        (
            vec!["--dataset", "mnist", "--data-dir", "/nonexistent/mnist"],
            "/nonexistent/mnist",
        ),
        (vec!["--model", "resnet9000"], "unknown model `resnet9000`"),
        (vec!["--modules", "9"], "cannot make 9 non-empty modules"),
        (vec!["--modules", "0"], "modules"),
        (
            vec!["--optimizer", "rmsprop"],
            "`optimizer` = rmsprop: expected one of sgd, adam, adamw",
        ),
        (
            vec!["--global-optimizer", "both"],
            "`global-optimizer` = both: expected shared or separate",
        ),
        (vec!["--global-lr-scale", "0"], "`global-lr-scale` = 0"),
        (vec!["--global-microbatch", "0"], "`global-microbatch` = 0"),
        (
            vec!["--global-microbatch", "65"],
            "`global-microbatch` = 65: expected an integer in [1, batch-size]",
        ),
        (vec!["--lr=-1"], "lr"),
        (vec!["--lr", "0"], "`lr` = 0"),
        (vec!["--batch-size", "0"], "batch-size"),
        (
            vec!["--device", "1"],
            "--device `1`: the `cpu` backend has a single device",
        ),
        (
            vec!["--backend", "tpu"],
            "unknown backend `tpu`; expected one of: cpu",
        ),
        (
            vec!["--out", existing.to_str().unwrap()],
            "already holds a run",
        ),
    ];
    for (backend, compiled) in [
        ("wgpu", cfg!(feature = "wgpu")),
        ("cuda", cfg!(feature = "cuda")),
    ] {
        if !compiled {
            let needle = if backend == "wgpu" {
                "--features wgpu"
            } else {
                "--features cuda"
            };
            cases.push((vec!["--backend", backend], needle));
        }
    }
    for (extra, needle) in cases {
        let mut args = vec!["train", "--epochs", "1", "--train-limit", "64"];
        args.extend(&extra);
        let out = pgl(&args, tmp.path());
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{extra:?} should fail");
        assert!(stderr.contains("error"), "{extra:?}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{extra:?}: expected `{needle}` in: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{extra:?} panicked: {stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(existing.join("summary.json")).unwrap(),
        "{}",
        "an existing run is never overwritten"
    );
}

/// The whole CLI path on the wgpu backend (in CI: Mesa's lavapipe, a software Vulkan driver).
#[cfg(feature = "wgpu")]
#[test]
fn train_on_the_wgpu_backend_learns_the_digits() {
    let tmp = tempfile::tempdir().unwrap();
    let out = pgl(
        &[
            "train",
            "--backend",
            "wgpu",
            "--model",
            "mlp",
            "--epochs",
            "3",
            "--out",
            "wgpu-run",
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    assert!(text(&out.stdout).contains("backend wgpu"));
    let s = summary(&tmp.path().join("wgpu-run"));
    let accuracy = s["test_accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.85, "wgpu run reached only {accuracy}");
    assert!(s["steps_global"].as_u64().unwrap() > 0);
    assert!(s["peak_memory_bytes"]["local"].is_null());
}

/// A GPU that is not there is a clear error before any work, not a panic inside Burn.
#[cfg(feature = "wgpu")]
#[test]
fn a_missing_wgpu_device_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = pgl(
        &[
            "train",
            "--backend",
            "wgpu",
            "--device",
            "7",
            "--epochs",
            "1",
        ],
        tmp.path(),
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("backend `wgpu` could not start"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!tmp.path().join("runs").exists(), "no run folder is made");
}

#[test]
fn schedules_lists_every_builtin() {
    let out = pgl(&["schedules"], Path::new("."));
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    for name in [
        "local-only",
        "end-to-end",
        "periodic",
        "warmup",
        "plateau",
        "any",
        "all",
    ] {
        assert!(stdout.contains(name), "{name} missing from: {stdout}");
    }
}

#[test]
fn train_resnet32_with_infopro_split_on_a_cifar10_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("cifar-10-batches-bin");
    write_cifar10(&data, 8, 10);
    let out_dir = tmp.path().join("run");
    let out = pgl(
        &[
            "train",
            "--model",
            "resnet32",
            "--modules",
            "16",
            "--split",
            "infopro",
            "--aux-head",
            "1c2f",
            "--dataset",
            "cifar10",
            "--data-dir",
            tmp.path().to_str().unwrap(),
            "--epochs",
            "1",
            "--batch-size",
            "20",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let s = summary(&out_dir);
    assert_eq!(s["train_samples"], 40);
    assert_eq!(s["module_accuracy"].as_array().unwrap().len(), 16);
    assert_eq!(s["module_params"].as_array().unwrap().len(), 16);
    assert_eq!(s["config"]["split"], "infopro");
    assert_eq!(s["config"]["aux_head"], "1c2f");
    assert_eq!(
        s["steps_local"].as_u64().unwrap() + s["steps_global"].as_u64().unwrap(),
        2
    );
    let metrics = std::fs::read_to_string(out_dir.join("metrics.jsonl")).unwrap();
    assert!(metrics.contains("data_wait_seconds"));
}

/// `--dataset svhn` reads SVHN's `.mat` files (here small ones written like SVHN's, the
/// training file compressed as SVHN's are) and trains, here with AugLocal's heads.
#[test]
fn train_on_svhn_mat_files_with_auglocal_heads() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("svhn");
    std::fs::create_dir_all(&data).unwrap();
    let split = |n: usize, compress: bool| {
        let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
        let pixels: Vec<u8> = (0..n * 3072)
            .map(|p| ((p / 3072 % 10) * 20 + p % 13) as u8)
            .collect();
        pgl_data::svhn::encode_split(&pixels, &labels, compress)
    };
    std::fs::write(data.join("train_32x32.mat"), split(40, true)).unwrap();
    std::fs::write(data.join("test_32x32.mat"), split(10, false)).unwrap();
    let out_dir = tmp.path().join("run");
    let out = pgl(
        &[
            "train",
            "--dataset",
            "svhn",
            "--data-dir",
            data.to_str().unwrap(),
            "--model",
            "cnn",
            "--modules",
            "4",
            "--aux-head",
            "aug3",
            "--epochs",
            "1",
            "--batch-size",
            "20",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        tmp.path(),
    );
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    let s = summary(&out_dir);
    assert_eq!(s["train_samples"], 40);
    assert_eq!(s["config"]["dataset"], "svhn");
    assert_eq!(s["config"]["aux_head"], "aug3");
    assert!(s["test_accuracy"].as_f64().is_some(), "{s}");
}

#[test]
fn models_lists_the_zoo_as_text_and_json() {
    let out = pgl(&["models"], Path::new("."));
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    for needle in [
        "resnet32",
        "464154",
        "resnet110",
        "1727962",
        "vgg13",
        "2,4,8,16",
        "1c2f",
        "mlp-sr",
    ] {
        assert!(stdout.contains(needle), "{needle} missing from: {stdout}");
    }
    let out = pgl(&["models", "--json"], Path::new("."));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let models = json.as_array().unwrap();
    assert_eq!(models.len(), 7);
    let r110 = models.iter().find(|m| m["name"] == "resnet110").unwrap();
    assert_eq!(r110["params"], 1_727_962);
    assert_eq!(r110["units"], 55);
    assert_eq!(r110["default_head"], "1c2f");
}
