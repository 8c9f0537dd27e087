//! The IDX format of MNIST and Fashion-MNIST (LeCun et al.), raw or gzip-compressed.
//!
//! Layout: a big-endian `u32` magic (`0x0000_0803` for `u8` images of rank 3,
//! `0x0000_0801` for `u8` labels of rank 1), one big-endian `u32` per dimension, then the
//! data. A file must be exactly as long as its header says: a short file would silently drop
//! samples, a long one hides a mistake.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::augment::Augment;
use crate::dataset::{DatasetMeta, DatasetSplits, ImageDataset, ImageShape};
use crate::entry::{AugmentPolicy, DatasetEntry, DatasetSource, LoadOptions};
use crate::error::DataError;
use crate::files::missing_file_hint;

/// Files of an MNIST-style folder, for messages and help.
const MNIST_FILES_TEXT: &str = "train-images-idx3-ubyte, train-labels-idx1-ubyte, \
t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each optionally .gz)";

/// MNIST, `--dataset mnist`. `--augment on` crops with two pixels of padding and never flips.
pub const MNIST: DatasetEntry = DatasetEntry {
    name: "mnist",
    summary: "MNIST, 28x28 grey digits, IDX files",
    shape: ImageShape::new(1, 28, 28),
    classes: 10,
    source: DatasetSource::Folder {
        files: MNIST_FILES_TEXT,
        load: load_mnist,
    },
    augment: AugmentPolicy {
        standard: Augment::crop(2),
        by_default: false,
        flips_preserve_labels: false,
    },
};

/// Fashion-MNIST, `--dataset fashion-mnist` (MNIST's file names). Mirrored clothes keep their
/// class, so `--augment on` crops with two pixels of padding and flips.
pub const FASHION_MNIST: DatasetEntry = DatasetEntry {
    name: "fashion-mnist",
    summary: "Fashion-MNIST, 28x28 grey clothing images, IDX files with MNIST's names",
    shape: ImageShape::new(1, 28, 28),
    classes: 10,
    source: DatasetSource::Folder {
        files: MNIST_FILES_TEXT,
        load: load_fashion_mnist,
    },
    augment: AugmentPolicy {
        standard: Augment::crop(2).with_flip(),
        by_default: false,
        flips_preserve_labels: true,
    },
};

/// Magic number of an IDX file of unsigned bytes with 3 dimensions (images).
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension (labels).
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// Largest file (after decompression) a loader accepts: 1 GiB, far above MNIST's 47 MB.
pub const MAX_FILE_BYTES: u64 = 1 << 30;
/// The four files of an MNIST-style directory, without the optional `.gz`.
pub const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

/// Reads a whole file, decompressing it when it starts with the gzip magic bytes.
/// Refuses files (or decompressed streams) over [`MAX_FILE_BYTES`].
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>, DataError> {
    let io = |e: std::io::Error| DataError::Io {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut raw = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut raw)
        .map_err(io)?;
    if raw.len() as u64 > MAX_FILE_BYTES {
        return Err(DataError::Io {
            path: path.to_path_buf(),
            reason: format!("file is larger than the {MAX_FILE_BYTES}-byte limit"),
        });
    }
    decompress_if_gz(raw, path)
}

/// Decompresses `bytes` when they start with the gzip magic, else returns them unchanged.
/// Refuses streams that decompress to more than [`MAX_FILE_BYTES`].
pub fn decompress_if_gz(bytes: Vec<u8>, path: &Path) -> Result<Vec<u8>, DataError> {
    decompress_if_gz_limited(bytes, path, MAX_FILE_BYTES)
}

