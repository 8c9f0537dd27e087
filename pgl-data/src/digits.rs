//! The scikit-learn 8×8 digits set, embedded in the binary: pgl's default dataset.
//!
//! 1797 images of 8×8 pixels in `0..=16`, 10 classes (BSD-3-Clause, see
//! `data/digits/LICENSE` and `digits.rst` beside the data). The file is CSV: 64 pixel values
//! then the label, one image per line, no header. The split into 1437 training and 360 test
//! images is fixed (a seeded shuffle that does not depend on the run's seed).

use std::path::Path;

use crate::augment::Augment;
use crate::dataset::{DatasetMeta, DatasetSplits, ImageDataset, ImageShape};
use crate::entry::{AugmentPolicy, DatasetEntry, DatasetSource, LoadOptions};
use crate::error::DataError;
use crate::idx::decompress_if_gz;
use crate::rng::SplitMix64;

/// The embedded digits, `--dataset digits` (the default). `--augment on` crops with one pixel
/// of padding (an eighth of the side) and never flips: a mirrored digit is not the same digit.
pub const DIGITS: DatasetEntry = DatasetEntry {
    name: "digits",
    summary: "scikit-learn's 8x8 grey digits, embedded (1437 train / 360 test)",
    shape: ImageShape::new(1, SIDE, SIDE),
    classes: 10,
    source: DatasetSource::Embedded(load),
    augment: AugmentPolicy {
        standard: Augment::crop(1),
        by_default: false,
        flips_preserve_labels: false,
    },
};

/// The embedded `digits.csv.gz`.
pub const DIGITS_CSV_GZ: &[u8] = include_bytes!("../data/digits/digits.csv.gz");
/// The licence notice of the embedded digits data.
pub const DIGITS_LICENSE: &str = include_str!("../data/digits/LICENSE");
/// Seed of the fixed train/test split.
pub const SPLIT_SEED: u64 = 0x5EED_D161;
/// Number of test images in the fixed split (20 %).
pub const TEST_SIZE: usize = 360;

const SIDE: usize = 8;
const PIXEL_MAX: u8 = 16;

/// Parses a digits CSV (gzip or plain); `path` is for messages.
pub fn parse_digits_csv(bytes: &[u8], path: &Path) -> Result<(Vec<u8>, Vec<u8>), DataError> {
    let text = decompress_if_gz(bytes.to_vec(), path)?;
    let text = String::from_utf8(text).map_err(|e| DataError::BadRecord {
        path: path.to_path_buf(),
        line: 0,
        reason: format!("not UTF-8 text: {e}"),
    })?;
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason: String| DataError::BadRecord {
            path: path.to_path_buf(),
            line: i as u64 + 1,
            reason,
        };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() != SIDE * SIDE + 1 {
            return Err(bad(format!(
                "expected {} comma-separated values (64 pixels and a label), found {}",
                SIDE * SIDE + 1,
                fields.len()
            )));
        }
        for (j, field) in fields.iter().enumerate() {
            let value: f64 = field
                .parse()
                .map_err(|_| bad(format!("value {} (`{field}`) is not a number", j + 1)))?;
            let (max, what) = if j < SIDE * SIDE {
                (f64::from(PIXEL_MAX), "pixel")
            } else {
                (9.0, "label")
            };
            if value.fract() != 0.0 || !(0.0..=max).contains(&value) {
                return Err(bad(format!(
                    "{what} `{field}` at position {} is not an integer in 0..={max}",
                    j + 1
                )));
            }
            if j < SIDE * SIDE {
                pixels.push(value as u8);
            } else {
                labels.push(value as u8);
            }
        }
    }
    if labels.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
            expected: "CSV lines of 64 pixels and a label".to_string(),
        });
    }
    Ok((pixels, labels))
}

/// The embedded digits, split into 1437 training and 360 test images.
pub fn load_embedded() -> Result<DatasetSplits, DataError> {
    let (pixels, labels) = parse_digits_csv(DIGITS_CSV_GZ, Path::new("<embedded digits.csv.gz>"))?;
    Ok(split(pixels, labels))
}

fn load(_: &LoadOptions) -> Result<DatasetSplits, DataError> {
    load_embedded()
}

fn split(pixels: Vec<u8>, labels: Vec<u8>) -> DatasetSplits {
    let n = labels.len();
    let test_size = TEST_SIZE.min(n / 2);
    let mut order: Vec<usize> = (0..n).collect();
    SplitMix64::new(SPLIT_SEED).shuffle(&mut order);
    let shape = DIGITS.shape;
    let (train_idx, test_idx) = order.split_at(n - test_size);
    let meta = DatasetMeta {
        shape,
        num_classes: 10,
        pixel_max: f32::from(PIXEL_MAX),
        mean: vec![0.0],
        std: vec![1.0],
    };
    let all = ImageDataset::new("digits", meta, pixels, labels);
    // Normalise with the training split's own statistics.
    let train_pixels: Vec<f32> = train_idx
        .iter()
        .flat_map(|&i| {
            all.image(i)
                .iter()
                .map(|&p| f32::from(p) / f32::from(PIXEL_MAX))
        })
        .collect();
    let mean = train_pixels.iter().sum::<f32>() / train_pixels.len() as f32;
    let var =
        train_pixels.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / train_pixels.len() as f32;
    let with_stats = |mut d: ImageDataset| {
        d.mean = vec![mean];
        d.std = vec![var.sqrt().max(1e-6)];
        d
    };
    DatasetSplits {
        train: with_stats(all.select(train_idx)),
        test: with_stats(all.select(test_idx)),
    }
}
