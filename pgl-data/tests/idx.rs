//! IDX parsing on the real MNIST files and on every kind of broken file.

use std::io::Write;
use std::path::{Path, PathBuf};

use pgl_data::idx::{self, encode_images, encode_labels, write_mnist_dir};
use pgl_data::{DataError, DatasetCatalog, load_dataset};

fn mnist_dir() -> PathBuf {
    pgl_data::data_root_or(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data")).join("mnist")
}

#[test]
fn real_mnist_loads_completely() {
    let splits = load_dataset("mnist", Some(&mnist_dir())).unwrap();
    assert_eq!(splits.train.len(), 60_000);
    assert_eq!(splits.test.len(), 10_000);
    assert_eq!(splits.train.shape.numel(), 784);
    // The well-known first labels of MNIST.
    assert_eq!(&splits.train.labels()[..5], &[5, 0, 4, 1, 9]);
    assert_eq!(&splits.test.labels()[..3], &[7, 2, 1]);
    let mut counts = [0usize; 10];
    for &l in splits.train.labels() {
        counts[l as usize] += 1;
    }
    assert_eq!(counts[1], 6742, "MNIST has 6742 training ones");
    // Normalised training pixels have mean ~0 and std ~1.
    let batch = splits.train.batch(&(0..2000).collect::<Vec<_>>());
    let mean = batch.images.iter().sum::<f32>() / batch.images.len() as f32;
    let var =
        batch.images.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / batch.images.len() as f32;
    assert!(mean.abs() < 0.05, "mean {mean}");
    assert!((var.sqrt() - 1.0).abs() < 0.05, "std {}", var.sqrt());
}

#[test]
fn raw_and_gzip_files_give_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
        let bytes = idx::read_maybe_gz(&mnist_dir().join(format!("{name}.gz"))).unwrap();
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let raw = idx::load_mnist_split(dir.path(), "t10k", "mnist", 0.1307, 0.3081).unwrap();
    let gz = idx::load_mnist_split(&mnist_dir(), "t10k", "mnist", 0.1307, 0.3081).unwrap();
    assert_eq!(raw, gz);
}

/// A valid small MNIST-style directory: 3 training and 2 test images of 28x28.
fn small_dir(dir: &Path) -> PathBuf {
    let px = |n: usize| (0..n * 784).map(|i| (i % 251) as u8).collect::<Vec<u8>>();
    write_mnist_dir(dir, 28, 28, (&px(3), &[1, 2, 3]), (&px(2), &[9, 0])).unwrap()
}

fn load_error(dir: &Path) -> String {
    let err = load_dataset("fashion-mnist", Some(dir)).unwrap_err();
    err.to_string()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn small_written_directories_load_as_fashion_mnist() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = small_dir(tmp.path());
    let splits = load_dataset("fashion-mnist", Some(&dir)).unwrap();
    assert_eq!(splits.train.labels(), &[1, 2, 3]);
    assert_eq!(splits.test.labels(), &[9, 0]);
    assert_eq!(splits.train.name, "fashion-mnist");
    // A gzip-compressed copy of one file is found under its .gz name.
    let labels = dir.join("t10k-labels-idx1-ubyte");
    let bytes = std::fs::read(&labels).unwrap();
    std::fs::remove_file(&labels).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte.gz"), gzip(&bytes)).unwrap();
    assert_eq!(
        load_dataset("fashion-mnist", Some(&dir))
            .unwrap()
            .test
            .labels(),
        &[9, 0]
    );
}

/// Replaces one file of a valid directory with `bytes`, loads it, returns the error text.
fn error_with(file: &str, bytes: Vec<u8>) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let dir = small_dir(tmp.path());
    std::fs::write(dir.join(file), bytes).unwrap();
    load_error(&dir)
}

