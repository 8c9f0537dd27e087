//! CIFAR-10/100 and STL-10 parsers on files the tests write; augmentation; the epoch loader.

use std::path::Path;

use pgl_data::Padding;
use pgl_data::cifar::{self, Cifar100Label, encode_cifar10, encode_cifar100};
use pgl_data::dataset::ImageShape;
use pgl_data::loader::{EpochPlan, epoch_order, for_each_batch};
use pgl_data::{Augment, DatasetCatalog, LoadOptions, SplitMix64, load_dataset, stl10};
use proptest::prelude::*;

/// `n` distinct 32x32 RGB images: image i has pixel value (i * 31 + c * 7 + p) % 256.
fn images(n: usize, bytes_per_image: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| (0..bytes_per_image).map(move |p| ((i * 31 + p * 7 + p / 1024) % 256) as u8))
        .collect()
}

fn write_cifar10(dir: &Path, per_batch: usize, test: usize) {
    std::fs::create_dir_all(dir).unwrap();
    for (b, name) in cifar::CIFAR10_TRAIN_FILES.iter().enumerate() {
        let labels: Vec<u8> = (0..per_batch).map(|i| ((b + i) % 10) as u8).collect();
        let pixels = images(per_batch, 3072);
        std::fs::write(dir.join(name), encode_cifar10(&pixels, &labels)).unwrap();
    }
    let labels: Vec<u8> = (0..test).map(|i| (i % 10) as u8).collect();
    std::fs::write(
        dir.join("test_batch.bin"),
        encode_cifar10(&images(test, 3072), &labels),
    )
    .unwrap();
}

#[test]
fn cifar10_loads_every_batch_in_order() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cifar-10-batches-bin");
    write_cifar10(&dir, 3, 4);
    // The archive's parent folder works as well as the inner one.
    for root in [tmp.path(), dir.as_path()] {
        let splits = load_dataset("cifar10", Some(root)).unwrap();
        assert_eq!(splits.train.len(), 15);
        assert_eq!(splits.test.len(), 4);
        assert_eq!(
            splits.train.shape,
            ImageShape {
                channels: 3,
                height: 32,
                width: 32
            }
        );
        assert_eq!(&splits.train.labels()[..6], &[0, 1, 2, 1, 2, 3]);
        assert_eq!(splits.train.image(4), &images(3, 3072)[3072..6144]);
        assert_eq!(splits.train.num_classes, 10);
    }
}

#[test]
fn cifar100_keeps_fine_or_coarse_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let labels = [(3u8, 77u8), (19, 99), (0, 0)];
    for name in ["train.bin", "test.bin"] {
        std::fs::write(
            tmp.path().join(name),
            encode_cifar100(&images(3, 3072), &labels),
        )
        .unwrap();
    }
    let fine = load_dataset("cifar100", Some(tmp.path())).unwrap();
    assert_eq!(fine.train.labels(), &[77, 99, 0]);
    assert_eq!(fine.train.num_classes, 100);
    let coarse = DatasetCatalog::with_builtins()
        .load(
            "cifar100",
            Some(tmp.path()),
            &LoadOptions {
                label: Cifar100Label::Coarse,
            },
        )
        .unwrap();
    assert_eq!(coarse.test.labels(), &[3, 19, 0]);
    assert_eq!(coarse.test.num_classes, 20);
    assert_eq!(coarse.test.image(1), fine.test.image(1));
}

fn error_text(result: Result<pgl_data::DatasetSplits, pgl_data::DataError>) -> String {
    result.unwrap_err().to_string()
}

