//! A run records the auxiliary head it built, and a CNN run recorded before the CNN's default
//! head changed (`aux_head: null` in its `config.json` and checkpoint manifests, when the
//! default was `pool2-1f`) keeps reading as the network it trained: eval, export and resume.

mod common;

use std::path::Path;

use common::{ok, pgl, text, train};

/// The `aux_head` of a JSON record (`config.json` or a checkpoint manifest).
fn recorded_head(path: &Path) -> serde_json::Value {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json.get("config").unwrap_or(&json)["aux_head"].clone()
}

/// Rewrites a JSON record's `aux_head` to `null`, as pgl wrote it before it recorded heads.
fn forget_head(path: &Path) {
    let before = std::fs::read_to_string(path).unwrap();
    let after = before.replace(r#""aux_head": "pool2-1f""#, r#""aux_head": null"#);
    assert_ne!(before, after, "{}", path.display());
    std::fs::write(path, after).unwrap();
}

/// `pgl eval --json` of the run folder `run`.
fn eval(run: &Path) -> serde_json::Value {
    let out = ok(pgl(
        &["eval", "--checkpoint", run.to_str().unwrap(), "--json"],
        run.parent().unwrap(),
    ));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_run_records_its_head_and_old_cnn_records_still_mean_pool2_1f() {
    let tmp = tempfile::tempdir().unwrap();

    // Today's default CNN run names the head it built.
    let new = tmp.path().join("new");
    ok(train(&["--epochs", "1"], &new));
    assert_eq!(recorded_head(&new.join("config.json")), "1c2f");
    let manifest = new.join("checkpoints/epoch-0001/manifest.json");
    assert_eq!(recorded_head(&manifest), "1c2f");

    // A run made with the old default heads, its records rewritten as pgl wrote them then.
    let old = tmp.path().join("old");
    ok(train(&["--epochs", "1", "--aux-head", "pool2-1f"], &old));
    let before = eval(&old);
    forget_head(&old.join("config.json"));
    forget_head(&old.join("checkpoints/epoch-0001/manifest.json"));

    // Evaluated, it is the same network (a `1c2f` skeleton would not load its weights).
    let after = eval(&old);
    assert_eq!(after["test_accuracy"], before["test_accuracy"]);
    assert_eq!(after["module_accuracy"], before["module_accuracy"]);
    // Exported with PyTorch's names, it is the reference CNN with `pool2-1f` heads.
    let exported = ok(pgl(
        &["export", "old", "--out", "old.safetensors"],
        tmp.path(),
    ));
    assert!(
        text(&exported.stdout).contains("56 tensors"),
        "{}",
        text(&exported.stdout)
    );
    // Resumed, it continues (config.json and the checkpoint agree on what they mean).
    ok(pgl(
        &["train", "--resume", "old", "--epochs", "2"],
        tmp.path(),
    ));
    assert_eq!(eval(&old)["epochs_done"], 2);
    let manifest = old.join("checkpoints/epoch-0002/manifest.json");
    assert_eq!(recorded_head(&manifest), "pool2-1f");
}
