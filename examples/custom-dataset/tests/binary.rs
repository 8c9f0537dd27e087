//! The custom binary trains on a `csv8` folder: the embedded digits written out as CSV.

use std::process::Command;

fn pgl(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pgl-csv"))
        .args(args)
        .output()
        .expect("the example binary runs")
}

#[test]
fn the_custom_binary_trains_on_a_csv8_folder() {
    let help = pgl(&["train", "--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("csv8"), "{help}");

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("digits-csv");
    std::fs::create_dir(&data).unwrap();
    let digits = pgl_data::load_dataset("digits", None).unwrap();
    let to_csv = pgl_example_custom_dataset::to_csv;
    std::fs::write(data.join("train.csv"), to_csv(&digits.train)).unwrap();
    std::fs::write(data.join("test.csv"), to_csv(&digits.test)).unwrap();

    let out = tmp.path().join("run");
    let run = pgl(&[
        "train",
        "--dataset",
        "csv8",
        "--data-dir",
        data.to_str().unwrap(),
        "--epochs",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    // Two epochs of the default CNN on the digits learn far more than chance (10 %).
    let accuracy = summary["test_accuracy"].as_f64().unwrap();
    assert!(accuracy > 0.5, "{summary}");

    // A folder without the files is refused, naming the file.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let refused = pgl(&[
        "train",
        "--dataset",
        "csv8",
        "--data-dir",
        empty.to_str().unwrap(),
        "--epochs",
        "1",
    ]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && stderr.contains("train.csv"),
        "{stderr}"
    );
}
