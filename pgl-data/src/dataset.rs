//! [`ImageDataset`]: images as `u8` pixels plus labels and normalisation constants (built from
//! pixels, labels and a [`DatasetMeta`]), and [`DatasetSplits`]. A leaf module: the parsers,
//! augmentation and batching build on it, and it imports none of them.

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
    /// The shape `channels`×`height`×`width`.
    pub const fn new(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
        }
    }

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

/// Everything an [`ImageDataset`] says about its samples besides the samples themselves: the
/// image shape, the class count and how pixels are scaled and normalised.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetMeta {
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
}

impl ImageDataset {
    /// The dataset `name` of `pixels` (image after image) and `labels`, described by `meta`.
    ///
    /// # Panics
    /// When the parts disagree (pixel count, label range, channel count): parsers validate
    /// their input before building a dataset, so this is a programming error.
    pub fn new(name: &str, meta: DatasetMeta, pixels: Vec<u8>, labels: Vec<u8>) -> Self {
        let DatasetMeta {
            shape,
            num_classes,
            pixel_max,
            mean,
            std,
        } = meta;
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