/// [`decompress_if_gz`] with a custom limit on the decompressed size. Memory grows in
/// bounded chunks, so a lying or malicious stream costs at most `limit` bytes.
pub fn decompress_if_gz_limited(
    bytes: Vec<u8>,
    path: &Path,
    limit: u64,
) -> Result<Vec<u8>, DataError> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Ok(bytes);
    }
    let gzip_error = |reason: String| DataError::Gzip {
        path: path.to_path_buf(),
        reason,
    };
    let mut decoder = flate2::read::GzDecoder::new(bytes.as_slice());
    let mut out: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let n = decoder
            .read(&mut chunk)
            .map_err(|e| gzip_error(e.to_string()))?;
        if n == 0 {
            return Ok(out);
        }
        if (out.len() + n) as u64 > limit {
            return Err(gzip_error(format!(
                "decompresses to more than {limit} bytes"
            )));
        }
        if out.capacity() - out.len() < n {
            // Grow by doubling, but never past the limit.
            let wanted = (out.capacity() * 2).max(out.len() + n).min(limit as usize);
            out.reserve_exact(wanted - out.len());
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

fn header(
    bytes: &[u8],
    path: &Path,
    magic: u32,
    what: &str,
    dims: usize,
) -> Result<Vec<u32>, DataError> {
    if bytes.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
            expected: format!("an IDX {what} file"),
        });
    }
    let word = |i: usize| {
        u32::from_be_bytes([
            bytes[4 * i],
            bytes[4 * i + 1],
            bytes[4 * i + 2],
            bytes[4 * i + 3],
        ])
    };
    let header_len = 4 + 4 * dims;
    if bytes.len() >= 4 && word(0) != magic {
        return Err(DataError::BadMagic {
            path: path.to_path_buf(),
            expected: magic,
            found: word(0),
            what: format!("IDX {what}"),
        });
    }
    if bytes.len() < header_len {
        return Err(DataError::WrongLength {
            path: path.to_path_buf(),
            reason: format!("truncated IDX header of an {what} file"),
            expected: header_len as u64,
            found: bytes.len() as u64,
        });
    }
    Ok((1..=dims).map(word).collect())
}

fn check_length(
    bytes: &[u8],
    path: &Path,
    header_len: u64,
    dims: &[u32],
    what: &str,
) -> Result<(), DataError> {
    let expected = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(u64::from(d)))
        .and_then(|n| n.checked_add(header_len))
        .unwrap_or(u64::MAX);
    if bytes.len() as u64 != expected {
        let dims_text: Vec<String> = dims.iter().map(u32::to_string).collect();
        return Err(DataError::WrongLength {
            path: path.to_path_buf(),
            reason: format!(
                "header declares {what} of shape {} (plus a {header_len}-byte header), {}",
                dims_text.join("x"),
                if (bytes.len() as u64) < expected {
                    "file is truncated"
                } else {
                    "file has extra bytes"
                }
            ),
            expected,
            found: bytes.len() as u64,
        });
    }
    Ok(())
}

/// Images parsed from an IDX file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxImages {
    /// Number of images.
    pub count: u32,
    /// Rows per image.
    pub rows: u32,
    /// Columns per image.
    pub cols: u32,
    /// `count * rows * cols` pixels, row-major, image after image.
    pub pixels: Vec<u8>,
}

/// Parses an IDX images file (`bytes` already decompressed); `path` is for messages.
pub fn parse_images(bytes: &[u8], path: &Path) -> Result<IdxImages, DataError> {
    let dims = header(bytes, path, IMAGES_MAGIC, "images", 3)?;
    check_length(bytes, path, 16, &dims, "images")?;
    if dims[0] == 0 {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
            expected: "at least one image".to_string(),
        });
    }
    Ok(IdxImages {
        count: dims[0],
        rows: dims[1],
        cols: dims[2],
        pixels: bytes[16..].to_vec(),
    })
}

/// Parses an IDX labels file; every label must be `<= max_label`.
pub fn parse_labels(bytes: &[u8], path: &Path, max_label: u8) -> Result<Vec<u8>, DataError> {
    let dims = header(bytes, path, LABELS_MAGIC, "labels", 1)?;
    check_length(bytes, path, 8, &dims, "labels")?;
    let labels = bytes[8..].to_vec();
    if labels.is_empty() {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
            expected: "at least one label".to_string(),
        });
    }
    if let Some((index, &label)) = labels.iter().enumerate().find(|(_, l)| **l > max_label) {
        return Err(DataError::LabelOutOfRange {
            path: path.to_path_buf(),
            index: index as u64,
            label: u64::from(label),
            max: u64::from(max_label),
        });
    }
    Ok(labels)
}

