//! SVHN's `.mat` files (MATLAB level 5, compressed or not) on files the tests write: images
//! and labels as SVHN stores them, label 10 → 0, the extra split, and clear refusals.

use std::path::Path;

use pgl_data::mat5::{MAX_FILE_BYTES, MatArray, MatData, read_arrays, write_arrays};
use pgl_data::svhn::{IMAGE_BYTES, encode_split, parse_split};
use pgl_data::{DataError, load_dataset};
use proptest::prelude::*;

/// `n` distinct row-major 3×32×32 images.
fn images(n: usize, salt: usize) -> Vec<u8> {
    (0..n * IMAGE_BYTES)
        .map(|p| ((p * 7 + p / IMAGE_BYTES * 31 + salt) % 256) as u8)
        .collect()
}

fn write_split(dir: &Path, name: &str, n: usize, salt: usize, compress: bool) -> Vec<u8> {
    let labels: Vec<u8> = (0..n).map(|i| ((i + salt) % 10) as u8).collect();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join(name),
        encode_split(&images(n, salt), &labels, compress),
    )
    .unwrap();
    labels
}

#[test]
fn svhn_loads_train_and_test_row_major_with_zero_for_ten() {
    for compress in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let train = write_split(tmp.path(), "train_32x32.mat", 12, 0, compress);
        let test = write_split(tmp.path(), "test_32x32.mat", 5, 3, compress);
        let splits = load_dataset("svhn", Some(tmp.path())).unwrap();
        assert_eq!(splits.train.len(), 12);
        assert_eq!(splits.test.len(), 5);
        assert_eq!(splits.train.labels(), &train[..]);
        assert_eq!(splits.test.labels(), &test[..]);
        assert_eq!(
            splits.train.image(4),
            &images(12, 0)[4 * IMAGE_BYTES..5 * IMAGE_BYTES]
        );
        assert_eq!(splits.train.num_classes, 10);
    }
}

#[test]
fn svhn_extra_adds_the_extra_images_to_training() {
    let tmp = tempfile::tempdir().unwrap();
    write_split(tmp.path(), "train_32x32.mat", 4, 0, true);
    let extra = write_split(tmp.path(), "extra_32x32.mat", 6, 1, true);
    write_split(tmp.path(), "test_32x32.mat", 2, 2, true);
    let splits = load_dataset("svhn-extra", Some(tmp.path())).unwrap();
    assert_eq!(splits.train.len(), 10);
    assert_eq!(&splits.train.labels()[4..], &extra[..]);
    assert_eq!(splits.train.image(4), &images(6, 1)[..IMAGE_BYTES]);
    // Without the extra file: an error naming it.
    std::fs::remove_file(tmp.path().join("extra_32x32.mat")).unwrap();
    let err = load_dataset("svhn-extra", Some(tmp.path())).unwrap_err();
    assert!(err.to_string().contains("extra_32x32.mat"), "{err}");
    assert_eq!(
        load_dataset("svhn", Some(tmp.path())).unwrap().train.len(),
        4
    );
}

/// SVHN's own `.mat` layout: `X` column-major 32×32×3×N, so pixel (row, col) of channel c of
/// image n is at `row + 32·col + 1024·c + 3072·n`.
#[test]
fn column_major_pixels_become_row_major() {
    let mut x = vec![0u8; IMAGE_BYTES];
    x[1 + 32 * 2 + 1024] = 200; // row 1, col 2, channel 1
    let arrays = [
        MatArray {
            name: "X".to_string(),
            dims: vec![32, 32, 3, 1],
            data: MatData::U8(x),
        },
        MatArray {
            name: "y".to_string(),
            dims: vec![1, 1],
            data: MatData::F64(vec![10.0]),
        },
    ];
    let (pixels, labels) = parse_split(&write_arrays(&arrays, false), Path::new("t.mat")).unwrap();
    assert_eq!(labels, [0]);
    assert_eq!(pixels[1024 + 32 + 2], 200);
    assert_eq!(pixels.iter().filter(|&&p| p != 0).count(), 1);
}

