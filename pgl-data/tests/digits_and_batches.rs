//! The embedded digits set, seeded order and batching.

use std::path::Path;

use pgl_data::digits::{DIGITS_CSV_GZ, parse_digits_csv};
use pgl_data::{BatchOrder, DatasetKind, SplitMix64, load_dataset};
use proptest::prelude::*;

#[test]
fn the_embedded_digits_are_the_shared_file() {
    let shared = pgl_data::data_root_or(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        .join("digits/digits.csv.gz");
    assert_eq!(std::fs::read(shared).unwrap(), DIGITS_CSV_GZ);
}

#[test]
fn digits_split_is_fixed_and_complete() {
    let a = load_dataset(DatasetKind::Digits, None).unwrap();
    let b = load_dataset(DatasetKind::Digits, None).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.train.len(), 1437);
    assert_eq!(a.test.len(), 360);
    assert_eq!(a.train.shape.numel(), 64);
    let (_, labels) = parse_digits_csv(DIGITS_CSV_GZ, Path::new("digits")).unwrap();
    assert_eq!(labels.len(), 1797);
    for class in 0..10u8 {
        assert!(a.test.labels().iter().filter(|&&l| l == class).count() >= 20);
    }
    // Every original image is in exactly one split.
    let mut all: Vec<&[u8]> = (0..a.train.len()).map(|i| a.train.image(i)).collect();
    all.extend((0..a.test.len()).map(|i| a.test.image(i)));
    assert_eq!(all.len(), 1797);
    let batch = a.train.batch(&(0..a.train.len()).collect::<Vec<_>>());
    let mean = batch.images.iter().sum::<f32>() / batch.images.len() as f32;
    assert!(
        mean.abs() < 1e-3,
        "training images are normalised to mean 0, got {mean}"
    );
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
    let data = load_dataset(DatasetKind::Digits, None).unwrap().train;
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
