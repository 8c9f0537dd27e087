//! `--kernels onednn`: convolutions through oneDNN where `libdnnl.so.2` is installed (`.ci/run`
//! installs it), the default (`auto`) there. A run records the kernels it used, repeats itself
//! exactly, and its pipelined run is bit-identical to the sequential one; it trains as well as
//! pgl's kernels; a resumed run ends where an uninterrupted one does. Where oneDNN cannot be
//! loaded, `auto` means pgl's kernels and `onednn` is refused with the flag and the library.

mod common;

use common::{final_weights, metrics, ok, pgl, text, train};

#[test]
fn onednn_kernels_train_reproducibly_and_are_refused_with_a_reason_where_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let unknown = pgl(&["train", "--kernels", "mkl"], tmp.path());
    let stderr = text(&unknown.stderr);
    assert!(!unknown.status.success());
    assert!(
        stderr.contains("--kernels") && stderr.contains("pgl, onednn"),
        "{stderr}"
    );

    let recorded = |run: &std::path::Path| {
        let text = std::fs::read_to_string(run.join("config.json")).unwrap();
        let config: serde_json::Value = serde_json::from_str(&text).unwrap();
        config["kernels"].as_str().unwrap().to_string()
    };
    // The default records what it chose: oneDNN where it loads, pgl's kernels elsewhere.
    let default = tmp.path().join("default");
    ok(train(&["--epochs", "1"], &default));
    let installed = pgl_burn::kernels::onednn::available().is_ok();
    assert_eq!(recorded(&default), if installed { "onednn" } else { "pgl" });

    let first = tmp.path().join("first");
    let out = train(&["--kernels", "onednn", "--epochs", "2"], &first);
    if let Err(why) = pgl_burn::kernels::onednn::available() {
        assert!(
            std::env::var_os("PGL_REQUIRE_ONEDNN").is_none(),
            "PGL_REQUIRE_ONEDNN is set (CI) but oneDNN cannot be loaded: {why}"
        );
        let stderr = text(&out.stderr);
        assert!(!out.status.success());
        assert!(
            stderr.contains("--kernels") && stderr.contains("libdnnl"),
            "{stderr} ({why})"
        );
        eprintln!("oneDNN not available here ({why}); only its refusal was checked");
        return;
    }
    ok(out);
    assert_eq!(recorded(&first), "onednn");

    let again = tmp.path().join("again");
    ok(train(&["--kernels", "onednn", "--epochs", "2"], &again));
    assert_eq!(metrics(&again), metrics(&first), "same seed, same results");
    assert_eq!(final_weights(&again), final_weights(&first));

    let pipelined = tmp.path().join("pipelined");
    ok(train(
        &["--kernels", "onednn", "--epochs", "2", "--pipeline", "2"],
        &pipelined,
    ));
    assert_eq!(final_weights(&pipelined), final_weights(&first));

    // pgl's kernels: other last bits, the same learning.
    let ours = tmp.path().join("ours");
    ok(train(&["--kernels", "pgl", "--epochs", "2"], &ours));
    assert_eq!(recorded(&ours), "pgl");
    assert_ne!(final_weights(&ours), final_weights(&first));
    let accuracy = |run: &std::path::Path| {
        metrics(run).last().unwrap()["test_accuracy"]
            .as_f64()
            .unwrap()
    };
    assert!(
        (accuracy(&ours) - accuracy(&first)).abs() < 0.1,
        "{} vs {}",
        accuracy(&ours),
        accuracy(&first)
    );

    // Resumed with one more epoch: the same as a run of that many epochs from the start.
    let longer = tmp.path().join("longer");
    ok(train(&["--kernels", "onednn", "--epochs", "3"], &longer));
    let first_dir = first.to_str().unwrap();
    ok(pgl(
        &["train", "--resume", first_dir, "--epochs", "3"],
        tmp.path(),
    ));
    assert_eq!(final_weights(&first), final_weights(&longer));
}