fn bad_file(bytes: &[u8]) -> String {
    parse_split(bytes, Path::new("bad.mat"))
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_files_are_refused_naming_the_file_and_what_was_expected() {
    let good = encode_split(&images(2, 0), &[1, 2], false);
    // Not a MAT-file, an HDF5 (v7.3) one, a big-endian one, a truncated one.
    assert!(bad_file(b"hello").contains("not a MATLAB 5 MAT-file"));
    let mut v73 = good.clone();
    v73[..10].copy_from_slice(b"MATLAB 7.3");
    assert!(bad_file(&v73).contains("save -v7"));
    let mut big = good.clone();
    big[126..128].copy_from_slice(b"MI");
    assert!(bad_file(&big).contains("big-endian"));
    let truncated = bad_file(&good[..good.len() - 100]);
    assert!(truncated.contains("bad.mat"), "{truncated}");
    // A missing variable, wrong image dimensions, a label out of range.
    let only_x = write_arrays(
        &[MatArray {
            name: "X".to_string(),
            dims: vec![32, 32, 3, 0],
            data: MatData::U8(vec![]),
        }],
        true,
    );
    assert!(bad_file(&only_x).contains("no variable `y`"));
    let wrong_dims = write_arrays(
        &[
            MatArray {
                name: "X".to_string(),
                dims: vec![28, 28, 1, 1],
                data: MatData::U8(vec![0; 784]),
            },
            MatArray {
                name: "y".to_string(),
                dims: vec![1, 1],
                data: MatData::F64(vec![1.0]),
            },
        ],
        false,
    );
    assert!(bad_file(&wrong_dims).contains("expected [32, 32, 3, N]"));
    let mut arrays = vec![
        MatArray {
            name: "X".to_string(),
            dims: vec![32, 32, 3, 1],
            data: MatData::U8(vec![0; IMAGE_BYTES]),
        },
        MatArray {
            name: "y".to_string(),
            dims: vec![1, 1],
            data: MatData::F64(vec![11.0]),
        },
    ];
    assert!(bad_file(&write_arrays(&arrays, true)).contains("label 11"));
    // Dimensions that disagree with the stored values.
    arrays[1].dims = vec![2, 1];
    assert!(
        bad_file(&write_arrays(&arrays, false))
            .contains("mean 2 values (8 bytes each) but 8 bytes")
    );
    // A compressed stream that is corrupt.
    let mut corrupt = encode_split(&images(1, 0), &[3], true);
    let at = corrupt.len() / 2;
    corrupt[at..at + 16].fill(0xAB);
    assert!(matches!(
        parse_split(&corrupt, Path::new("c.mat")),
        Err(DataError::Gzip { .. } | DataError::BadMat { .. })
    ));
    // The dataset folder without its files names the missing file.
    let tmp = tempfile::tempdir().unwrap();
    let err = load_dataset("svhn", Some(tmp.path())).unwrap_err();
    assert!(err.to_string().contains("train_32x32.mat"), "{err}");
}

#[test]
fn other_variables_and_numeric_storage_are_read() {
    // A variable the reader does not want is skipped; `y` stored as bytes reads the same.
    let arrays = [
        MatArray {
            name: "__notes".to_string(),
            dims: vec![1, 3],
            data: MatData::F64(vec![1.0, 2.0, 3.0]),
        },
        MatArray {
            name: "y".to_string(),
            dims: vec![3, 1],
            data: MatData::U8(vec![10, 1, 9]),
        },
    ];
    let read = read_arrays(&write_arrays(&arrays, true), Path::new("v.mat"), &["y"]).unwrap();
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].data, MatData::U8(vec![10, 1, 9]));
    assert_eq!(read[0].dims, [3, 1]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any bytes after a valid header: an error or arrays, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut bytes = encode_split(&images(1, 0), &[5], false)[..128].to_vec();
        bytes.extend(tail);
        let _ = parse_split(&bytes, Path::new("fuzz.mat"));
    }

    /// Writing then reading gives back the images and labels, compressed or not.
    #[test]
    fn round_trip(n in 1usize..4, salt in 0usize..50, compress in any::<bool>()) {
        let labels: Vec<u8> = (0..n).map(|i| ((i * 3 + salt) % 10) as u8).collect();
        let bytes = encode_split(&images(n, salt), &labels, compress);
        let (pixels, read) = parse_split(&bytes, Path::new("r.mat")).unwrap();
        prop_assert_eq!(pixels, images(n, salt));
        prop_assert_eq!(read, labels);
    }
}

/// Bytes laid out as MATLAB writes SVHN's files, by hand (not by pgl's writer): `y` of class
/// double stored as `miUINT8` (MATLAB's compact storage of whole numbers), names in the small
/// element format, `X` of class uint8, neither compressed.
#[test]
fn a_hand_laid_matlab_file_reads() {
    fn le(words: &[u32]) -> Vec<u8> {
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }
    fn padded(mut bytes: Vec<u8>) -> Vec<u8> {
        bytes.resize(bytes.len().div_ceil(8) * 8, 0);
        bytes
    }
    let mut file = b"MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: Mon Dec  7 2026".to_vec();
    file.resize(116, b' ');
    file.extend([0; 8]);
    file.extend([0x00, 0x01, b'I', b'M']);
    let matrix = |class: u32, dims: &[u32], name: u8, storage: u32, data: &[u8]| {
        let mut body = le(&[6, 8, class, 0]); // miUINT32 flags: class, nzmax
        body.extend(le(&[5, 4 * dims.len() as u32]));
        body.extend(padded(le(dims)));
        body.extend(le(&[(1 << 16) | 1])); // small miINT8 name of 1 byte
        body.extend([name, 0, 0, 0]);
        body.extend(le(&[storage, data.len() as u32]));
        body.extend(padded(data.to_vec()));
        let mut element = le(&[14, body.len() as u32]);
        element.extend(body);
        element
    };
    let mut x = vec![0u8; IMAGE_BYTES];
    x[3 + 32 * 5 + 2048] = 77; // row 3, col 5, channel 2
    file.extend(matrix(9, &[32, 32, 3, 1], b'X', 2, &x));
    file.extend(matrix(6, &[1, 1], b'y', 2, &[10]));
    let (pixels, labels) = parse_split(&file, Path::new("hand.mat")).unwrap();
    assert_eq!(labels, [0]);
    assert_eq!(pixels[2048 + 3 * 32 + 5], 77);
}

#[test]
fn a_file_over_the_limit_is_refused_before_it_is_read() {
    // A sparse file: its size is checked before a byte is read.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("huge.mat");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(MAX_FILE_BYTES + 1)
        .unwrap();
    let err = pgl_data::mat5::read_file(&path).unwrap_err().to_string();
    assert!(err.contains("huge.mat") && err.contains("limit"), "{err}");
}
