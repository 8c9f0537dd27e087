//! SVHN's MATLAB files: any bytes parse or fail (never panic, never allocate without bound);
//! a leading 0 byte instead encodes the rest as images and labels and checks the round trip.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use pgl_data::svhn::{IMAGE_BYTES, encode_split, parse_split};

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz");
    if let Some((0, rest)) = data.split_first() {
        let n = rest.len() / (IMAGE_BYTES + 1);
        if n == 0 {
            return; // an SVHN file holds at least one image (no labels is an error)
        }
        let (labels, pixels) = rest.split_at(n);
        let labels: Vec<u8> = labels.iter().map(|l| l % 10).collect();
        let pixels = &pixels[..n * IMAGE_BYTES];
        for compress in [false, true] {
            let file = encode_split(pixels, &labels, compress);
            let (read_pixels, read_labels) = parse_split(&file, path).expect("a valid file");
            assert_eq!(read_pixels, pixels);
            assert_eq!(read_labels, labels);
        }
        return;
    }
    if let Ok((pixels, labels)) = parse_split(data, path) {
        assert_eq!(pixels.len(), labels.len() * IMAGE_BYTES);
        assert!(labels.iter().all(|&l| l < 10));
    }
});
