//! pgl's CPU convolution kernels (`pgl_burn::kernels::conv2d`) against Burn's own `conv2d` on
//! the flex backend: forward alone, and forward + backward (input and weight gradients), for
//! convolutions the zoo trains at batch 128 — a 3×3 layer of the MNIST CNN and the CIFAR
//! ResNet's 3×3 layers (first stage, its stride-2 transition, last stage).
//!
//! Run: `cargo bench -p pgl-burn --bench conv` (part of `cargo xtask bench`).

mod common;

use common::{ConvCase, ConvFn};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pgl_burn::burn::prelude::*;
use pgl_burn::kernels;

const BATCH: usize = 128;

/// (name, input channels, image side, output channels, stride) of a 3×3 convolution with
/// padding 1.
const SHAPES: [(&str, usize, usize, usize, usize); 4] = [
    ("cnn-32x14-to-64", 32, 14, 64, 1),
    ("resnet-16x32-to-16", 16, 32, 16, 1),
    ("resnet-16x32-to-32-stride2", 16, 32, 32, 2),
    ("resnet-64x8-to-64", 64, 8, 64, 1),
];

fn convolutions(c: &mut Criterion) {
    let device = Device::flex().autodiff();
    device.seed(1);
    let implementations: [(&str, ConvFn); 2] = [
        ("pgl", kernels::conv2d),
        ("burn", pgl_burn::burn::tensor::module::conv2d),
    ];
    for (name, channels, side, out_channels, stride) in SHAPES {
        let mut group = c.benchmark_group(format!("conv2d/{name}"));
        group.throughput(Throughput::Elements(BATCH as u64));
        group.sample_size(10);
        let case = ConvCase::new([BATCH, channels, side, out_channels, stride], &device);
        for (implementation, conv) in implementations {
            group.bench_function(format!("{implementation}/forward"), |b| {
                b.iter(|| case.forward(conv))
            });
            group.bench_function(format!("{implementation}/forward-backward"), |b| {
                b.iter(|| case.forward_backward(conv))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, convolutions);
criterion_main!(benches);
