//! A synthetic dataset for benches and tests: seeded uniformly random pixels of any shape,
//! labels cycling through the classes. Nothing in it is learnable; it exists so timings and
//! memory can be measured on data of a given size without a real dataset on disk.

use crate::dataset::{DatasetMeta, DatasetSplits, ImageDataset, ImageShape};
use crate::rng::SplitMix64;

/// Mean of a uniformly random pixel in `0..=255`, scaled to `0..=1`.
pub const UNIFORM_MEAN: f32 = 0.5;
/// Standard deviation of a uniformly random pixel in `0..=255`, scaled to `0..=1`
/// (`sqrt((256² − 1) / 12) / 255`), so batches come out normalised.
pub const UNIFORM_STD: f32 = 0.2898;

/// `len` images of `shape` whose pixels are the low bytes of successive
/// [`SplitMix64::new(seed)`](SplitMix64::new) draws, image after image; image `i` has label
/// `i % classes`. The dataset is called `synthetic`, with `pixel_max` 255 and every channel
/// normalised with [`UNIFORM_MEAN`] and [`UNIFORM_STD`]. The same arguments give the same
/// dataset on every platform.
///
/// # Panics
/// When `classes` is not in `1..=256` (labels are bytes).
///
/// ```
/// use pgl_data::dataset::ImageShape;
/// use pgl_data::synthetic::random_images;
///
/// let data = random_images(ImageShape::new(3, 32, 32), 10, 100, 7);
/// assert_eq!((data.len(), data.labels()[13]), (100, 3));
/// assert_eq!(data, random_images(ImageShape::new(3, 32, 32), 10, 100, 7));
/// ```
pub fn random_images(shape: ImageShape, classes: usize, len: usize, seed: u64) -> ImageDataset {
    assert!(
        (1..=256).contains(&classes),
        "classes must be in 1..=256, got {classes}"
    );
    let mut rng = SplitMix64::new(seed);
    let pixels: Vec<u8> = (0..len * shape.numel())
        .map(|_| rng.next_u64() as u8)
        .collect();
    let labels: Vec<u8> = (0..len).map(|i| (i % classes) as u8).collect();
    let meta = DatasetMeta {
        shape,
        num_classes: classes,
        pixel_max: 255.0,
        mean: vec![UNIFORM_MEAN; shape.channels],
        std: vec![UNIFORM_STD; shape.channels],
    };
    ImageDataset::new("synthetic", meta, pixels, labels)
}

/// Train and test splits of [`random_images`]: `train` images drawn from `seed`, `test`
/// images from a different stream of the same seed.
pub fn random_splits(
    shape: ImageShape,
    classes: usize,
    train: usize,
    test: usize,
    seed: u64,
) -> DatasetSplits {
    DatasetSplits {
        train: random_images(shape, classes, train, seed),
        test: random_images(shape, classes, test, seed ^ 0x7E57_7E57_7E57_7E57),
    }
}
