//! End-to-end tests of `pgl compare`: schedules × K × seeds, the tables, the plots, and
//! atomic outputs.

mod common;

use std::path::Path;

use common::{pgl, text};
use serde_json::Value;

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

/// Runs `pgl compare ARGS --out OUT_DIR`; returns compare.json and the standard output.
fn compare(args: &[&str], out_dir: &Path) -> (Value, String) {
    let mut all = vec!["compare", "--out", out_dir.to_str().unwrap()];
    all.extend(args);
    let out = pgl(&all, out_dir.parent().unwrap());
    assert!(out.status.success(), "stderr: {}", text(&out.stderr));
    (json(&out_dir.join("compare.json")), text(&out.stdout))
}

/// Every file below `dir`, as paths relative to it.
fn files_below(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap();
                found.push(relative.display().to_string());
            }
        }
    }
    found
}

/// The rows of the markdown tables (lines that start with a schedule in backticks).
fn table_rows(markdown: &str) -> Vec<&str> {
    markdown.lines().filter(|l| l.starts_with("| `")).collect()
}

fn by<'a>(rows: &'a [Value], schedule: &str, k: u64) -> &'a Value {
    rows.iter()
        .find(|r| r["schedule"] == schedule && r["modules"] == k)
        .unwrap_or_else(|| panic!("no row for {schedule} at K={k}"))
}

#[test]
fn compare_runs_every_schedule_and_k_and_writes_tables_and_plots() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("cmp");
    let (file, stdout) = compare(
        &[
            "--epochs",
            "2",
            "--modules",
            "2,4",
            "--schedules",
            "end-to-end,local-only,periodic:every=3,len=1",
            "--train-limit",
            "256",
            "--test-limit",
            "100",
        ],
        &out_dir,
    );
    assert_eq!(file["seeds"], serde_json::json!([42]));
    let rows = file["runs"].as_array().unwrap();
    assert_eq!(rows.len(), 6, "3 schedules x 2 values of K");
    for row in rows {
        for key in [
            "schedule",
            "modules",
            "seed",
            "test_accuracy",
            "images_per_second",
            "peak_memory_bytes_local",
            "peak_memory_bytes_global",
        ] {
            assert!(row.get(key).is_some(), "row lacks {key}: {row}");
        }
        assert_eq!(row["seed"], 42);
        assert!(row["images_per_second"].as_f64().unwrap() > 0.0);
        assert_eq!(row["accuracy_per_epoch"].as_array().unwrap().len(), 2);
        let k = row["modules"].as_u64().unwrap() as usize;
        assert_eq!(row["module_accuracy"].as_array().unwrap().len(), k);
    }
    assert!(by(rows, "end-to-end", 4)["peak_memory_bytes_local"].is_null());
    assert!(by(rows, "local-only", 4)["peak_memory_bytes_global"].is_null());
    let pgl_row = by(rows, "periodic:every=3,len=1,unit=iters", 2);
    assert!(pgl_row["peak_memory_bytes_local"].as_u64().unwrap() > 0);
    assert!(pgl_row["peak_memory_bytes_global"].as_u64().unwrap() > 0);
    assert!(
        (pgl_row["global_step_share"].as_f64().unwrap() - 2.0 / 8.0).abs() < 1e-9,
        "4 steps per epoch, every 3rd global"
    );
    assert!(
        out_dir.join("01-k2-end-to-end-s42/summary.json").exists(),
        "sub-run folders name K, the schedule and the seed"
    );
    // One seed: each configuration is its single run, without a standard deviation.
    let configurations = file["configurations"].as_array().unwrap();
    assert_eq!(configurations.len(), 6);
    for c in configurations {
        assert_eq!(c["n"], 1);
        assert!(c["test_accuracy"]["std"].is_null());
        let run = by(
            rows,
            c["schedule"].as_str().unwrap(),
            c["modules"].as_u64().unwrap(),
        );
        assert_eq!(c["test_accuracy"]["mean"], run["test_accuracy"]);
        assert_eq!(c["best_test_accuracy"]["mean"], run["best_test_accuracy"]);
        let per_epoch: Vec<f64> = run["accuracy_per_epoch"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_f64().unwrap())
            .collect();
        let epoch = run["best_epoch"].as_u64().unwrap() as usize;
        assert_eq!(
            run["best_test_accuracy"].as_f64(),
            Some(per_epoch[epoch - 1])
        );
        assert!(per_epoch.iter().all(|&a| a <= per_epoch[epoch - 1]));
    }
    let table = std::fs::read_to_string(out_dir.join("compare.md")).unwrap();
    assert!(table.starts_with("# pgl compare"));
    assert_eq!(
        table_rows(&table).len(),
        6,
        "no per-seed table for one seed"
    );
    assert!(!table.contains('±'), "no standard deviation for one seed");
    for stem in [
        "accuracy_vs_epoch",
        "module_accuracy_k2",
        "module_accuracy_k4",
        "error_vs_modules",
    ] {
        let png = std::fs::read(out_dir.join(format!("{stem}.png"))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{stem}.png is a PNG");
        assert!(png.len() > 10_000, "{stem}.png has content");
        let svg = std::fs::read_to_string(out_dir.join(format!("{stem}.svg"))).unwrap();
        assert!(
            svg.contains("<svg") && svg.contains("test ") && svg.trim_end().ends_with("</svg>"),
            "{stem}.svg is complete and has axis labels"
        );
    }
    assert!(
        stdout.contains("| `local-only` | 4 | off | 1 | "),
        "{stdout}"
    );
    // Everything was written through a temporary file that was renamed into place.
    let files = files_below(&out_dir);
    let leftovers: Vec<&String> = files.iter().filter(|f| f.contains(".tmp")).collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    for name in ["compare.md", "compare.json", "accuracy_vs_epoch.svg"] {
        assert!(files.iter().any(|f| f == name), "{name} missing: {files:?}");
    }
}

