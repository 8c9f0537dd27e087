//! CIFAR-10 and CIFAR-100 in their standard binary format (Krizhevsky 2009).
//!
//! CIFAR-10: `data_batch_1.bin` … `data_batch_5.bin` and `test_batch.bin`, each a sequence of
//! 3073-byte records: one label byte (0..=9), then 1024 red, 1024 green and 1024 blue bytes
//! of a 32×32 image, row-major. CIFAR-100: `train.bin` and `test.bin`, 3074-byte records:
//! a coarse label (0..=19), a fine label (0..=99), then the image. The folder may be the
//! extracted archive's inner folder (`cifar-10-batches-bin/`, `cifar-100-binary/`) or its
//! parent.

use std::path::Path;

use crate::augment::Augment;
use crate::dataset::{DatasetMeta, DatasetSplits, ImageDataset, ImageShape};
pub use crate::entry::Cifar100Label;
use crate::entry::{AugmentPolicy, DatasetEntry, DatasetSource, LoadOptions};
use crate::error::DataError;
use crate::files::{RecordFormat, nested_folder, required_file};
use crate::idx::read_maybe_gz;

/// CIFAR-10, `--dataset cifar10`. `--augment auto` applies the standard recipe (pad 4,
/// random crop, flip).
pub const CIFAR10: DatasetEntry = DatasetEntry {
    name: "cifar10",
    summary: "CIFAR-10, 32x32 colour images, 10 classes, binary format",
    shape: SHAPE,
    classes: 10,
    source: DatasetSource::Folder {
        files: "data_batch_1.bin .. data_batch_5.bin, test_batch.bin",
        load: load_cifar10,
    },
    augment: CIFAR_AUGMENT,
};

/// CIFAR-100, `--dataset cifar100`: 100 fine classes, or 20 coarse ones with
/// [`Cifar100Label::Coarse`] (`--label coarse`). Augmented like CIFAR-10.
pub const CIFAR100: DatasetEntry = DatasetEntry {
    name: "cifar100",
    summary: "CIFAR-100, 32x32 colour images, 100 classes (20 with --label coarse), binary format",
    shape: SHAPE,
    classes: 100,
    source: DatasetSource::Folder {
        files: "train.bin, test.bin",
        load: load_cifar100,
    },
    augment: CIFAR_AUGMENT,
};

const SHAPE: ImageShape = ImageShape::new(3, 32, 32);

const CIFAR_AUGMENT: AugmentPolicy = AugmentPolicy {
    standard: Augment::CIFAR,
    by_default: true,
    flips_preserve_labels: true,
};

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
    let layout = format!("{label_bytes} label byte(s) + {IMAGE_BYTES} pixels");
    let count = RecordFormat {
        format: what,
        unit: "record",
        layout: &layout,
        bytes: record,
    }
    .count(bytes, path)?;
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

fn rgb32(
    name: &str,
    classes: usize,
    mean: [f32; 3],
    std: [f32; 3],
    parts: (Vec<u8>, Vec<u8>),
) -> ImageDataset {
    let meta = DatasetMeta {
        shape: SHAPE,
        num_classes: classes,
        pixel_max: 255.0,
        mean: mean.to_vec(),
        std: std.to_vec(),
    };
    ImageDataset::new(name, meta, parts.0, parts.1)
}

/// Loads CIFAR-10 (50 000 training and 10 000 test images in the full set) from `dir`.
pub fn load_cifar10_dir(dir: &Path) -> Result<DatasetSplits, DataError> {
    let dir = nested_folder(dir, "cifar-10-batches-bin", CIFAR10_TEST_FILE);
    let mut train = (Vec::new(), Vec::new());
    for name in CIFAR10_TRAIN_FILES {
        let path = required_file(&dir, name)?;
        let (pixels, labels) = parse_cifar10(&read_maybe_gz(&path)?, &path)?;
        train.0.extend(pixels);
        train.1.extend(labels);
    }
    let test_path = required_file(&dir, CIFAR10_TEST_FILE)?;
    let test = parse_cifar10(&read_maybe_gz(&test_path)?, &test_path)?;
    Ok(DatasetSplits {
        train: rgb32(CIFAR10.name, 10, CIFAR10_MEAN, CIFAR10_STD, train),
        test: rgb32(CIFAR10.name, 10, CIFAR10_MEAN, CIFAR10_STD, test),
    })
}

/// Loads CIFAR-100 with the chosen labels from `dir`.
pub fn load_cifar100_dir(dir: &Path, label: Cifar100Label) -> Result<DatasetSplits, DataError> {
    let dir = nested_folder(dir, "cifar-100-binary", "test.bin");
    let classes = if label == Cifar100Label::Fine {
        100
    } else {
        20
    };
    let load = |name: &str| -> Result<ImageDataset, DataError> {
        let path = required_file(&dir, name)?;
        let parts = parse_cifar100(&read_maybe_gz(&path)?, &path, label)?;
        Ok(rgb32(
            CIFAR100.name,
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

fn load_cifar10(dir: &Path, _: &LoadOptions) -> Result<DatasetSplits, DataError> {
    load_cifar10_dir(dir)
}

fn load_cifar100(dir: &Path, options: &LoadOptions) -> Result<DatasetSplits, DataError> {
    load_cifar100_dir(dir, options.label)
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
