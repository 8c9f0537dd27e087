//! The embedded digits set, seeded order and batching.

use std::path::Path;

use pgl_data::digits::{DIGITS_CSV_GZ, parse_digits_csv};
use pgl_data::{BatchOrder, ImageDataset, SplitMix64, load_dataset};
use proptest::prelude::*;

#[test]
fn the_embedded_digits_are_the_shared_file() {
    let shared = pgl_data::data_root_or(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        .join("digits/digits.csv.gz");
    assert_eq!(std::fs::read(shared).unwrap(), DIGITS_CSV_GZ);
}

#[test]
fn digits_split_is_fixed_and_complete() {
    let a = load_dataset("digits", None).unwrap();
    let b = load_dataset("digits", None).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.train.len(), 1437);
    assert_eq!(a.test.len(), 360);
    assert_eq!(a.train.shape.numel(), 64);
    let (pixels, labels) = parse_digits_csv(DIGITS_CSV_GZ, Path::new("digits")).unwrap();
    assert_eq!(labels.len(), 1797);
    for class in 0..10u8 {
        assert!(a.test.labels().iter().filter(|&&l| l == class).count() >= 20);
    }
    // Every original (image, label) is in exactly one split: train ∪ test is the embedded
    // set, as a multiset (the set holds some identical images).
    let original: Vec<(&[u8], u8)> = pixels.chunks_exact(64).zip(labels).collect();
    let split: Vec<(&[u8], u8)> = samples(&a.train).chain(samples(&a.test)).collect();
    assert!(
        same_multiset(&split, &original),
        "train ∪ test differs from the embedded set"
    );
    let batch = a.train.batch(&(0..a.train.len()).collect::<Vec<_>>());
    let mean = batch.images.iter().sum::<f32>() / batch.images.len() as f32;
    assert!(
        mean.abs() < 1e-3,
        "training images are normalised to mean 0, got {mean}"
    );
}

/// Every `(image, label)` of `data`, in order.
fn samples(data: &ImageDataset) -> impl Iterator<Item = (&[u8], u8)> {
    (0..data.len()).map(|i| (data.image(i), data.labels()[i]))
}

/// Whether `a` and `b` hold the same samples, each as many times, in any order.
fn same_multiset(a: &[(&[u8], u8)], b: &[(&[u8], u8)]) -> bool {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_unstable();
    b.sort_unstable();
    a == b
}

#[test]
fn the_split_check_catches_a_lost_duplicated_or_relabelled_image() {
    let d = load_dataset("digits", None).unwrap();
    let all: Vec<(&[u8], u8)> = samples(&d.train).chain(samples(&d.test)).collect();
    assert!(same_multiset(&all, &all));
    let mut shuffled = all.clone();
    shuffled.reverse();
    assert!(same_multiset(&shuffled, &all), "order does not matter");
    // The same count, but one image twice and another lost.
    let duplicated: Vec<_> = std::iter::once(all[1])
        .chain(all[1..].iter().copied())
        .collect();
    assert_eq!(duplicated.len(), all.len());
    assert_ne!(all[0], all[1]);
    assert!(!same_multiset(&duplicated, &all));
    // The same images, one with another label.
    let mut relabelled = all.clone();
    relabelled[5].1 = (relabelled[5].1 + 1) % 10;
    assert!(!same_multiset(&relabelled, &all));
}

#[test]
fn bad_digit_records_name_the_line() {
    let p = Path::new("my.csv");
    let line = |s: &str| parse_digits_csv(s.as_bytes(), p).unwrap_err().to_string();
    let ok: Vec<String> = (0..64).map(|_| "1".to_string()).collect();
    let ok = ok.join(",");
    assert!(line(&format!("{ok},3\n{ok}\n")).contains("my.csv, line 2: expected 65"));
    assert!(line(&format!("{ok},10\n")).contains("label `10`"));
    assert!(line(&format!("{ok},x\n")).contains("value 65 (`x`) is not a number"));
    assert!(line(&format!("17,{},3\n", &ok[2..])).contains("pixel `17`"));
    assert!(line("").contains("is empty"));
    assert_eq!(
        parse_digits_csv(format!("{ok},3\n").as_bytes(), p)
            .unwrap()
            .1,
        vec![3]
    );
}

#[test]
fn batches_have_the_right_shape_and_cover_the_epoch() {
    let data = load_dataset("digits", None).unwrap().train;
    let order = BatchOrder::shuffled(data.len(), 100, &mut SplitMix64::new(7));
    assert_eq!(order.num_batches(), 15);
    let last = data.batch(order.batch_indices(14));
    assert_eq!(last.shape, [37, 1, 8, 8]);
    assert_eq!(last.images.len(), 37 * 64);
    let mut seen: Vec<usize> = (0..order.num_batches())
        .flat_map(|b| order.batch_indices(b).to_vec())
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (0..data.len()).collect::<Vec<_>>());
    let again = BatchOrder::shuffled(data.len(), 100, &mut SplitMix64::new(7));
    assert_eq!(order, again, "same seed, same order");
    assert_ne!(
        order,
        BatchOrder::shuffled(data.len(), 100, &mut SplitMix64::new(8))
    );
}

proptest! {
    #[test]
    fn shuffles_are_permutations(n in 0usize..500, seed in any::<u64>(), batch in 1usize..64) {
        let order = BatchOrder::shuffled(n, batch, &mut SplitMix64::new(seed));
        let mut sorted = order.indices().to_vec();
        sorted.sort_unstable();
        prop_assert_eq!(sorted, (0..n).collect::<Vec<_>>());
        prop_assert_eq!(order.num_batches(), n.div_ceil(batch));
    }

    #[test]
    fn below_stays_in_range(seed in any::<u64>(), n in 1u64..1000) {
        let mut rng = SplitMix64::new(seed);
        for _ in 0..50 {
            prop_assert!(rng.below(n) < n);
        }
    }
}