#[test]
fn compare_over_seeds_reports_mean_std_gap_recovered_and_repeats_each_seed_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let small = [
        "--epochs",
        "1",
        "--train-limit",
        "256",
        "--test-limit",
        "128",
        "--modules",
        "2",
        "--batch-size",
        "16",
        "--lr",
        "0.005",
    ];
    let first_dir = tmp.path().join("seeds");
    let mut args = small.to_vec();
    args.extend([
        "--schedules",
        "end-to-end,local-only,periodic:every=2",
        "--seed",
        "7",
        "--seeds",
        "2",
    ]);
    let (file, _) = compare(&args, &first_dir);
    assert_eq!(file["seeds"], serde_json::json!([7, 8]));
    let runs = file["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 6, "3 schedules x 2 seeds");
    let configurations = file["configurations"].as_array().unwrap();
    assert_eq!(configurations.len(), 3);
    let mean_of = |schedule: &str| {
        by(configurations, schedule, 2)["test_accuracy"]["mean"]
            .as_f64()
            .unwrap()
    };
    for c in configurations {
        assert_eq!(c["n"], 2);
        assert_eq!(c["seeds"], serde_json::json!([7, 8]));
        let accuracies: Vec<f64> = runs
            .iter()
            .filter(|r| r["schedule"] == c["schedule"])
            .map(|r| r["test_accuracy"].as_f64().unwrap())
            .collect();
        assert_eq!(accuracies.len(), 2);
        let mean = (accuracies[0] + accuracies[1]) / 2.0;
        let std = ((accuracies[0] - mean).powi(2) + (accuracies[1] - mean).powi(2)).sqrt();
        assert!((c["test_accuracy"]["mean"].as_f64().unwrap() - mean).abs() < 1e-12);
        assert!((c["test_accuracy"]["std"].as_f64().unwrap() - std).abs() < 1e-12);
        assert!((c["test_error"]["mean"].as_f64().unwrap() - (1.0 - mean)).abs() < 1e-12);
        assert_eq!(c["accuracy_per_epoch"].as_array().unwrap().len(), 1);
    }
    let local = mean_of("local-only");
    let end_to_end = mean_of("end-to-end");
    assert!(
        (end_to_end - local).abs() > 1e-9,
        "the two references differ on these seeds"
    );
    for schedule in [
        "end-to-end",
        "local-only",
        "periodic:every=2,len=1,unit=iters",
    ] {
        let gap = by(configurations, schedule, 2)["gap_recovered"]
            .as_f64()
            .unwrap();
        let expected = (mean_of(schedule) - local) / (end_to_end - local);
        assert!(
            (gap - expected).abs() < 1e-12,
            "{schedule}: gap recovered {gap}, formula {expected}"
        );
    }
    let table = std::fs::read_to_string(first_dir.join("compare.md")).unwrap();
    let rows = table_rows(&table);
    assert_eq!(rows.len(), 3 + 6, "3 configurations, then 6 runs");
    let periodic = by(configurations, "periodic:every=2,len=1,unit=iters", 2);
    let line = rows[2];
    assert!(line.starts_with("| `periodic:every=2,len=1,unit=iters` | 2 | off | 2 | "));
    assert!(line.contains(&format!(
        "{:.4} ± {:.4}",
        periodic["test_accuracy"]["mean"].as_f64().unwrap(),
        periodic["test_accuracy"]["std"].as_f64().unwrap()
    )));
    assert!(line.contains(&format!(
        "| {:.3} |",
        periodic["gap_recovered"].as_f64().unwrap()
    )));
    assert!(first_dir.join("04-k2-local-only-s8/summary.json").exists());
    let svg = std::fs::read_to_string(first_dir.join("accuracy_vs_epoch.svg")).unwrap();
    assert!(svg.contains("mean ± std over 2 seeds"));

    // The same configurations on seed 8 alone, listed in another order: the same numbers.
    let second_dir = tmp.path().join("again");
    let mut args = small.to_vec();
    args.extend([
        "--schedules",
        "periodic:every=2,local-only",
        "--seed-list",
        "8",
    ]);
    let (again, _) = compare(&args, &second_dir);
    let again_runs = again["runs"].as_array().unwrap();
    assert_eq!(again_runs.len(), 2);
    for run in again_runs {
        let earlier = runs
            .iter()
            .find(|r| r["schedule"] == run["schedule"] && r["seed"] == 8)
            .unwrap();
        for key in [
            "test_accuracy",
            "module_accuracy",
            "accuracy_per_epoch",
            "global_step_share",
        ] {
            assert_eq!(run[key], earlier[key], "{}: {key}", run["schedule"]);
        }
    }
    for c in again["configurations"].as_array().unwrap() {
        assert_eq!(c["n"], 1);
        assert!(
            c["gap_recovered"].is_null(),
            "no end-to-end run to compare with"
        );
    }
    let table = std::fs::read_to_string(second_dir.join("compare.md")).unwrap();
    assert!(!table.contains('±'));
    assert!(table.contains("| `local-only` | 2 | off | 1 | "));
}

#[test]
fn compare_rejects_bad_lists() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, needle) in [
        (vec!["compare", "--schedules", "local-only,bogus"], "bogus"),
        (vec!["compare", "--modules", "2,x"], "invalid value"),
        (
            vec!["compare", "--global-checkpointing", "sometimes"],
            "off, on or both",
        ),
        (vec!["compare", "--seeds", "0"], "--seeds"),
        (
            vec!["compare", "--seed-list", "3,4,3"],
            "seed 3 appears twice",
        ),
        (
            vec!["compare", "--seed-list", "1,2", "--seeds", "2"],
            "cannot be used with",
        ),
        (
            vec!["compare", "--seed", "18446744073709551615", "--seeds", "2"],
            "largest seed",
        ),
    ] {
        let out = pgl(&args, tmp.path());
        assert!(!out.status.success());
        assert!(
            text(&out.stderr).contains(needle),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    assert!(
        !tmp.path().join("runs").exists(),
        "failed comparisons leave no folder"
    );
}