#[test]
fn malformed_cifar_files_are_named_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_cifar10(dir, 2, 2);
    let batch3 = dir.join("data_batch_3.bin");
    let good = std::fs::read(&batch3).unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (Vec::new(), "is empty"),
        (good[..3000].to_vec(), "3073-byte records"),
        ([good.clone(), vec![1, 2, 3]].concat(), "3 stray bytes"),
        (
            {
                let mut b = good.clone();
                b[3073] = 10;
                b
            },
            "label 10 at index 1",
        ),
    ];
    for (bytes, needle) in cases {
        std::fs::write(&batch3, &bytes).unwrap();
        let message = error_text(load_dataset("cifar10", Some(dir)));
        assert!(message.contains("data_batch_3.bin"), "{message}");
        assert!(
            message.contains(needle),
            "expected `{needle}` in: {message}"
        );
    }
    std::fs::remove_file(&batch3).unwrap();
    let message = error_text(load_dataset("cifar10", Some(dir)));
    assert!(
        message.contains("data_batch_3.bin") && message.contains("lacks this file"),
        "{message}"
    );

    let c100 = tmp.path().join("c100");
    std::fs::create_dir_all(&c100).unwrap();
    std::fs::write(
        c100.join("test.bin"),
        encode_cifar100(&images(1, 3072), &[(1, 2)]),
    )
    .unwrap();
    for (labels, needle) in [((20u8, 5u8), "label 20"), ((5, 100), "label 100")] {
        std::fs::write(
            c100.join("train.bin"),
            encode_cifar100(&images(1, 3072), &[labels]),
        )
        .unwrap();
        let message = error_text(load_dataset("cifar100", Some(&c100)));
        assert!(
            message.contains("train.bin") && message.contains(needle),
            "{message}"
        );
    }
}

fn write_stl(dir: &Path, train: usize, test: usize) -> Vec<u8> {
    std::fs::create_dir_all(dir).unwrap();
    let row_major = images(train, stl10::IMAGE_BYTES);
    std::fs::write(dir.join("train_X.bin"), stl10::encode_images(&row_major)).unwrap();
    std::fs::write(
        dir.join("train_y.bin"),
        (0..train).map(|i| (i % 10 + 1) as u8).collect::<Vec<_>>(),
    )
    .unwrap();
    std::fs::write(
        dir.join("test_X.bin"),
        stl10::encode_images(&images(test, stl10::IMAGE_BYTES)),
    )
    .unwrap();
    std::fs::write(dir.join("test_y.bin"), vec![10u8; test]).unwrap();
    row_major
}

#[test]
fn stl10_images_are_transposed_to_row_major_and_labels_shifted() {
    let tmp = tempfile::tempdir().unwrap();
    let row_major = write_stl(&tmp.path().join("stl10_binary"), 3, 2);
    let splits = load_dataset("stl10", Some(tmp.path())).unwrap();
    assert_eq!(splits.train.len(), 3);
    assert_eq!(splits.train.labels(), &[0, 1, 2]);
    assert_eq!(splits.test.labels(), &[9, 9]);
    assert_eq!(splits.train.image(2), &row_major[2 * stl10::IMAGE_BYTES..]);
    // Column-major on disk: the second stored byte is pixel (row 1, col 0).
    let stored = std::fs::read(tmp.path().join("stl10_binary/train_X.bin")).unwrap();
    assert_eq!(stored[1], row_major[96]);
}

#[test]
fn malformed_stl10_files_are_named_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    write_stl(dir, 2, 1);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("train_y.bin", vec![1, 11], "label 11"),
        ("train_y.bin", vec![0, 1], "label 0"),
        ("train_y.bin", vec![1, 2, 3], "2 images"),
        ("train_y.bin", Vec::new(), "is empty"),
        ("test_X.bin", vec![0; 100], "stray bytes"),
    ];
    for (file, bytes, needle) in cases {
        write_stl(dir, 2, 1);
        std::fs::write(dir.join(file), bytes).unwrap();
        let message = error_text(load_dataset("stl10", Some(dir)));
        assert!(message.contains(file), "{message}");
        assert!(
            message.contains(needle),
            "expected `{needle}` in: {message}"
        );
    }
}

const SHAPE: ImageShape = ImageShape {
    channels: 3,
    height: 8,
    width: 6,
};

