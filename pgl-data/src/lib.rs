//! Datasets for **pgl**, as plain bytes and `Vec<f32>` batches; no tensor library.
//!
//! - [`idx`]: MNIST / Fashion-MNIST IDX files, raw or gzip-compressed.
//! - [`cifar`], [`stl10`]: CIFAR-10/100 and STL-10 in their standard binary formats.
//! - [`augment`]: seeded random crop with zero padding and horizontal flip.
//! - [`loader`]: seeded epoch order and a background thread that makes batches ahead.
//! - [`digits`]: the scikit-learn 8×8 digits set, embedded in the binary (the default dataset).
//! - [`dataset`]: [`ImageDataset`] (u8 pixels + labels + normalisation constants) and
//!   [`DatasetSplits`].
//! - [`batch`]: seeded shuffling, normalisation and batching into [`Batch`].
//! - [`rng`]: the small, portable, serialisable random generator used for data order.
//!
//! Parsing is separate from fetching: every loader reads files that already exist. Every bad
//! input is a [`DataError`] that names the file and says what was expected.

pub mod augment;
pub mod batch;
pub mod cifar;
pub mod dataset;
pub mod digits;
pub mod error;
pub mod idx;
pub mod loader;
pub mod rng;
pub mod stl10;

pub use augment::Augment;
pub use batch::{Batch, BatchOrder};
pub use cifar::Cifar100Label;
pub use dataset::{DatasetKind, DatasetSplits, ImageDataset, ImageShape, load_dataset};
pub use error::DataError;
pub use loader::{EpochPlan, LoaderStats, for_each_batch};
pub use rng::SplitMix64;

/// Environment variable naming the folder that holds the real datasets
/// (`mnist/`, `fashion-mnist/`, `digits/`).
pub const DATA_DIR_ENV: &str = "PGL_DATA_DIR";

/// The dataset root: `$PGL_DATA_DIR` when set, else `fallback`.
pub fn data_root_or(fallback: impl Into<std::path::PathBuf>) -> std::path::PathBuf {
    std::env::var_os(DATA_DIR_ENV)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| fallback.into())
}
