//! STL-10 in its binary format (Coates, Lee & Ng 2011): `train_X.bin`, `train_y.bin`,
//! `test_X.bin`, `test_y.bin`. Images are 3×96×96 bytes stored channel by channel in
//! **column-major** order (as MATLAB writes them); labels are bytes 1..=10. pgl converts the
//! images to row-major and the labels to 0..=9. The folder may be `stl10_binary/` or its
//! parent. The unlabeled split is not used.

use std::path::Path;

use crate::augment::Augment;
use crate::dataset::{DatasetMeta, DatasetSplits, ImageDataset, ImageShape};
use crate::entry::{AugmentPolicy, DatasetEntry, DatasetSource, LoadOptions};
use crate::error::DataError;
use crate::files::{RecordFormat, nested_folder, required_file, transpose_square_planes};
use crate::idx::read_maybe_gz;

/// STL-10's labelled splits, `--dataset stl10`. `--augment auto` applies pad 12 (an eighth of
/// the side, as pad 4 on CIFAR's 32), random crop and flip.
pub const STL10: DatasetEntry = DatasetEntry {
    name: "stl10",
    summary: "STL-10, 96x96 colour images, 10 classes (labelled splits), binary format",
    shape: ImageShape::new(3, SIDE, SIDE),
    classes: 10,
    source: DatasetSource::Folder {
        files: "train_X.bin, train_y.bin, test_X.bin, test_y.bin",
        load: load_stl10,
    },
    augment: AugmentPolicy {
        standard: Augment::crop(12).with_flip(),
        by_default: true,
        flips_preserve_labels: true,
    },
};

/// Side of an STL-10 image.
pub const SIDE: usize = 96;
/// Bytes of one image.
pub const IMAGE_BYTES: usize = 3 * SIDE * SIDE;
/// Per-channel mean of STL-10's training images (scaled to 0..=1).
pub const STL10_MEAN: [f32; 3] = [0.4467, 0.4398, 0.4066];
/// Per-channel standard deviation of STL-10's training images.
pub const STL10_STD: [f32; 3] = [0.2603, 0.2566, 0.2713];

/// Parses an STL-10 images file into row-major images.
pub fn parse_images(bytes: &[u8], path: &Path) -> Result<Vec<u8>, DataError> {
    RecordFormat {
        format: "STL-10",
        unit: "image",
        layout: "3x96x96 pixels, column-major",
        bytes: IMAGE_BYTES,
    }
    .count(bytes, path)?;
    let mut out = bytes.to_vec();
    transpose_square_planes(&mut out, SIDE);
    Ok(out)
}

/// Parses an STL-10 labels file (bytes 1..=10) into 0..=9.
pub fn parse_labels(bytes: &[u8], path: &Path) -> Result<Vec<u8>, DataError> {
    if bytes.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
            expected: "STL-10 labels (bytes 1..=10)".to_string(),
        });
    }
    bytes
        .iter()
        .enumerate()
        .map(|(index, &label)| {
            if (1..=10).contains(&label) {
                Ok(label - 1)
            } else {
                Err(DataError::BadRecord {
                    path: path.to_path_buf(),
                    line: index as u64 + 1,
                    reason: format!(
                        "label {label} at index {index} is out of range; STL-10 labels are 1..=10"
                    ),
                })
            }
        })
        .collect()
}

fn split(dir: &Path, prefix: &str) -> Result<ImageDataset, DataError> {
    let images_path = required_file(dir, &format!("{prefix}_X.bin"))?;
    let labels_path = required_file(dir, &format!("{prefix}_y.bin"))?;
    let pixels = parse_images(&read_maybe_gz(&images_path)?, &images_path)?;
    let labels = parse_labels(&read_maybe_gz(&labels_path)?, &labels_path)?;
    let image_count = pixels.len() / IMAGE_BYTES;
    if image_count != labels.len() {
        return Err(DataError::CountMismatch {
            images: images_path,
            image_count: image_count as u64,
            labels: labels_path,
            label_count: labels.len() as u64,
        });
    }
    let meta = DatasetMeta {
        shape: STL10.shape,
        num_classes: 10,
        pixel_max: 255.0,
        mean: STL10_MEAN.to_vec(),
        std: STL10_STD.to_vec(),
    };
    Ok(ImageDataset::new(STL10.name, meta, pixels, labels))
}

/// Loads STL-10's labelled train (5000) and test (8000) splits from `dir`.
pub fn load_stl10_dir(dir: &Path) -> Result<DatasetSplits, DataError> {
    let dir = nested_folder(dir, "stl10_binary", "test_X.bin");
    Ok(DatasetSplits {
        train: split(&dir, "train")?,
        test: split(&dir, "test")?,
    })
}

fn load_stl10(dir: &Path, _: &LoadOptions) -> Result<DatasetSplits, DataError> {
    load_stl10_dir(dir)
}

/// Encodes row-major images in STL-10's column-major layout (for tests and subsets).
pub fn encode_images(row_major: &[u8]) -> Vec<u8> {
    assert!(
        row_major.len().is_multiple_of(IMAGE_BYTES),
        "whole images only"
    );
    let mut out = row_major.to_vec();
    transpose_square_planes(&mut out, SIDE);
    out
}
