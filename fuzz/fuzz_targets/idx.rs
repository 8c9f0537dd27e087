//! IDX images and labels, raw or gzip (with a 16 MiB decompression cap), and the digits CSV.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use pgl_data::{digits, idx};

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz");
    if let Ok(bytes) = idx::decompress_if_gz_limited(data.to_vec(), path, 16 << 20) {
        if let Ok(images) = idx::parse_images(&bytes, path) {
            assert_eq!(images.pixels.len() as u64, u64::from(images.count) * u64::from(images.rows) * u64::from(images.cols));
        }
        if let Ok(labels) = idx::parse_labels(&bytes, path, 9) {
            assert!(labels.iter().all(|&l| l <= 9));
        }
    }
    let _ = digits::parse_digits_csv(data, path);
});
