//! STL-10 images (column-major) and labels.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use pgl_data::stl10;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz");
    if let Ok(images) = stl10::parse_images(data, path) {
        assert_eq!(images.len(), data.len());
        assert_eq!(stl10::encode_images(&images), data, "transposition round-trips");
    }
    if let Ok(labels) = stl10::parse_labels(data, path) {
        assert!(labels.iter().all(|&l| l < 10));
    }
});
