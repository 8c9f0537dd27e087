//! SVHN's cropped digits (Netzer et al. 2011) in their MATLAB files: `train_32x32.mat`,
//! `test_32x32.mat` and `extra_32x32.mat`, each with `X` (32×32×3×N bytes, column-major) and
//! `y` (N labels 1..=10, the digit 0 written as 10). pgl converts images to row-major,
//! channels first, and label 10 to 0. `--dataset svhn` trains on the 73 257 training images,
//! `svhn-extra` on them and the 531 131 extra ones; both test on the 26 032 test images.
//! Files are read with [`mat5`](crate::mat5) (compressed variables included, allocation
//! bounded; files up to 4 GiB). Loading `svhn-extra` holds the 1.3 GB file and its 1.6 GB of
//! pixels at once, then both splits' pixels while joining them: about 4 GB at the peak. `--augment auto` applies a random crop with 2 pixels of padding (InfoPro's and
//! AugLocal's SVHN recipe), never a flip (digits).

use std::path::Path;

use crate::augment::Augment;
use crate::dataset::{DatasetMeta, DatasetSplits, ImageDataset, ImageShape};
use crate::entry::{AugmentPolicy, DatasetEntry, DatasetSource, LoadOptions};
use crate::error::DataError;
use crate::files::{required_file, transpose_square_planes};
use crate::mat5::{MatArray, MatData, read_arrays, read_file};

/// SVHN's training and test splits, `--dataset svhn`.
pub const SVHN: DatasetEntry = DatasetEntry {
    name: "svhn",
    summary: "SVHN cropped digits, 32x32 colour images, 10 classes, MATLAB .mat files",
    shape: ImageShape::new(3, SIDE, SIDE),
    classes: 10,
    source: DatasetSource::Folder {
        files: "train_32x32.mat, test_32x32.mat",
        load: load_svhn,
    },
    augment: SVHN_AUGMENT,
};

/// SVHN with the extra images added to training, `--dataset svhn-extra`.
pub const SVHN_EXTRA: DatasetEntry = DatasetEntry {
    name: "svhn-extra",
    summary: "SVHN cropped digits, training on train + extra (604 388 images)",
    source: DatasetSource::Folder {
        files: "train_32x32.mat, extra_32x32.mat, test_32x32.mat",
        load: load_svhn_extra,
    },
    ..SVHN
};

const SVHN_AUGMENT: AugmentPolicy = AugmentPolicy {
    standard: Augment::crop(2),
    by_default: true,
    flips_preserve_labels: false,
};

/// Side of an SVHN image.
pub const SIDE: usize = 32;
/// Bytes of one image.
pub const IMAGE_BYTES: usize = 3 * SIDE * SIDE;
/// Per-channel mean of SVHN's training images (scaled to 0..=1).
pub const SVHN_MEAN: [f32; 3] = [0.4377, 0.4438, 0.4728];
/// Per-channel standard deviation of SVHN's training images.
pub const SVHN_STD: [f32; 3] = [0.1980, 0.2010, 0.1970];

/// The images (row-major, channels first) and labels (0..=9) of one SVHN `.mat` file's bytes.
pub fn parse_split(bytes: &[u8], path: &Path) -> Result<(Vec<u8>, Vec<u8>), DataError> {
    let mut arrays = read_arrays(bytes, path, &["X", "y"])?;
    let mut take = |name: &str| {
        let at = arrays.iter().position(|a| a.name == name);
        arrays.swap_remove(at.expect("read_arrays checks every wanted name"))
    };
    let (x, y) = (take("X"), take("y"));
    let pixels = images(x, path)?;
    let labels = labels(&y, path)?;
    let count = pixels.len() / IMAGE_BYTES;
    if count != labels.len() {
        return Err(DataError::CountMismatch {
            images: path.to_path_buf(),
            image_count: count as u64,
            labels: path.to_path_buf(),
            label_count: labels.len() as u64,
        });
    }
    Ok((pixels, labels))
}

fn bad(path: &Path, reason: String) -> DataError {
    DataError::BadMat {
        path: path.to_path_buf(),
        reason,
    }
}

