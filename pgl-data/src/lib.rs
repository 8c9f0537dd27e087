//! Datasets for **pgl**, as plain bytes and `Vec<f32>` batches; no tensor library.
//!
//! - [`catalog`]: the dataset table ([`BUILTIN_DATASETS`], [`DatasetCatalog`]): names, help
//!   texts, loading; each [`DatasetEntry`] is defined in its parser's file.
//! - [`entry`]: [`DatasetEntry`] (name, shape, files, loader, augmentation policy).
//! - [`idx`]: MNIST / Fashion-MNIST IDX files, raw or gzip-compressed.
//! - [`cifar`], [`stl10`]: CIFAR-10/100 and STL-10 in their standard binary formats.
//! - [`svhn`]: SVHN's cropped digits in their MATLAB files, read by [`mat5`] (a bounded
//!   reader of level-5 MAT-files' numeric arrays).
//! - [`digits`]: the scikit-learn 8×8 digits set, embedded in the binary (the default dataset).
//! - [`synthetic`]: seeded random images of any shape, for benches and tests.
//! - [`augment`]: seeded random crop with zero padding and horizontal flip, and the
//!   `--augment` option ([`AugmentChoice`]).
//! - [`loader`]: seeded epoch order and a background thread that makes batches ahead.
//! - [`dataset`]: [`ImageDataset`] (u8 pixels + labels + normalisation constants, built from
//!   them and a [`DatasetMeta`]) and [`DatasetSplits`].
//! - [`batch`]: seeded shuffling, normalisation and batching into [`Batch`].
//! - [`files`]: the data root, required files, fixed-size record files.
//! - [`rng`]: the small, portable, serialisable random generator used for data order.
//!
//! Parsing is separate from fetching: every loader reads files that already exist. Every bad
//! input is a [`DataError`] that names the file and says what was expected.
//!
//! Modules import each other in one direction only: `error`, `rng`, `dataset` and `files` are
//! leaves (`mat5` imports only `error`); `batch` and `augment` build on them; `entry` on `augment`; the parsers on `entry`;
//! `catalog` on the parsers.

#![deny(missing_docs)]

pub mod augment;
pub mod batch;
pub mod catalog;
pub mod cifar;
pub mod dataset;
pub mod digits;
pub mod entry;
pub mod error;
pub mod files;
pub mod idx;
pub mod loader;
pub mod mat5;
pub mod rng;
pub mod stl10;
pub mod svhn;
pub mod synthetic;

pub use augment::{Augment, AugmentChoice, Padding};
pub use batch::{Batch, BatchOrder};
pub use catalog::{BUILTIN_DATASETS, DatasetCatalog, dataset_names, load_dataset};
pub use dataset::{DatasetMeta, DatasetSplits, ImageDataset, ImageShape};
pub use entry::{AugmentPolicy, Cifar100Label, DatasetEntry, DatasetSource, LoadOptions};
pub use error::DataError;
pub use files::{DATA_DIR_ENV, data_root_or};
pub use loader::{EpochPlan, LoaderStats, for_each_batch};
pub use rng::SplitMix64;