fn sample_image() -> Vec<u8> {
    (1..=SHAPE.numel() as u32).map(|v| v as u8).collect()
}

fn pixel(image: &[u8], c: usize, y: isize, x: isize) -> u8 {
    let (h, w) = (SHAPE.height as isize, SHAPE.width as isize);
    if (0..h).contains(&y) && (0..w).contains(&x) {
        image[c * SHAPE.height * SHAPE.width + (y * w + x) as usize]
    } else {
        0
    }
}

/// The `(dy, dx, flipped)` that explains `out` as a crop of the zero-padded `input`, if any.
fn explain(input: &[u8], out: &[u8], pad: isize) -> Option<(isize, isize, bool)> {
    let (h, w) = (SHAPE.height as isize, SHAPE.width as isize);
    for flip in [false, true] {
        for dy in -pad..=pad {
            for dx in -pad..=pad {
                let matches = (0..SHAPE.channels).all(|c| {
                    (0..h).all(|y| {
                        (0..w).all(|x| {
                            let sx = if flip { w - 1 - x } else { x } + dx;
                            out[c * (h * w) as usize + (y * w + x) as usize]
                                == pixel(input, c, y + dy, sx)
                        })
                    })
                });
                if matches {
                    return Some((dy, dx, flip));
                }
            }
        }
    }
    None
}

#[test]
fn augmentation_is_a_padded_crop_and_flip_covering_every_offset() {
    let input = sample_image();
    let augment = Augment {
        pad: 2,
        flip: true,
        padding: Padding::Zeros,
    };
    let mut seen = std::collections::HashSet::new();
    let mut rng = SplitMix64::new(5);
    for _ in 0..2000 {
        let mut out = Vec::new();
        augment.apply(&input, SHAPE, &mut rng, &mut out);
        let explained = explain(&input, &out, 2).expect("output is a crop of the padded image");
        seen.insert(explained);
    }
    assert_eq!(seen.len(), 5 * 5 * 2, "every offset and both flips occur");
    let mut out = Vec::new();
    Augment {
        pad: 0,
        flip: false,
        padding: Padding::Zeros,
    }
    .apply(&input, SHAPE, &mut rng, &mut out);
    assert_eq!(out, input, "no padding and no flip is the identity");
}

#[test]
fn the_loader_delivers_the_planned_batches_in_order_and_stops_on_error() {
    let data = load_dataset("digits", None).unwrap().train;
    let plan = EpochPlan::new(
        &data,
        100,
        7,
        3,
        Some(Augment {
            pad: 1,
            flip: true,
            padding: Padding::Zeros,
        }),
    );
    let mut delivered = Vec::new();
    let stats = for_each_batch(&data, &plan, 2, |b, batch| {
        delivered.push((b, batch));
        Ok::<(), ()>(())
    })
    .unwrap();
    assert_eq!(stats.batches, plan.order.num_batches());
    for (b, batch) in &delivered {
        assert_eq!(*batch, plan.make_batch(&data, *b));
    }
    let mut count = 0;
    let result = for_each_batch(&data, &plan, 1, |b, _| {
        count += 1;
        if b == 3 {
            Err(format!("stop at {b}"))
        } else {
            Ok(())
        }
    });
    assert_eq!(result.unwrap_err(), "stop at 3");
    assert_eq!(count, 4);
    assert_eq!(epoch_order(500, 10, 1, 0), epoch_order(500, 10, 1, 0));
    assert_ne!(epoch_order(500, 10, 1, 0), epoch_order(500, 10, 1, 1));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic_the_colour_parsers(bytes in proptest::collection::vec(any::<u8>(), 0..7000)) {
        let p = Path::new("fuzz");
        let _ = cifar::parse_cifar10(&bytes, p);
        let _ = cifar::parse_cifar100(&bytes, p, Cifar100Label::Coarse);
        let _ = stl10::parse_images(&bytes, p);
        let _ = stl10::parse_labels(&bytes, p);
    }
}
