//! `csv8`: 8×8 grey images in two CSV files — an example of a dataset format added to pgl from
//! outside, through [`pgl_cli::App::with_dataset`].
//!
//! A `csv8` folder holds `train.csv` and `test.csv`; every non-empty line is one image,
//! `label,p1,…,p64`: a label in `0..=9`, then 64 pixels in `0..=255`, row by row. Parsing is
//! pure ([`parse`]) and separate from reading the folder ([`load`]); every malformed line is
//! an error naming the file and the line.

#![deny(missing_docs)]

use std::path::Path;

use pgl_data::{
    AugmentPolicy, DataError, DatasetEntry, DatasetMeta, DatasetSource, DatasetSplits,
    ImageDataset, ImageShape, LoadOptions,
};

/// The dataset's name (`--dataset csv8`).
pub const NAME: &str = "csv8";

/// Image shape: one channel, 8×8.
pub const SHAPE: ImageShape = ImageShape {
    channels: 1,
    height: 8,
    width: 8,
};

/// Number of classes.
pub const CLASSES: usize = 10;

/// The files of a `csv8` folder.
pub const FILES: [&str; 2] = ["train.csv", "test.csv"];

/// The dataset's row of pgl's dataset table.
pub const ENTRY: DatasetEntry = DatasetEntry {
    name: NAME,
    summary: "8x8 grey images, 10 classes, as label,p1..p64 lines in train.csv and test.csv",
    shape: SHAPE,
    classes: CLASSES,
    source: DatasetSource::Folder {
        files: "train.csv, test.csv",
        load,
    },
    augment: AugmentPolicy {
        standard: pgl_data::Augment::crop(1),
        by_default: false,
        flips_preserve_labels: false,
    },
};

/// The pixels (image after image) and labels of the `csv8` text `text`, read from `path`
/// (for messages).
pub fn parse(path: &Path, text: &str) -> Result<(Vec<u8>, Vec<u8>), DataError> {
    let numel = SHAPE.numel();
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |reason: String| DataError::BadRecord {
            path: path.to_path_buf(),
            line: index as u64 + 1,
            reason,
        };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != numel + 1 {
            return Err(bad(format!(
                "{} fields; expected {} (a label and {numel} pixels)",
                fields.len(),
                numel + 1
            )));
        }
        let label: u8 = fields[0]
            .parse()
            .ok()
            .filter(|&l| usize::from(l) < CLASSES)
            .ok_or_else(|| {
                bad(format!(
                    "label `{}`; expected 0..={}",
                    fields[0],
                    CLASSES - 1
                ))
            })?;
        for (i, field) in fields[1..].iter().enumerate() {
            let pixel: u8 = field.parse().map_err(|_| {
                bad(format!(
                    "pixel {} is `{field}`; expected an integer in 0..=255",
                    i + 1
                ))
            })?;
            pixels.push(pixel);
        }
        labels.push(label);
    }
    if labels.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
            expected: "label,p1..p64 lines".to_string(),
        });
    }
    Ok((pixels, labels))
}

/// Per-channel mean and standard deviation of `pixels` scaled to `0..=1`.
fn statistics(pixels: &[u8]) -> (f32, f32) {
    let n = pixels.len() as f64;
    let mean = pixels.iter().map(|&p| f64::from(p) / 255.0).sum::<f64>() / n;
    let var = pixels
        .iter()
        .map(|&p| (f64::from(p) / 255.0 - mean).powi(2))
        .sum::<f64>()
        / n;
    (mean as f32, var.sqrt().max(1e-6) as f32)
}

/// Reads `train.csv` and `test.csv` of the folder `dir` (normalised with the training
/// images' statistics).
pub fn load(dir: &Path, _: &LoadOptions) -> Result<DatasetSplits, DataError> {
    let read = |name: &str| {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| DataError::Io {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        parse(&path, &text)
    };
    let (train_pixels, train_labels) = read(FILES[0])?;
    let (test_pixels, test_labels) = read(FILES[1])?;
    let (mean, std) = statistics(&train_pixels);
    let meta = DatasetMeta {
        shape: SHAPE,
        num_classes: CLASSES,
        pixel_max: 255.0,
        mean: vec![mean],
        std: vec![std],
    };
    Ok(DatasetSplits {
        train: ImageDataset::new(NAME, meta.clone(), train_pixels, train_labels),
        test: ImageDataset::new(NAME, meta, test_pixels, test_labels),
    })
}

/// `dataset` as `csv8` text: one `label,p1,…,p64` line per image, its pixels rescaled from
/// `0..=pixel_max` to `0..=255` (so any 8×8 grey dataset can be written out).
pub fn to_csv(dataset: &ImageDataset) -> String {
    let mut text = String::new();
    for (i, label) in dataset.labels().iter().enumerate() {
        text.push_str(&label.to_string());
        for &p in dataset.image(i) {
            let scaled = (f32::from(p) / dataset.pixel_max * 255.0)
                .round()
                .min(255.0);
            text.push(',');
            text.push_str(&(scaled as u8).to_string());
        }
        text.push('\n');
    }
    text
}
