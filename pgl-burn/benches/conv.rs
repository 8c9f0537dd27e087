//! pgl's CPU convolution kernels (`pgl_burn::kernels::conv2d`) against Burn's own `conv2d` on
//! the flex backend: forward alone, and forward + backward (input and weight gradients), for
//! convolutions the zoo trains at batch 128 — a 3×3 layer of the MNIST CNN and the CIFAR
//! ResNet's 3×3 layers (first stage, its stride-2 transition, last stage).
//!
//! Run: `cargo bench -p pgl-burn --bench conv` (part of `cargo xtask bench`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pgl_burn::burn::prelude::*;
use pgl_burn::burn::tensor::Distribution;
use pgl_burn::burn::tensor::ops::ConvOptions;
use pgl_burn::kernels;

const BATCH: usize = 128;

type ConvFn = fn(Tensor<4>, Tensor<4>, Option<Tensor<1>>, ConvOptions<2>) -> Tensor<4>;

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
        let x = Tensor::<4>::random(
            [BATCH, channels, side, side],
            Distribution::Normal(0.0, 1.0),
            &device,
        );
        let weight = Tensor::<4>::random(
            [out_channels, channels, 3, 3],
            Distribution::Normal(0.0, 0.1),
            &device,
        )
        .require_grad();
        let options = || ConvOptions::new([stride, stride], [1, 1], [1, 1], 1);
        for (implementation, conv) in implementations {
            group.bench_function(format!("{implementation}/forward"), |b| {
                b.iter(|| {
                    conv(x.clone().inner(), weight.clone().inner(), None, options()).into_data()
                })
            });
            group.bench_function(format!("{implementation}/forward-backward"), |b| {
                b.iter(|| {
                    let x = x.clone().require_grad();
                    let grads = conv(x.clone(), weight.clone(), None, options())
                        .sum()
                        .backward();
                    let x_grad = x.grad(&grads).unwrap().into_data();
                    (x_grad, weight.grad(&grads).unwrap().into_data())
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, convolutions);
criterion_main!(benches);
