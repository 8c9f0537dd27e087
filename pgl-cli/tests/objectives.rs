//! Local objectives from the command line: `pgl objectives`, `--local-objective` on `train`
//! (InfoPro and supervised contrastive on digits, exact resume with extra heads, errors that
//! name the flag and the parameter) and `pgl compare --objectives`.

mod common;

use std::path::Path;

use common::{SMALL, final_weights, metrics, ok, pgl, text, train};
use pgl_burn::burn::module::Module;
use pgl_burn::burn::prelude::Device;
use pgl_burn::checkpoint::{CheckpointStore, read_manifest};
use pgl_burn::inspect::param_values;
use pgl_burn::objective::{InputImages, ObjectiveHeads};
use pgl_core::ObjectiveRegistry;
use pgl_models::{ModelInput, ModelOptions, build_model};
use serde_json::Value;

fn json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

#[test]
fn pgl_objectives_lists_the_table() {
    let tmp = tempfile::tempdir().unwrap();
    let out = text(&ok(pgl(&["objectives"], tmp.path())).stdout);
    for name in ["ce", "infopro", "supcon"] {
        assert!(out.contains(&format!("  {name} ")), "{name} listed:\n{out}");
    }
    assert!(out.contains("temperature"), "{out}");
    let help = text(&ok(pgl(&["train", "--help"], tmp.path())).stdout);
    assert!(
        help.contains("--local-objective") && help.contains("infopro"),
        "{help}"
    );
}

/// The extra heads in the newest checkpoint of a digits run, as bit patterns.
fn head_weights(run: &Path) -> Vec<(String, Vec<u32>)> {
    let dir = CheckpointStore::new(run, 1).latest().unwrap().unwrap();
    let config = read_manifest(&dir).unwrap().config;
    let device = Device::flex().autodiff();
    let options = ModelOptions::even(config.model.modules);
    let model = build_model(&config.model.name, ModelInput::DIGITS, &options, &device).unwrap();
    let objective = ObjectiveRegistry::with_builtins()
        .build(&config.objective.local_objective)
        .unwrap();
    let input = InputImages::unnormalised([1, 8, 8]);
    let skeleton = ObjectiveHeads::build(&*objective, &model, &input, 0, &device).unwrap();
    let heads = skeleton
        .try_load_file(dir.join("objective.bpk"))
        .expect("saved heads");
    param_values(&heads)
        .into_iter()
        .map(|p| (p.path, p.values.iter().map(|v| v.to_bits()).collect()))
        .collect()
}

#[test]
fn train_learns_digits_with_infopro_and_supcon() {
    let tmp = tempfile::tempdir().unwrap();
    for (objective, folder) in [
        ("infopro", "infopro"),
        ("supcon:temperature=0.07", "supcon"),
        ("infopro:class=supcon", "infopro-supcon"),
    ] {
        let run = tmp.path().join(folder);
        let args = [
            "train",
            "--out",
            run.to_str().unwrap(),
            "--train-limit",
            "512",
            "--test-limit",
            "200",
            "--batch-size",
            "32",
            "--epochs",
            "3",
            "--local-objective",
            objective,
            "--schedule",
            "periodic:every=4",
        ];
        let out = ok(pgl(&args, tmp.path()));
        assert!(text(&out.stdout).contains("run folder"), "{objective}");
        let summary = json(&run.join("summary.json"));
        // Run records hold the canonical spec, every changed default named.
        let canonical = ObjectiveRegistry::with_builtins()
            .build(objective)
            .unwrap()
            .spec();
        assert_eq!(summary["config"]["local_objective"], canonical.as_str());
        assert_eq!(
            summary["steps_global"], 12,
            "{objective}: 48 steps, every 4th global"
        );
        // 512 training digits, 3 epochs: every objective reaches about 0.9 (chance: 0.1).
        let accuracy = summary["test_accuracy"].as_f64().unwrap();
        assert!(accuracy > 0.7, "{objective}: test accuracy {accuracy}");
        let checkpoint = run.join("checkpoints/epoch-0003");
        assert!(checkpoint.join("objective.bpk").is_file(), "{objective}");
    }
    // ce saves no extra heads.
    let run = tmp.path().join("ce");
    ok(train(&["--epochs", "1", "--local-objective", "ce"], &run));
    assert!(!run.join("checkpoints/epoch-0001/objective.bpk").exists());
    // The default (supcon) does.
    let run = tmp.path().join("default");
    ok(train(&["--epochs", "1"], &run));
    assert!(run.join("checkpoints/epoch-0001/objective.bpk").is_file());
}

