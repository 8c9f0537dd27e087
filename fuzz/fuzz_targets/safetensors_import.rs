//! Safetensors import (`pgl train --init-from FILE.safetensors`): any file gives a model or
//! an error naming the file, never a panic, and a model it gives holds no NaN, infinity or
//! negative BatchNorm variance. The model is a small Linear + BatchNorm network, named in the
//! file as pgl names it (`linear.weight`, `norm.running_var`, ...).
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use pgl_burn::burn; // the `Module` derive names `burn::`
use pgl_burn::burn::module::Module;
use pgl_burn::burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use pgl_burn::burn::prelude::Device;
use pgl_burn::export::{import_safetensors, read_index};
use pgl_burn::inspect::broken_tensors;

#[derive(Module, Debug)]
struct Tiny {
    linear: Linear,
    norm: BatchNorm,
}

fuzz_target!(|data: &[u8]| {
    thread_local! {
        static FILE: PathBuf = std::env::temp_dir()
            .join(format!("pgl-fuzz-{}.safetensors", std::process::id()));
    }
    FILE.with(|path| {
        std::fs::write(path, data).expect("a temporary file");
        let _ = read_index(path);
        let device = Device::flex();
        let model = Tiny {
            linear: LinearConfig::new(2, 3).init(&device),
            norm: BatchNormConfig::new(3).init(&device),
        };
        if let Ok((model, _)) = import_safetensors(model, path, &[]) {
            let broken = broken_tensors(&model);
            assert!(broken.is_empty(), "imported {broken:?}");
        }
    });
});