/// `dir/name` if it exists, else `dir/name.gz`, else a [`DataError::MissingFile`].
pub fn find_file(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    let raw = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    if raw.is_file() {
        Ok(raw)
    } else if gz.is_file() {
        Ok(gz)
    } else {
        Err(DataError::MissingFile {
            path: raw,
            alternatives: gz.display().to_string(),
            hint: missing_file_hint(dir),
        })
    }
}

/// Loads one split (`train` or `t10k`) of an MNIST-style directory: 28×28 images, labels 0..=9.
pub fn load_mnist_split(
    dir: &Path,
    prefix: &str,
    name: &str,
    mean: f32,
    std: f32,
) -> Result<ImageDataset, DataError> {
    let images_path = find_file(dir, &format!("{prefix}-images-idx3-ubyte"))?;
    let labels_path = find_file(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
    let images = parse_images(&read_maybe_gz(&images_path)?, &images_path)?;
    if (images.rows, images.cols) != (28, 28) {
        return Err(DataError::WrongImageSize {
            path: images_path,
            expected_rows: 28,
            expected_cols: 28,
            found_rows: images.rows,
            found_cols: images.cols,
        });
    }
    let labels = parse_labels(&read_maybe_gz(&labels_path)?, &labels_path, 9)?;
    if labels.len() as u64 != u64::from(images.count) {
        return Err(DataError::CountMismatch {
            images: images_path,
            image_count: u64::from(images.count),
            labels: labels_path,
            label_count: labels.len() as u64,
        });
    }
    let shape = ImageShape {
        channels: 1,
        height: 28,
        width: 28,
    };
    let meta = DatasetMeta {
        shape,
        num_classes: 10,
        pixel_max: 255.0,
        mean: vec![mean],
        std: vec![std],
    };
    Ok(ImageDataset::new(name, meta, images.pixels, labels))
}

/// Loads the training (`train-*`) and test (`t10k-*`) splits of an MNIST-style directory.
pub fn load_mnist_dir(
    dir: &Path,
    name: &str,
    mean: f32,
    std: f32,
) -> Result<DatasetSplits, DataError> {
    Ok(DatasetSplits {
        train: load_mnist_split(dir, "train", name, mean, std)?,
        test: load_mnist_split(dir, "t10k", name, mean, std)?,
    })
}

fn load_mnist(dir: &Path, _: &LoadOptions) -> Result<DatasetSplits, DataError> {
    load_mnist_dir(dir, MNIST.name, 0.1307, 0.3081)
}

fn load_fashion_mnist(dir: &Path, _: &LoadOptions) -> Result<DatasetSplits, DataError> {
    load_mnist_dir(dir, FASHION_MNIST.name, 0.2860, 0.3530)
}

/// Encodes images as an IDX images file (the inverse of [`parse_images`]): used by tests and
/// to write subsets of a dataset.
///
/// # Panics
/// When `pixels.len()` is not a multiple of `rows * cols`.
pub fn encode_images(rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let per_image = (rows * cols) as usize;
    assert!(
        per_image > 0 && pixels.len().is_multiple_of(per_image),
        "whole images only"
    );
    let count = (pixels.len() / per_image) as u32;
    let mut out = Vec::with_capacity(16 + pixels.len());
    for word in [IMAGES_MAGIC, count, rows, cols] {
        out.extend_from_slice(&word.to_be_bytes());
    }
    out.extend_from_slice(pixels);
    out
}

/// Encodes labels as an IDX labels file (the inverse of [`parse_labels`]).
pub fn encode_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + labels.len());
    out.extend_from_slice(&LABELS_MAGIC.to_be_bytes());
    out.extend_from_slice(&(labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

/// Writes an MNIST-style directory (`train-*` and `t10k-*`, uncompressed) holding `train` and
/// `test` images of `rows`×`cols` pixels. Returns the directory.
pub fn write_mnist_dir(
    dir: &Path,
    rows: u32,
    cols: u32,
    train: (&[u8], &[u8]),
    test: (&[u8], &[u8]),
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    for (prefix, (pixels, labels)) in [("train", train), ("t10k", test)] {
        std::fs::write(
            dir.join(format!("{prefix}-images-idx3-ubyte")),
            encode_images(rows, cols, pixels),
        )?;
        std::fs::write(
            dir.join(format!("{prefix}-labels-idx1-ubyte")),
            encode_labels(labels),
        )?;
    }
    Ok(dir.to_path_buf())
}