#[test]
fn a_resumed_infopro_run_equals_an_uninterrupted_one() {
    let tmp = tempfile::tempdir().unwrap();
    let args = |epochs: &'static str| {
        vec![
            "--epochs",
            epochs,
            "--local-objective",
            "infopro",
            "--schedule",
            "periodic:every=3",
        ]
    };
    let full = tmp.path().join("full");
    ok(train(&args("2"), &full));
    let split = tmp.path().join("split");
    ok(train(&args("1"), &split));
    let resume = [
        "train",
        "--resume",
        split.to_str().unwrap(),
        "--epochs",
        "2",
    ];
    ok(pgl(&resume, tmp.path()));
    assert_eq!(metrics(&split), metrics(&full));
    assert!(
        final_weights(&split) == final_weights(&full),
        "weights differ after resume"
    );
    assert!(
        head_weights(&split) == head_weights(&full),
        "extra heads differ after resume"
    );
}

#[test]
fn a_bad_objective_spec_names_the_flag_and_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let error = |spec: &str| {
        let run = tmp.path().join("bad");
        let out = train(&["--epochs", "1", "--local-objective", spec], &run);
        assert!(!out.status.success(), "{spec} must fail");
        assert!(!run.exists(), "{spec}: no run folder for a bad spec");
        text(&out.stderr)
    };
    let e = error("supcon:temperature=-1");
    assert!(
        e.contains("--local-objective") && e.contains("temperature=-1") && e.contains("> 0"),
        "{e}"
    );
    let e = error("infopro:ixx=3");
    assert!(
        e.contains("`ixx`") && e.contains("ixx_1, ixy_1, ixx_2, ixy_2"),
        "{e}"
    );
    let e = error("dgl");
    assert!(e.contains("ce, infopro, supcon"), "{e}");
    let e = error("infopro:ixx_1=0,ixy_1=0");
    assert!(
        e.contains("local_objective") && e.contains("module 1 of K=4"),
        "{e}"
    );
}

#[test]
fn compare_sweeps_objectives_times_schedules() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("cmp");
    let mut args = vec![
        "compare",
        "--out",
        out_dir.to_str().unwrap(),
        "--epochs",
        "1",
        "--objectives",
        "ce,infopro",
        "--schedules",
        "local-only,periodic:every=3",
    ];
    args.extend(SMALL);
    let out = ok(pgl(&args, tmp.path()));
    let file = json(&out_dir.join("compare.json"));
    let rows = file["runs"].as_array().unwrap();
    let pairs: Vec<(String, String)> = rows
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap().to_string();
            (s("objective"), s("schedule"))
        })
        .collect();
    let expected = [
        ("ce", "local-only"),
        ("ce", "periodic:every=3,len=1,unit=iters"),
        ("infopro:class=ce,recon=bce", "local-only"),
        (
            "infopro:class=ce,recon=bce",
            "periodic:every=3,len=1,unit=iters",
        ),
    ];
    assert_eq!(
        pairs,
        expected.map(|(o, s)| (o.to_string(), s.to_string())),
        "objectives x schedules"
    );
    for row in rows {
        assert!(
            row["peak_memory_bytes_local"].as_u64().unwrap() > 0,
            "{row}"
        );
    }
    assert_eq!(file["configurations"].as_array().unwrap().len(), 4);
    let table = std::fs::read_to_string(out_dir.join("compare.md")).unwrap();
    assert!(table.contains("| objective | schedule |"), "{table}");
    assert!(
        table.contains("| `infopro:class=ce,recon=bce` | `local-only` | 4 |"),
        "{table}"
    );
    assert!(text(&out.stdout).contains("| `ce` | `local-only` | 4 |"));
    assert!(
        out_dir
            .join("03-k4-infopro-class-ce-recon-bce-local-only-s42/summary.json")
            .exists()
    );
    let e = text(
        &pgl(
            &["compare", "--objectives", "ce,infopro:class=x"],
            tmp.path(),
        )
        .stderr,
    );
    assert!(e.contains("--objectives") && e.contains("class"), "{e}");
}