/// `X` (32×32×3×N bytes, column-major) as N row-major `3×32×32` images, transposed in place.
fn images(x: MatArray, path: &Path) -> Result<Vec<u8>, DataError> {
    let MatData::U8(mut bytes) = x.data else {
        return Err(bad(path, "variable `X` is not stored as uint8".to_string()));
    };
    if x.dims.len() != 4 || x.dims[..3] != [SIDE, SIDE, 3] {
        return Err(bad(
            path,
            format!("variable `X` is {:?}; expected [32, 32, 3, N]", x.dims),
        ));
    }
    // Planes already run channel by channel, image by image.
    transpose_square_planes(&mut bytes, SIDE);
    Ok(bytes)
}

/// `y` (labels 1..=10) as 0..=9, 10 → 0.
fn labels(y: &MatArray, path: &Path) -> Result<Vec<u8>, DataError> {
    if y.data.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
            expected: "SVHN labels `y` (1..=10)".to_string(),
        });
    }
    (0..y.data.len())
        .map(|index| {
            let value = y.data.get(index);
            if value.fract() == 0.0 && (1.0..=10.0).contains(&value) {
                Ok((value as u8) % 10)
            } else {
                Err(bad(
                    path,
                    format!("label {value} at index {index} of `y`; SVHN labels are 1..=10"),
                ))
            }
        })
        .collect()
}

/// Encodes row-major `3×32×32` images and 0..=9 labels as an SVHN `.mat` file (compressed
/// when `compress`): for tests and subsets.
pub fn encode_split(row_major: &[u8], labels: &[u8], compress: bool) -> Vec<u8> {
    assert!(
        row_major.len() == labels.len() * IMAGE_BYTES,
        "whole images, one label each"
    );
    let mut x = row_major.to_vec();
    transpose_square_planes(&mut x, SIDE);
    let y = labels
        .iter()
        .map(|&l| if l == 0 { 10.0 } else { f64::from(l) })
        .collect();
    let arrays = [
        MatArray {
            name: "X".to_string(),
            dims: vec![SIDE, SIDE, 3, labels.len()],
            data: MatData::U8(x),
        },
        MatArray {
            name: "y".to_string(),
            dims: vec![labels.len(), 1],
            data: MatData::F64(y),
        },
    ];
    crate::mat5::write_arrays(&arrays, compress)
}

fn read_split(dir: &Path, name: &str) -> Result<(Vec<u8>, Vec<u8>), DataError> {
    let path = required_file(dir, name)?;
    parse_split(&read_file(&path)?, &path)
}

fn dataset(name: &'static str, pixels: Vec<u8>, labels: Vec<u8>) -> ImageDataset {
    let meta = DatasetMeta {
        shape: SVHN.shape,
        num_classes: 10,
        pixel_max: 255.0,
        mean: SVHN_MEAN.to_vec(),
        std: SVHN_STD.to_vec(),
    };
    ImageDataset::new(name, meta, pixels, labels)
}

/// Loads SVHN's training (and, with `extra`, extra) and test splits from `dir`.
pub fn load_svhn_dir(dir: &Path, extra: bool) -> Result<DatasetSplits, DataError> {
    let (mut pixels, mut labels) = read_split(dir, "train_32x32.mat")?;
    if extra {
        let (more_pixels, more_labels) = read_split(dir, "extra_32x32.mat")?;
        pixels.extend(more_pixels);
        labels.extend(more_labels);
    }
    let (test_pixels, test_labels) = read_split(dir, "test_32x32.mat")?;
    let name = if extra { SVHN_EXTRA.name } else { SVHN.name };
    Ok(DatasetSplits {
        train: dataset(name, pixels, labels),
        test: dataset(name, test_pixels, test_labels),
    })
}

fn load_svhn(dir: &Path, _: &LoadOptions) -> Result<DatasetSplits, DataError> {
    load_svhn_dir(dir, false)
}

fn load_svhn_extra(dir: &Path, _: &LoadOptions) -> Result<DatasetSplits, DataError> {
    load_svhn_dir(dir, true)
}
