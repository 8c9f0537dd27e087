//! CIFAR-10 and CIFAR-100 binary records.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use pgl_data::cifar::{self, Cifar100Label};

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz");
    if let Ok((pixels, labels)) = cifar::parse_cifar10(data, path) {
        assert_eq!(pixels.len(), labels.len() * cifar::IMAGE_BYTES);
        assert!(labels.iter().all(|&l| l < 10));
    }
    for label in [Cifar100Label::Fine, Cifar100Label::Coarse] {
        if let Ok((pixels, labels)) = cifar::parse_cifar100(data, path, label) {
            assert_eq!(pixels.len(), labels.len() * cifar::IMAGE_BYTES);
        }
    }
});
