//! Finding and checking dataset files, shared by the parsers: the data root, the archive's
//! inner folder, required files, files made of fixed-size records, and the transposition of
//! MATLAB's column-major image planes (STL-10, SVHN). A leaf module: it imports only the error
//! type.

use std::path::{Path, PathBuf};

use crate::error::DataError;

/// Environment variable naming the folder that holds the real datasets
/// (`mnist/`, `fashion-mnist/`, `digits/`, …: one folder per dataset name).
pub const DATA_DIR_ENV: &str = "PGL_DATA_DIR";

/// The dataset root: `$PGL_DATA_DIR` when set, else `fallback`.
pub fn data_root_or(fallback: impl Into<PathBuf>) -> PathBuf {
    std::env::var_os(DATA_DIR_ENV)
        .map(PathBuf::from)
        .unwrap_or_else(|| fallback.into())
}

/// `dir/inner` when `dir` lacks `probe` but `dir/inner` holds it (the user pointed at the
/// extracted archive's parent folder), else `dir`.
pub fn nested_folder(dir: &Path, inner: &str, probe: &str) -> PathBuf {
    let nested = dir.join(inner);
    if !dir.join(probe).exists() && nested.join(probe).exists() {
        nested
    } else {
        dir.to_path_buf()
    }
}

/// What to do about a file missing from `dir`: whether the folder exists at all.
pub fn missing_file_hint(dir: &Path) -> String {
    if dir.is_dir() {
        format!("the folder {} exists but lacks this file", dir.display())
    } else {
        format!("the folder {} does not exist", dir.display())
    }
}

/// `dir/name` when it is a file, else a [`DataError::MissingFile`] saying why.
pub fn required_file(dir: &Path, name: &str) -> Result<PathBuf, DataError> {
    let path = dir.join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(DataError::MissingFile {
            path,
            alternatives: "(no other name)".to_string(),
            hint: missing_file_hint(dir),
        })
    }
}

/// A file format made of fixed-size records and nothing else (CIFAR batches, STL-10 images),
/// described for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordFormat<'a> {
    /// The format's name, e.g. `CIFAR-10`.
    pub format: &'a str,
    /// What one record is, singular, e.g. `record` or `image`.
    pub unit: &'a str,
    /// What a record is made of, e.g. `1 label byte + 3072 pixels`.
    pub layout: &'a str,
    /// Bytes of one record.
    pub bytes: usize,
}

impl RecordFormat<'_> {
    /// The number of records in `data` (read from `path`): an error naming the file when it is
    /// empty or does not hold a whole number of records.
    ///
    /// # Panics
    /// When `self.bytes` is 0 (a programming error).
    pub fn count(&self, data: &[u8], path: &Path) -> Result<usize, DataError> {
        let Self {
            format,
            unit,
            layout,
            bytes: record,
        } = *self;
        assert!(record > 0, "records have at least one byte");
        if data.is_empty() {
            return Err(DataError::Empty {
                path: path.to_path_buf(),
                expected: format!("{format} {unit}s of {record} bytes"),
            });
        }
        let (whole, stray) = (data.len() / record, data.len() % record);
        if stray != 0 {
            return Err(DataError::WrongLength {
                path: path.to_path_buf(),
                reason: format!(
                    "{format} files hold whole {record}-byte {unit}s ({layout}); {whole} {unit}s and {stray} stray bytes"
                ),
                expected: (whole * record) as u64,
                found: data.len() as u64,
            });
        }
        Ok(whole)
    }
}

/// Transposes every `side × side` plane of `pixels` in place: column-major planes (as MATLAB
/// writes STL-10 and SVHN) become row-major, and row-major ones column-major (the transpose
/// of a square is its own inverse). A trailing partial plane is left as it is.
pub fn transpose_square_planes(pixels: &mut [u8], side: usize) {
    for plane in pixels.chunks_exact_mut(side * side) {
        for row in 0..side {
            for col in row + 1..side {
                plane.swap(row * side + col, col * side + row);
            }
        }
    }
}
