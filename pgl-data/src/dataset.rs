//! [`ImageDataset`]: images as `u8` pixels plus labels and normalisation constants, and the
//! [`DatasetKind`]s pgl can load.

use std::path::{Path, PathBuf};

use crate::error::DataError;
use crate::{digits, idx};

/// Shape of one image, channels first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageShape {
    /// Number of channels (1 for grey images).
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
}

impl ImageShape {
    /// Number of values in one image.
    pub fn numel(&self) -> usize {
        self.channels * self.height * self.width
    }
}

/// A labelled image dataset held in memory as raw pixels.
///
/// Pixels are stored as `u8` in `0..=pixel_max`, channels first, image after image; they are
/// scaled to `0..=1` and normalised per channel with `mean`/`std` when batched.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageDataset {
    /// Dataset name, e.g. `mnist`.
    pub name: String,
    /// Shape of every image.
    pub shape: ImageShape,
    /// Number of classes; every label is below it.
    pub num_classes: usize,
    /// Value of a full-intensity pixel (255 for IDX files, 16 for the 8×8 digits).
    pub pixel_max: f32,
    /// Per-channel mean of the scaled (`0..=1`) pixels, used for normalisation.
    pub mean: Vec<f32>,
    /// Per-channel standard deviation of the scaled pixels, used for normalisation.
    pub std: Vec<f32>,
    pixels: Vec<u8>,
    labels: Vec<u8>,
}

impl ImageDataset {
    /// A dataset from raw parts.
    ///
    /// # Panics
    /// When the parts disagree (pixel count, label range, channel count): parsers validate
    /// their input before building a dataset, so this is a programming error.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        shape: ImageShape,
        num_classes: usize,
        pixel_max: f32,
        mean: Vec<f32>,
        std: Vec<f32>,
        pixels: Vec<u8>,
        labels: Vec<u8>,
    ) -> Self {
        assert_eq!(pixels.len(), labels.len() * shape.numel(), "pixel count");
        assert!(
            labels.iter().all(|&l| (l as usize) < num_classes),
            "label range"
        );
        assert_eq!(mean.len(), shape.channels, "one mean per channel");
        assert_eq!(std.len(), shape.channels, "one std per channel");
        assert!(std.iter().all(|s| *s > 0.0), "std must be positive");
        Self {
            name: name.to_string(),
            shape,
            num_classes,
            pixel_max,
            mean,
            std,
            pixels,
            labels,
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the dataset holds no sample.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The raw pixels of sample `index`.
    pub fn image(&self, index: usize) -> &[u8] {
        let n = self.shape.numel();
        &self.pixels[index * n..(index + 1) * n]
    }

    /// Every label, in order.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The dataset restricted to its first `limit` samples (all of them if it has fewer).
    pub fn truncated(mut self, limit: usize) -> Self {
        let keep = limit.min(self.len());
        self.labels.truncate(keep);
        self.pixels.truncate(keep * self.shape.numel());
        self
    }

    /// The samples at `indices`, in that order, as a new dataset.
    pub fn select(&self, indices: &[usize]) -> Self {
        let mut pixels = Vec::with_capacity(indices.len() * self.shape.numel());
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
            labels.push(self.labels[i]);
        }
        Self {
            pixels,
            labels,
            ..self.clone_meta()
        }
    }

    fn clone_meta(&self) -> Self {
        Self {
            name: self.name.clone(),
            shape: self.shape,
            num_classes: self.num_classes,
            pixel_max: self.pixel_max,
            mean: self.mean.clone(),
            std: self.std.clone(),
            pixels: Vec::new(),
            labels: Vec::new(),
        }
    }
}

/// A training and a test set.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetSplits {
    /// Training samples.
    pub train: ImageDataset,
    /// Test samples.
    pub test: ImageDataset,
}

/// The datasets pgl can load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetKind {
    /// scikit-learn's 8×8 digits, embedded in the binary (1797 images, 10 classes).
    Digits,
    /// MNIST, 28×28 grey digits, IDX files.
    Mnist,
    /// Fashion-MNIST, 28×28 grey clothing images, IDX files with MNIST's names.
    FashionMnist,
}

impl DatasetKind {
    /// Every kind, in the order shown to users.
    pub const ALL: [DatasetKind; 3] = [
        DatasetKind::Digits,
        DatasetKind::Mnist,
        DatasetKind::FashionMnist,
    ];

    /// The name used on the command line and in configs.
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Digits => "digits",
            DatasetKind::Mnist => "mnist",
            DatasetKind::FashionMnist => "fashion-mnist",
        }
    }

    /// The kind called `name`.
    pub fn parse(name: &str) -> Result<Self, DataError> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| DataError::UnknownDataset {
                name: name.to_string(),
                known: Self::ALL.map(|k| k.name()).join(", "),
            })
    }

    /// Whether the dataset is read from a directory (all but the embedded digits).
    pub fn needs_data_dir(self) -> bool {
        !matches!(self, DatasetKind::Digits)
    }
}

/// Loads `kind`'s train and test splits; `data_dir` is the folder holding its files.
///
/// When `data_dir` is `None` for a dataset that needs one, `$PGL_DATA_DIR/<name>` is used if
/// that variable is set.
pub fn load_dataset(
    kind: DatasetKind,
    data_dir: Option<&Path>,
) -> Result<DatasetSplits, DataError> {
    if !kind.needs_data_dir() {
        return digits::load_embedded();
    }
    let dir: PathBuf = match data_dir {
        Some(d) => d.to_path_buf(),
        None => match std::env::var_os(crate::DATA_DIR_ENV) {
            Some(root) => Path::new(&root).join(kind.name()),
            None => {
                return Err(DataError::NoDataDir {
                    name: kind.name().to_string(),
                    files: idx::MNIST_FILES.join(", ") + " (each optionally .gz)",
                    env: crate::DATA_DIR_ENV.to_string(),
                });
            }
        },
    };
    let (mean, std) = match kind {
        DatasetKind::FashionMnist => (0.2860, 0.3530),
        _ => (0.1307, 0.3081),
    };
    idx::load_mnist_dir(&dir, kind.name(), mean, std)
}
