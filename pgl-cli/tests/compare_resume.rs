//! `pgl compare` never overwrites a comparison, and `pgl compare --resume DIR` finishes one
//! that was killed: complete runs are kept, the interrupted run resumes from its checkpoint,
//! missing runs run, and the result equals an uninterrupted comparison's.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::{ok, pgl, pgl_command, text, wait_until};
use serde_json::Value;

/// Three runs (one per schedule) of two epochs of the MLP on a little of the digits.
const ARGS: &[&str] = &[
    "--model",
    "mlp",
    "--schedules",
    "end-to-end,local-only,periodic:every=3",
    "--modules",
    "2",
    "--epochs",
    "2",
    "--train-limit",
    "192",
    "--test-limit",
    "60",
    "--batch-size",
    "32",
    "--lr-schedule",
    "constant",
];

fn compare_args(out: &Path) -> Vec<String> {
    let mut args = vec![
        "compare".to_string(),
        "--out".to_string(),
        out.display().to_string(),
    ];
    args.extend(ARGS.iter().map(|s| s.to_string()));
    args
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// compare.json without what is measured rather than computed (seconds, images/s, memory)
/// and with run folders relative to the comparison.
fn results(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("compare.json")).unwrap();
    let mut value: Value = serde_json::from_str(&text).unwrap();
    fn strip(value: &mut Value, dir: &str) {
        match value {
            Value::Object(map) => {
                map.retain(|key, _| {
                    !["images_per_second", "train_seconds"].contains(&key.as_str())
                        && !key.starts_with("peak_memory")
                });
                if let Some(Value::String(run)) = map.get_mut("run_dir") {
                    *run = run.trim_start_matches(dir).to_string();
                }
                map.values_mut().for_each(|v| strip(v, dir));
            }
            Value::Array(items) => items.iter_mut().for_each(|v| strip(v, dir)),
            _ => {}
        }
    }
    strip(&mut value, &dir.display().to_string());
    value
}

/// The sub-folder of run `n` (1-based) of the comparison in `dir`.
fn run_dir(dir: &Path, n: usize) -> Option<PathBuf> {
    let prefix = format!("{n:02}-");
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
}

#[test]
fn a_killed_comparison_resumes_to_the_results_of_an_uninterrupted_one() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = tmp.path().join("reference");
    ok(pgl(&strs(&compare_args(&reference)), tmp.path()));

    // Kill the comparison while run 2 writes its second checkpoint: run 1 is complete, run 2
    // has its first epoch's checkpoint, run 3 has not started. Slow checkpoint writes (a test
    // hook) hold that moment open.
    let killed = tmp.path().join("killed");
    let mut child = pgl_command(&strs(&compare_args(&killed)), tmp.path())
        .env("PGL_CHECKPOINT_PAUSE_MS", "60")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the comparison", Duration::from_secs(120), || {
        run_dir(&killed, 2).is_some_and(|run| run.join("checkpoints/.partial-epoch-0002").exists())
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let first = run_dir(&killed, 1).unwrap();
    let second = run_dir(&killed, 2).unwrap();
    assert!(first.join("summary.json").is_file(), "run 1 finished");
    assert!(
        !second.join("summary.json").exists(),
        "run 2 was interrupted"
    );
    assert!(second.join("checkpoints/epoch-0001").is_dir());
    assert!(run_dir(&killed, 3).is_none(), "run 3 had not started");
    let first_summary = std::fs::read(first.join("summary.json")).unwrap();

    // The same command again is refused: it would overwrite the comparison.
    let out = pgl(&strs(&compare_args(&killed)), tmp.path());
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("not empty") && stderr.contains("pgl compare --resume"),
        "{stderr}"
    );
    // --resume takes no other option.
    let out = pgl(
        &[
            "compare",
            "--resume",
            killed.to_str().unwrap(),
            "--epochs",
            "3",
        ],
        tmp.path(),
    );
    assert!(!out.status.success(), "{}", text(&out.stderr));

    let out = ok(pgl(
        &["compare", "--resume", killed.to_str().unwrap()],
        tmp.path(),
    ));
    assert!(text(&out.stdout).contains("compare.md"));
    assert_eq!(
        std::fs::read(first.join("summary.json")).unwrap(),
        first_summary,
        "the complete run is kept as it was"
    );
    assert_eq!(results(&killed), results(&reference));
    assert_eq!(
        common::metrics(&second),
        common::metrics(&run_dir(&reference, 2).unwrap()),
        "the interrupted run resumed exactly"
    );
    assert!(run_dir(&killed, 3).unwrap().join("summary.json").is_file());

    // A folder that is not a comparison cannot be resumed.
    let out = pgl(
        &["compare", "--resume", tmp.path().to_str().unwrap()],
        tmp.path(),
    );
    assert!(
        !out.status.success() && text(&out.stderr).contains("compare-plan.json"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn compare_checks_every_configuration_before_the_first_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("cmp");
    // The CNN has 8 split units: K = 9 is impossible, and is found before K = 2 runs.
    let out = pgl(
        &[
            "compare",
            "--modules",
            "2,9",
            "--epochs",
            "1",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        tmp.path(),
    );
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("K=9") && stderr.contains("at most 8"),
        "{stderr}"
    );
    assert!(!out_dir.exists(), "nothing ran: {stderr}");
    // A local objective that cannot train one of the configurations, likewise.
    let out = pgl(
        &[
            "compare",
            "--modules",
            "2,4",
            "--objectives",
            "ce,supcon:dim=100000000000",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        tmp.path(),
    );
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("dim") && !out_dir.exists(),
        "{stderr}"
    );
}
