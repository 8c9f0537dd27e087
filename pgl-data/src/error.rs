//! The error type of `pgl-data`.

use std::path::PathBuf;

use pgl_core::setting;
use thiserror::Error;

/// Everything that can be wrong with a dataset file (every such variant names the file), a
/// dataset name, a dataset entry or the `--augment` option.
#[derive(Debug, Error)]
pub enum DataError {
    /// A file could not be opened or read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's message.
        reason: String,
    },
    /// None of the accepted names of a required file exists.
    #[error("missing dataset file {path} (also looked for {alternatives}): {hint}")]
    MissingFile {
        /// The preferred file name.
        path: PathBuf,
        /// Other accepted names.
        alternatives: String,
        /// What to do about it.
        hint: String,
    },
    /// A gzip stream is corrupt or decompresses to more than the allowed size.
    #[error("corrupt gzip data in {path}: {reason}")]
    Gzip {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The file is empty.
    #[error("{path} is empty; expected {expected}")]
    Empty {
        /// The file.
        path: PathBuf,
        /// What the file should hold.
        expected: String,
    },
    /// The file's magic number is not the expected one.
    #[error("{path}: wrong magic number {found:#010x}; expected {expected:#010x} ({what})")]
    BadMagic {
        /// The file.
        path: PathBuf,
        /// Expected magic number.
        expected: u32,
        /// Magic number found.
        found: u32,
        /// What kind of file was expected.
        what: String,
    },
    /// The file is shorter (or longer) than its header says.
    #[error("{path}: {reason}: expected {expected} bytes, found {found}")]
    WrongLength {
        /// The file.
        path: PathBuf,
        /// What the length was computed from.
        reason: String,
        /// Expected number of bytes.
        expected: u64,
        /// Number of bytes found.
        found: u64,
    },
    /// Images are not of the size the dataset requires.
    #[error(
        "{path}: images are {found_rows}x{found_cols}; expected {expected_rows}x{expected_cols}"
    )]
    WrongImageSize {
        /// The file.
        path: PathBuf,
        /// Expected rows.
        expected_rows: u32,
        /// Expected columns.
        expected_cols: u32,
        /// Rows in the file.
        found_rows: u32,
        /// Columns in the file.
        found_cols: u32,
    },
    /// Image and label files disagree on the number of samples.
    #[error("{images} holds {image_count} images but {labels} holds {label_count} labels")]
    CountMismatch {
        /// The images file.
        images: PathBuf,
        /// Number of images.
        image_count: u64,
        /// The labels file.
        labels: PathBuf,
        /// Number of labels.
        label_count: u64,
    },
    /// A label is not a valid class.
    #[error("{path}: label {label} at index {index} is out of range; expected 0..={max}")]
    LabelOutOfRange {
        /// The file.
        path: PathBuf,
        /// Sample index.
        index: u64,
        /// The label found.
        label: u64,
        /// Largest valid label.
        max: u64,
    },
    /// A text (CSV) record is malformed.
    #[error("{path}, line {line}: {reason}")]
    BadRecord {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What was expected.
        reason: String,
    },
    /// The dataset name is not known.
    #[error("unknown dataset `{name}`; expected one of: {known}")]
    UnknownDataset {
        /// The name given.
        name: String,
        /// The known names.
        known: String,
    },
    /// A MATLAB MAT-file is not one pgl reads, or lacks what the dataset needs.
    #[error("{path}: {reason}")]
    BadMat {
        /// The file.
        path: PathBuf,
        /// What is wrong, and what was expected.
        reason: String,
    },
    /// The `--augment` option (config field `augment`) is malformed.
    #[error("{}: {reason}; expected {expected}", setting("augment").with(value))]
    BadAugment {
        /// The value given.
        value: String,
        /// What is wrong with it.
        reason: String,
        /// What the option accepts.
        expected: &'static str,
    },
    /// A well-formed `--augment` recipe does not suit the dataset (a flip where flips change
    /// labels, a crop padding as large as the image).
    #[error("{} does not suit dataset `{dataset}`: {reason}", setting("augment").with(value))]
    AugmentForDataset {
        /// The dataset.
        dataset: String,
        /// The recipe given, in canonical form.
        value: String,
        /// Why it does not suit, and what would.
        reason: String,
    },
    /// A dataset name is registered twice.
    #[error("dataset `{name}` is already registered")]
    DuplicateDataset {
        /// The name.
        name: String,
    },
    /// A dataset entry contradicts itself (e.g. a standard recipe that flips images of a
    /// dataset whose labels flips change).
    #[error("dataset entry `{name}`: {reason}")]
    BadDatasetEntry {
        /// The entry's name.
        name: String,
        /// What is inconsistent.
        reason: String,
    },
    /// A dataset needs a directory and none was given.
    #[error(
        "dataset `{name}` needs {} (a folder with {files}), or ${env} set to a folder holding `{name}/`",
        setting("data_dir")
    )]
    NoDataDir {
        /// The dataset.
        name: String,
        /// The files the folder must hold.
        files: String,
        /// The environment variable consulted.
        env: String,
    },
}
