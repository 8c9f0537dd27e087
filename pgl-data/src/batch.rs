//! Seeded data order and batching into plain `Vec<f32>` + shape + labels.

use crate::dataset::ImageDataset;
use crate::rng::SplitMix64;

/// One mini-batch: normalised images (NCHW, row-major) and their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// `shape[0] * shape[1] * shape[2] * shape[3]` normalised pixel values.
    pub images: Vec<f32>,
    /// `[batch, channels, height, width]`.
    pub shape: [usize; 4],
    /// One class index per image.
    pub labels: Vec<u32>,
}

impl Batch {
    /// Number of images in the batch.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the batch holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
}

/// The order in which one epoch visits a dataset, cut into batches. The last batch may be
/// smaller: every sample is visited exactly once per epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOrder {
    indices: Vec<usize>,
    batch_size: usize,
}

impl BatchOrder {
    /// Samples `0..len` in order (for evaluation).
    ///
    /// # Panics
    /// When `batch_size` is 0.
    pub fn sequential(len: usize, batch_size: usize) -> Self {
        assert!(batch_size > 0, "batch size must be at least 1");
        Self {
            indices: (0..len).collect(),
            batch_size,
        }
    }

    /// Samples `0..len` in an order drawn from `rng` (for training).
    pub fn shuffled(len: usize, batch_size: usize, rng: &mut SplitMix64) -> Self {
        let mut order = Self::sequential(len, batch_size);
        rng.shuffle(&mut order.indices);
        order
    }

    /// Number of batches.
    pub fn num_batches(&self) -> usize {
        self.indices.len().div_ceil(self.batch_size)
    }

    /// Sample indices of batch `b`.
    pub fn batch_indices(&self, b: usize) -> &[usize] {
        let start = b * self.batch_size;
        let end = (start + self.batch_size).min(self.indices.len());
        &self.indices[start..end]
    }

    /// Every sample index, in visiting order.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }
}

impl ImageDataset {
    /// The samples at `indices` as a normalised batch: `(pixel / pixel_max - mean[c]) / std[c]`.
    pub fn batch(&self, indices: &[usize]) -> Batch {
        let mut pixels = Vec::with_capacity(indices.len() * self.shape.numel());
        for &i in indices {
            pixels.extend_from_slice(self.image(i));
        }
        let labels: Vec<u8> = indices.iter().map(|&i| self.labels()[i]).collect();
        self.normalise(&pixels, &labels)
    }

    /// Normalises whole images `pixels` (this dataset's shape) into a batch with `labels`.
    pub(crate) fn normalise(&self, pixels: &[u8], labels: &[u8]) -> Batch {
        let channels = self.shape.channels;
        let plane = self.shape.height * self.shape.width;
        // One lookup table per channel: 256 possible pixel values.
        let tables: Vec<[f32; 256]> = (0..channels)
            .map(|c| {
                let mut t = [0f32; 256];
                for (v, slot) in t.iter_mut().enumerate() {
                    *slot = (v as f32 / self.pixel_max - self.mean[c]) / self.std[c];
                }
                t
            })
            .collect();
        let images = pixels
            .chunks_exact(plane)
            .enumerate()
            .flat_map(|(i, channel)| {
                let table = &tables[i % channels];
                channel.iter().map(move |&p| table[p as usize])
            })
            .collect();
        Batch {
            images,
            shape: [labels.len(), channels, self.shape.height, self.shape.width],
            labels: labels.iter().map(|&l| u32::from(l)).collect(),
        }
    }
}
