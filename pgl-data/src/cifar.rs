//! CIFAR-10 and CIFAR-100 in their standard binary format (Krizhevsky 2009).
//!
//! CIFAR-10: `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`, each a sequence of
//! 3073-byte records: one label byte (0..=9), then 1024 red, 1024 green and 1024 blue bytes
//! of a 32×32 image, row-major. CIFAR-100: `train.bin` and `test.bin`, 3074-byte records:
//! a coarse label (0..=19), a fine label (0..=99), then the image. The folder may be the
//! extracted archive's inner folder (`cifar-10-batches-bin/`, `cifar-100-binary/`) or its
//! parent.

use std::path::{Path, PathBuf};

use crate::dataset::{DatasetSplits, ImageDataset, ImageShape};
use crate::error::DataError;
use crate::idx::read_maybe_gz;

/// Bytes of one 32×32 RGB image.
pub const IMAGE_BYTES: usize = 3 * 32 * 32;
/// CIFAR-10 training files, in order.
pub const CIFAR10_TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
/// CIFAR-10 test file.
pub const CIFAR10_TEST_FILE: &str = "test_batch.bin";
/// Per-channel mean of CIFAR-10's training images (scaled to 0..=1).
pub const CIFAR10_MEAN: [f32; 3] = [0.4914, 0.4822, 0.4465];
/// Per-channel standard deviation of CIFAR-10's training images.
pub const CIFAR10_STD: [f32; 3] = [0.2470, 0.2435, 0.2616];
/// Per-channel mean of CIFAR-100's training images.
pub const CIFAR100_MEAN: [f32; 3] = [0.5071, 0.4865, 0.4409];
/// Per-channel standard deviation of CIFAR-100's training images.
pub const CIFAR100_STD: [f32; 3] = [0.2673, 0.2564, 0.2762];

/// Which CIFAR-100 label to train on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cifar100Label {
    /// The 100 fine classes.
    Fine,
    /// The 20 coarse superclasses.
    Coarse,
}

impl Cifar100Label {
    /// Parses `fine` or `coarse`.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "fine" => Some(Cifar100Label::Fine),
            "coarse" => Some(Cifar100Label::Coarse),
            _ => None,
        }
    }
}

/// Parses a file of fixed-size records `[labels.., image]`: returns the pixels and the label
/// at `label_offset` of every record, checking it against `max_label`.
fn parse_records(
    bytes: &[u8],
    path: &Path,
    label_bytes: usize,
    label_offset: usize,
    max_label: u8,
    what: &str,
) -> Result<(Vec<u8>, Vec<u8>), DataError> {
    let record = label_bytes + IMAGE_BYTES;
    if bytes.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
            expected: format!("{what} records of {record} bytes"),
        });
    }
    if !bytes.len().is_multiple_of(record) {
        return Err(DataError::WrongLength {
            path: path.to_path_buf(),
            reason: format!(
                "{what} files hold whole {record}-byte records ({label_bytes} label byte(s) + 3072 pixels); {} records and {} stray bytes",
                bytes.len() / record,
                bytes.len() % record
            ),
            expected: (bytes.len() / record * record) as u64,
            found: bytes.len() as u64,
        });
    }
    let count = bytes.len() / record;
    let mut pixels = Vec::with_capacity(count * IMAGE_BYTES);
    let mut labels = Vec::with_capacity(count);
    for (index, chunk) in bytes.chunks_exact(record).enumerate() {
        let label = chunk[label_offset];
        if label > max_label {
            return Err(DataError::LabelOutOfRange {
                path: path.to_path_buf(),
                index: index as u64,
                label: u64::from(label),
                max: u64::from(max_label),
            });
        }
        labels.push(label);
        pixels.extend_from_slice(&chunk[label_bytes..]);
    }
    Ok((pixels, labels))
}

/// Parses one CIFAR-10 batch file (3073-byte records, labels 0..=9).
pub fn parse_cifar10(bytes: &[u8], path: &Path) -> Result<(Vec<u8>, Vec<u8>), DataError> {
    parse_records(bytes, path, 1, 0, 9, "CIFAR-10")
}

/// Parses one CIFAR-100 file (3074-byte records: coarse 0..=19, fine 0..=99).
pub fn parse_cifar100(
    bytes: &[u8],
    path: &Path,
    label: Cifar100Label,
) -> Result<(Vec<u8>, Vec<u8>), DataError> {
    // Validate both labels whichever is kept, so a corrupt file never passes silently.
    let (_, coarse) = parse_records(bytes, path, 2, 0, 19, "CIFAR-100")?;
    let (pixels, fine) = parse_records(bytes, path, 2, 1, 99, "CIFAR-100")?;
    Ok((
        pixels,
        if label == Cifar100Label::Fine {
            fine
        } else {
            coarse
        },
    ))
}

