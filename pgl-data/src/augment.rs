//! Training augmentation, seeded: random crop with zero padding and horizontal flip, the
//! standard CIFAR recipe (pad 4, crop back to the original size, flip with probability ½).
//! Applied to raw pixels before normalisation, so padding is black, as in torchvision.

use crate::dataset::{ImageDataset, ImageShape};
use crate::rng::SplitMix64;

/// What augmentation to apply to training images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Augment {
    /// Zero padding on each side before a random crop back to the original size (0: no crop).
    pub pad: usize,
    /// Flip horizontally with probability ½.
    pub flip: bool,
}

impl Augment {
    /// The standard CIFAR recipe: pad 4, random crop, horizontal flip.
    pub const CIFAR: Augment = Augment { pad: 4, flip: true };

    /// Writes an augmented copy of `image` (shape `shape`, channels first) into `out`.
    pub fn apply(&self, image: &[u8], shape: ImageShape, rng: &mut SplitMix64, out: &mut Vec<u8>) {
        let (h, w) = (shape.height as isize, shape.width as isize);
        let pad = self.pad as isize;
        let dy = if pad > 0 {
            rng.below(2 * self.pad as u64 + 1) as isize - pad
        } else {
            0
        };
        let dx = if pad > 0 {
            rng.below(2 * self.pad as u64 + 1) as isize - pad
        } else {
            0
        };
        let flip = self.flip && rng.below(2) == 1;
        for channel in image.chunks_exact((h * w) as usize) {
            for y in 0..h {
                let sy = y + dy;
                for x in 0..w {
                    // Crop at offset (dy, dx) of the zero-padded image, then flip the crop.
                    let sx = if flip { w - 1 - x } else { x } + dx;
                    let inside = (0..h).contains(&sy) && (0..w).contains(&sx);
                    out.push(if inside {
                        channel[(sy * w + sx) as usize]
                    } else {
                        0
                    });
                }
            }
        }
    }
}

impl ImageDataset {
    /// The samples at `indices` as a normalised batch, each augmented with `augment` using
    /// `rng` (deterministic for a given generator state).
    pub fn augmented_batch(
        &self,
        indices: &[usize],
        augment: &Augment,
        rng: &mut SplitMix64,
    ) -> crate::Batch {
        let mut scratch = Vec::with_capacity(indices.len() * self.shape.numel());
        for &i in indices {
            augment.apply(self.image(i), self.shape, rng, &mut scratch);
        }
        let labels: Vec<u8> = indices.iter().map(|&i| self.labels()[i]).collect();
        self.normalise(&scratch, &labels)
    }
}
