//! [`ImageDataset`]: images as `u8` pixels plus labels and normalisation constants, and the
//! [`DatasetKind`]s pgl can load.

use std::path::{Path, PathBuf};

use crate::augment::Augment;
use crate::cifar::Cifar100Label;
use crate::error::DataError;
use crate::{cifar, digits, idx, stl10};

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
    /// CIFAR-10, 32×32 colour images, binary format.
    Cifar10,
    /// CIFAR-100 with fine (100) or coarse (20) labels, binary format.
    Cifar100(Cifar100Label),
    /// STL-10, 96×96 colour images (labelled splits), binary format.
    Stl10,
}

impl DatasetKind {
    /// Every dataset name, in the order shown to users.
    pub const NAMES: [&'static str; 6] = [
        "digits",
        "mnist",
        "fashion-mnist",
        "cifar10",
        "cifar100",
        "stl10",
    ];

    /// The name used on the command line and in configs.
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Digits => "digits",
            DatasetKind::Mnist => "mnist",
            DatasetKind::FashionMnist => "fashion-mnist",
            DatasetKind::Cifar10 => "cifar10",
            DatasetKind::Cifar100(_) => "cifar100",
            DatasetKind::Stl10 => "stl10",
        }
    }

    /// The kind called `name` (CIFAR-100 with fine labels; see [`with_label`](Self::with_label)).
    pub fn parse(name: &str) -> Result<Self, DataError> {
        Ok(match name {
            "digits" => DatasetKind::Digits,
            "mnist" => DatasetKind::Mnist,
            "fashion-mnist" => DatasetKind::FashionMnist,
            "cifar10" => DatasetKind::Cifar10,
            "cifar100" => DatasetKind::Cifar100(Cifar100Label::Fine),
            "stl10" => DatasetKind::Stl10,
            _ => {
                return Err(DataError::UnknownDataset {
                    name: name.to_string(),
                    known: Self::NAMES.join(", "),
                });
            }
        })
    }

    /// The same dataset with CIFAR-100 labels `label` (other datasets are unchanged).
    pub fn with_label(self, label: Cifar100Label) -> Self {
        match self {
            DatasetKind::Cifar100(_) => DatasetKind::Cifar100(label),
            other => other,
        }
    }

    /// Whether the dataset is read from a directory (all but the embedded digits).
    pub fn needs_data_dir(self) -> bool {
        !matches!(self, DatasetKind::Digits)
    }

    /// The standard training augmentation of the dataset: pad-and-crop plus flip for the
    /// colour datasets (pad 4 on 32×32, 12 on 96×96), none for digits and (Fashion-)MNIST.
    pub fn default_augment(self) -> Option<Augment> {
        match self {
            DatasetKind::Cifar10 | DatasetKind::Cifar100(_) => Some(Augment::CIFAR),
            DatasetKind::Stl10 => Some(Augment {
                pad: 12,
                flip: true,
            }),
            _ => None,
        }
    }

    /// The files a directory of this dataset must hold, for messages.
    pub fn expected_files(self) -> String {
        match self {
            DatasetKind::Digits => "(embedded)".to_string(),
            DatasetKind::Mnist | DatasetKind::FashionMnist => {
                idx::MNIST_FILES.join(", ") + " (each optionally .gz)"
            }
            DatasetKind::Cifar10 => {
                "data_batch_1.bin .. data_batch_5.bin, test_batch.bin".to_string()
            }
            DatasetKind::Cifar100(_) => "train.bin, test.bin".to_string(),
            DatasetKind::Stl10 => "train_X.bin, train_y.bin, test_X.bin, test_y.bin".to_string(),
        }
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
                    files: kind.expected_files(),
                    env: crate::DATA_DIR_ENV.to_string(),
                });
            }
        },
    };
    match kind {
        DatasetKind::Digits => digits::load_embedded(),
        DatasetKind::Mnist => idx::load_mnist_dir(&dir, kind.name(), 0.1307, 0.3081),
        DatasetKind::FashionMnist => idx::load_mnist_dir(&dir, kind.name(), 0.2860, 0.3530),
        DatasetKind::Cifar10 => cifar::load_cifar10_dir(&dir),
        DatasetKind::Cifar100(label) => cifar::load_cifar100_dir(&dir, label),
        DatasetKind::Stl10 => stl10::load_stl10_dir(&dir),
    }
}