#[test]
fn every_bad_input_is_an_error_naming_the_file() {
    let images = "train-images-idx3-ubyte";
    let labels = "train-labels-idx1-ubyte";
    let good_images = encode_images(28, 28, &vec![0u8; 3 * 784]);
    let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
        (images, Vec::new(), &["is empty"]),
        (labels, Vec::new(), &["is empty"]),
        (
            images,
            encode_labels(&[1, 2, 3]),
            &["wrong magic number", "0x00000803"],
        ),
        (
            labels,
            good_images.clone(),
            &["wrong magic number", "0x00000801"],
        ),
        (
            images,
            good_images[..1000].to_vec(),
            &["truncated", "expected 2368 bytes, found 1000"],
        ),
        (
            images,
            good_images[..10].to_vec(),
            &["truncated IDX header"],
        ),
        (
            images,
            [good_images.clone(), vec![0; 5]].concat(),
            &["extra bytes"],
        ),
        (labels, encode_labels(&[1, 2]), &["3 images", "2 labels"]),
        (
            labels,
            encode_labels(&[1, 12, 3]),
            &["label 12 at index 1", "0..=9"],
        ),
        (
            images,
            encode_images(8, 8, &[0u8; 3 * 64]),
            &["8x8", "expected 28x28"],
        ),
        (
            images,
            vec![0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5],
            &["corrupt gzip"],
        ),
        (
            images,
            encode_images(28, 28, &[]).to_vec(),
            &["at least one image"],
        ),
        (
            images,
            {
                // A lying header: 4 billion images of 28x28 in a 16-byte file.
                let mut b = encode_images(28, 28, &[]);
                b[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
                b
            },
            &["truncated"],
        ),
    ];
    for (file, bytes, needles) in cases {
        let message = error_with(file, bytes);
        assert!(
            message.contains(file),
            "error should name {file}: {message}"
        );
        for needle in needles {
            assert!(
                message.contains(needle),
                "error for {file} should contain `{needle}`: {message}"
            );
        }
    }
}

#[test]
fn missing_files_and_folders_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = small_dir(tmp.path());
    std::fs::remove_file(dir.join("t10k-images-idx3-ubyte")).unwrap();
    let message = load_error(&dir);
    assert!(message.contains("t10k-images-idx3-ubyte"), "{message}");
    assert!(message.contains("lacks this file"), "{message}");
    let message = load_error(&tmp.path().join("nowhere"));
    assert!(message.contains("does not exist"), "{message}");
}

#[test]
fn a_directory_in_place_of_a_file_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = small_dir(tmp.path());
    std::fs::remove_file(dir.join("train-labels-idx1-ubyte")).unwrap();
    std::fs::create_dir(dir.join("train-labels-idx1-ubyte.gz")).unwrap();
    assert!(matches!(
        load_dataset("mnist", Some(&dir)),
        Err(DataError::MissingFile { .. })
    ));
}

#[test]
fn unknown_dataset_names_list_the_known_ones() {
    let e = DatasetCatalog::with_builtins()
        .get("cifar")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("digits, mnist, fashion-mnist, cifar10, cifar100, stl10"),
        "{e}"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_the_parsers(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let p = Path::new("fuzz");
            let _ = idx::parse_images(&bytes, p);
            let _ = idx::parse_labels(&bytes, p, 9);
            let _ = idx::decompress_if_gz(bytes.clone(), p);
            let _ = pgl_data::digits::parse_digits_csv(&bytes, p);
        }

        #[test]
        fn encoded_files_parse_back(rows in 1u32..6, cols in 1u32..6, raw in proptest::collection::vec(any::<u8>(), 1..200)) {
            let per = (rows * cols) as usize;
            let n = raw.len() / per;
            prop_assume!(n > 0);
            let pixels = &raw[..n * per];
            let parsed = idx::parse_images(&encode_images(rows, cols, pixels), Path::new("x")).unwrap();
            prop_assert_eq!((parsed.count as usize, parsed.rows, parsed.cols), (n, rows, cols));
            prop_assert_eq!(parsed.pixels.as_slice(), pixels);
            let labels: Vec<u8> = raw.iter().map(|b| b % 10).collect();
            prop_assert_eq!(idx::parse_labels(&encode_labels(&labels), Path::new("y"), 9).unwrap(), labels);
        }
    }
}

#[test]
fn a_gzip_bomb_is_refused_at_the_limit() {
    let bomb = gzip(&vec![0u8; 3 << 20]);
    assert!(bomb.len() < 100_000, "3 MiB of zeros compress well");
    let e = idx::decompress_if_gz_limited(bomb.clone(), Path::new("bomb.gz"), 1 << 20)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bomb.gz") && e.contains("more than 1048576 bytes"),
        "{e}"
    );
    assert_eq!(
        idx::decompress_if_gz_limited(bomb, Path::new("ok.gz"), 4 << 20)
            .unwrap()
            .len(),
        3 << 20
    );
}