/// `dir/inner` when `dir` holds the archive's inner folder, else `dir`.
fn resolve(dir: &Path, inner: &str, probe: &str) -> PathBuf {
    let nested = dir.join(inner);
    if !dir.join(probe).exists() && nested.join(probe).exists() {
        nested
    } else {
        dir.to_path_buf()
    }
}

fn required(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(DataError::MissingFile {
            path,
            alternatives: "(no other name)".to_string(),
            hint: if dir.is_dir() {
                format!("the folder {} exists but lacks this file", dir.display())
            } else {
                format!("the folder {} does not exist", dir.display())
            },
        })
    }
}

fn rgb32(
    name: &str,
    classes: usize,
    mean: [f32; 3],
    std: [f32; 3],
    parts: (Vec<u8>, Vec<u8>),
) -> ImageDataset {
    let shape = ImageShape {
        channels: 3,
        height: 32,
        width: 32,
    };
    ImageDataset::new(
        name,
        shape,
        classes,
        255.0,
        mean.to_vec(),
        std.to_vec(),
        parts.0,
        parts.1,
    )
}

/// Loads CIFAR-10 (50 000 training and 10 000 test images in the full set) from `dir`.
pub fn load_cifar10_dir(dir: &Path) -> Result<DatasetSplits, DataError> {
    let dir = resolve(dir, "cifar-10-batches-bin", CIFAR10_TEST_FILE);
    let mut train = (Vec::new(), Vec::new());
    for name in CIFAR10_TRAIN_FILES {
        let path = required(&dir, name)?;
        let (pixels, labels) = parse_cifar10(&read_maybe_gz(&path)?, &path)?;
        train.0.extend(pixels);
        train.1.extend(labels);
    }
    let test_path = required(&dir, CIFAR10_TEST_FILE)?;
    let test = parse_cifar10(&read_maybe_gz(&test_path)?, &test_path)?;
    Ok(DatasetSplits {
        train: rgb32("cifar10", 10, CIFAR10_MEAN, CIFAR10_STD, train),
        test: rgb32("cifar10", 10, CIFAR10_MEAN, CIFAR10_STD, test),
    })
}

/// Loads CIFAR-100 with the chosen labels from `dir`.
pub fn load_cifar100_dir(dir: &Path, label: Cifar100Label) -> Result<DatasetSplits, DataError> {
    let dir = resolve(dir, "cifar-100-binary", "test.bin");
    let classes = if label == Cifar100Label::Fine {
        100
    } else {
        20
    };
    let load = |name: &str| -> Result<ImageDataset, DataError> {
        let path = required(&dir, name)?;
        let parts = parse_cifar100(&read_maybe_gz(&path)?, &path, label)?;
        Ok(rgb32(
            "cifar100",
            classes,
            CIFAR100_MEAN,
            CIFAR100_STD,
            parts,
        ))
    };
    Ok(DatasetSplits {
        train: load("train.bin")?,
        test: load("test.bin")?,
    })
}

/// Encodes CIFAR-10 records (for tests and subsets): `pixels` holds whole 3072-byte images.
pub fn encode_cifar10(pixels: &[u8], labels: &[u8]) -> Vec<u8> {
    assert_eq!(
        pixels.len(),
        labels.len() * IMAGE_BYTES,
        "one image per label"
    );
    let mut out = Vec::with_capacity(labels.len() * (IMAGE_BYTES + 1));
    for (label, image) in labels.iter().zip(pixels.chunks_exact(IMAGE_BYTES)) {
        out.push(*label);
        out.extend_from_slice(image);
    }
    out
}

/// Encodes CIFAR-100 records: `(coarse, fine)` labels and whole images.
pub fn encode_cifar100(pixels: &[u8], labels: &[(u8, u8)]) -> Vec<u8> {
    assert_eq!(
        pixels.len(),
        labels.len() * IMAGE_BYTES,
        "one image per label"
    );
    let mut out = Vec::with_capacity(labels.len() * (IMAGE_BYTES + 2));
    for ((coarse, fine), image) in labels.iter().zip(pixels.chunks_exact(IMAGE_BYTES)) {
        out.push(*coarse);
        out.push(*fine);
        out.extend_from_slice(image);
    }
    out
}
