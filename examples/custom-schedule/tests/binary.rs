//! The custom binary trains the embedded digits with the `growing` schedule and lists it.

use std::process::Command;

fn pgl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pgl-growing"))
        .args(args)
        .output()
        .expect("the example binary runs")
}

#[test]
fn the_custom_binary_lists_and_trains_with_the_new_schedule() {
    let listed = pgl(&["schedules"]);
    let listing = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.status.success() && listing.contains("growing"),
        "{listing}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let run = pgl(&[
        "train",
        "--schedule",
        "growing:every=2",
        "--epochs",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let config = std::fs::read_to_string(out.join("config.json")).unwrap();
    assert!(config.contains("growing:every=2"), "{config}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let accuracy = summary["test_accuracy"].as_f64().unwrap();
    // Two epochs of the default CNN on the 8x8 digits learn far more than chance (10 %).
    assert!(accuracy > 0.5, "{summary}");
    assert!(summary["steps_global"].as_u64().unwrap() > 0, "{summary}");

    // An unknown schedule is still refused, naming the table with the new entry.
    let refused = pgl(&["train", "--schedule", "shrinking:every=2", "--epochs", "1"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("growing"),
        "{stderr}"
    );
}
