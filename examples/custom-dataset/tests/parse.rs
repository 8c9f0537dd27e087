//! The `csv8` parser on texts and folders the tests write: every malformed input is an error
//! naming the file and line, a good folder loads with the training images' statistics.

use std::path::Path;

use pgl_data::LoadOptions;
use pgl_example_custom_dataset::{load, parse, to_csv};

fn line(label: &str, pixel: &str) -> String {
    let mut fields = vec![label.to_string()];
    fields.extend((0..64).map(|_| pixel.to_string()));
    fields.join(",")
}

#[test]
fn good_lines_give_pixels_and_labels_in_order() {
    let text = format!("{}\n\n{}\n", line("3", "0"), line("9", "255"));
    let (pixels, labels) = parse(Path::new("t.csv"), &text).unwrap();
    assert_eq!(labels, vec![3, 9]);
    assert_eq!(pixels.len(), 128);
    assert_eq!((pixels[0], pixels[127]), (0, 255));
}

#[test]
fn a_malformed_line_is_named_by_file_line_and_field() {
    let path = Path::new("data/train.csv");
    let cases = [
        (
            format!("{}\n{}", line("1", "0"), line("10", "0")),
            "line 2: label `10`",
        ),
        (line("1", "256"), "line 1: pixel 1 is `256`"),
        ("1,2,3".to_string(), "line 1: 3 fields; expected 65"),
        (line("x", "0"), "line 1: label `x`"),
    ];
    for (text, expected) in cases {
        let e = parse(path, &text).unwrap_err().to_string();
        assert!(e.contains("data/train.csv") && e.contains(expected), "{e}");
    }
    let e = parse(path, "\n\n").unwrap_err().to_string();
    assert!(e.contains("is empty"), "{e}");
}

#[test]
fn a_folder_loads_and_a_missing_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("train.csv"), line("1", "51")).unwrap();
    let e = load(dir.path(), &LoadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("test.csv"), "{e}");
    std::fs::write(dir.path().join("test.csv"), line("2", "102")).unwrap();
    let data = load(dir.path(), &LoadOptions::default()).unwrap();
    assert_eq!((data.train.len(), data.test.len()), (1, 1));
    assert!(
        (data.train.mean[0] - 0.2).abs() < 1e-6,
        "{:?}",
        data.train.mean
    );
    // Written back, the same lines.
    assert_eq!(to_csv(&data.test).trim(), line("2", "102"));
}
