//! How close pgl's convolutions come to what this CPU can do (issue 20, item 1): the machine's
//! limits — f32 FMA throughput (a register-only FMA loop, 8-wide and, where the CPU has it,
//! 16-wide AVX-512, and the `gemm` crate pgl's kernels call at a large square shape) and memory bandwidth (a STREAM-style triad) — on one thread and
//! on every core, then every 3×3 convolution shape of the MNIST CNN and of CIFAR ResNet-32 at
//! batch 128 through pgl's kernels, forward and forward + backward.
//!
//! Every group's throughput is in floating-point operations (criterion's "elem/s" is FLOP/s)
//! or bytes, so the figures are directly comparable: `docs/perf.md` ("The machine's limit")
//! puts them in one roofline table with PyTorch's (`bench/torch_conv_shapes.py`).
//!
//! Run: `cargo bench -p pgl-burn --bench roofline` (part of `cargo xtask bench`);
//! `RAYON_NUM_THREADS=1` for the convolutions on one thread.

mod common;

use std::hint::black_box;

use common::ConvCase;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pgl_burn::burn::prelude::*;
use pgl_burn::kernels;
use rayon::prelude::*;

const BATCH: usize = 128;

/// Independent accumulators of the FMA loop: enough to hide the FMA latency (4–5 cycles) on
/// two FMA pipes.
const ACCUMULATORS: usize = 12;

/// FMA iterations per call of the peak loop.
const FMA_ITERATIONS: u64 = 1 << 20;

/// `(model, input channels, image side, output channels, stride)` of every distinct 3×3
/// convolution (padding 1) of the MNIST CNN (28×28) and of CIFAR ResNet-32 (32×32).
const SHAPES: [(&str, usize, usize, usize, usize); 14] = [
    ("cnn", 1, 28, 16, 1),
    ("cnn", 16, 28, 16, 2),
    ("cnn", 16, 14, 32, 1),
    ("cnn", 32, 14, 32, 2),
    ("cnn", 32, 7, 64, 1),
    ("cnn", 64, 7, 64, 1),
    ("cnn", 64, 7, 64, 2),
    ("cnn", 64, 4, 64, 1),
    ("resnet32", 3, 32, 16, 1),
    ("resnet32", 16, 32, 16, 1),
    ("resnet32", 16, 32, 32, 2),
    ("resnet32", 32, 16, 32, 1),
    ("resnet32", 32, 16, 64, 2),
    ("resnet32", 64, 8, 64, 1),
];

/// The register-only FMA loop: `ACCUMULATORS` chains of 8-wide FMAs, `iterations` times.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn fma_loop_avx2(iterations: u64) -> f32 {
    use std::arch::x86_64::*;
    let mut acc = [_mm256_set1_ps(0.0); ACCUMULATORS];
    let scale = _mm256_set1_ps(0.999_999);
    let shift = _mm256_set1_ps(1e-7);
    for _ in 0..iterations {
        for a in &mut acc {
            *a = _mm256_fmadd_ps(*a, scale, shift);
        }
    }
    let mut lanes = [0.0f32; 8];
    let mut sum = _mm256_set1_ps(0.0);
    for a in acc {
        sum = _mm256_add_ps(sum, a);
    }
    // SAFETY: `lanes` holds exactly the 8 floats an unaligned 256-bit store writes.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
    lanes.iter().sum()
}

/// The register-only FMA loop with 16-wide (AVX-512) FMAs: where the CPU has AVX-512 (oneDNN,
/// hence PyTorch, uses it), this is the peak; pgl's kernels (the `gemm` crate) use AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn fma_loop_avx512(iterations: u64) -> f32 {
    use std::arch::x86_64::*;
    let mut acc = [_mm512_set1_ps(0.0); ACCUMULATORS];
    let scale = _mm512_set1_ps(0.999_999);
    let shift = _mm512_set1_ps(1e-7);
    for _ in 0..iterations {
        for a in &mut acc {
            *a = _mm512_fmadd_ps(*a, scale, shift);
        }
    }
    let mut sum = _mm512_set1_ps(0.0);
    for a in acc {
        sum = _mm512_add_ps(sum, a);
    }
    _mm512_reduce_add_ps(sum)
}

/// The FMA loop in portable code (8 lanes per accumulator), where AVX2 is missing.
fn fma_loop_portable(iterations: u64) -> f32 {
    let mut acc = [[0.0f32; 8]; ACCUMULATORS];
    for _ in 0..iterations {
        for a in &mut acc {
            for lane in a.iter_mut() {
                *lane = lane.mul_add(0.999_999, 1e-7);
            }
        }
    }
    acc.iter().flatten().sum()
}

/// One call of the FMA loop on this thread; the floating-point operations it did.
fn fma_loop() -> (f32, u64) {
    let flops = FMA_ITERATIONS * ACCUMULATORS as u64 * 8 * 2;
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA (checked just above).
        return (unsafe { fma_loop_avx2(FMA_ITERATIONS) }, flops);
    }
    (fma_loop_portable(FMA_ITERATIONS), flops)
}

/// `dst = lhs · rhs` for square `n × n` row-major matrices through the `gemm` crate (what pgl's
/// convolution kernels call), on one thread or on rayon's pool.
fn square_gemm(dst: &mut [f32], lhs: &[f32], rhs: &[f32], n: usize, threads: usize) {
    assert!(dst.len() == n * n && lhs.len() == n * n && rhs.len() == n * n);
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the assert bounds every element read (lhs, rhs) and written (dst) to its n×n
    // slice; dst is borrowed mutably, so nothing overlaps it.
    unsafe {
        gemm::gemm(
            n,
            n,
            n,
            dst.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs.as_ptr(),
            1,
            n as isize,
            rhs.as_ptr(),
            1,
            n as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// STREAM's triad `a = b + s·c` over `a.len()` floats, in `parts` pieces on rayon's pool.
fn triad(a: &mut [f32], b: &[f32], c: &[f32], parts: usize) {
    let chunk = a.len().div_ceil(parts);
    a.par_chunks_mut(chunk)
        .zip(b.par_chunks(chunk))
        .zip(c.par_chunks(chunk))
        .for_each(|((a, b), c)| {
            for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
                *a = b + 3.0 * c;
            }
        });
}

fn machine_limits(c: &mut Criterion) {
    // One thread, then every thread of rayon's pool (once, where that is one).
    let cores = rayon::current_num_threads();
    let thread_counts: Vec<usize> = if cores > 1 { vec![1, cores] } else { vec![1] };
    let mut group = c.benchmark_group("peak");
    group.sample_size(10);
    let (_, flops) = fma_loop();
    for &threads in &thread_counts {
        group.throughput(Throughput::Elements(flops * threads as u64));
        group.bench_function(format!("fma-loop/{threads}-threads"), |b| {
            b.iter(|| {
                (0..threads)
                    .into_par_iter()
                    .map(|_| fma_loop().0)
                    .sum::<f32>()
            })
        });
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        for &threads in &thread_counts {
            group.throughput(Throughput::Elements(2 * flops * threads as u64));
            group.bench_function(format!("fma-loop-avx512/{threads}-threads"), |b| {
                b.iter(|| {
                    // SAFETY: the CPU has AVX-512F (checked above).
                    let one = || unsafe { fma_loop_avx512(FMA_ITERATIONS) };
                    (0..threads).into_par_iter().map(|_| one()).sum::<f32>()
                })
            });
        }
    }
    let n = 1024;
    let lhs: Vec<f32> = (0..n * n).map(|i| (i % 7) as f32 * 0.1).collect();
    let rhs: Vec<f32> = (0..n * n).map(|i| (i % 5) as f32 * 0.1).collect();
    let mut dst = vec![0.0f32; n * n];
    group.throughput(Throughput::Elements(2 * (n * n * n) as u64));
    for &threads in &thread_counts {
        group.bench_function(format!("gemm-{n}/{threads}-threads"), |b| {
            b.iter(|| square_gemm(black_box(&mut dst), &lhs, &rhs, n, threads))
        });
    }
    // 3 arrays of 32 MiB: far beyond any cache.
    let len = 8 << 20;
    let (x, y) = (vec![1.0f32; len], vec![2.0f32; len]);
    let mut out = vec![0.0f32; len];
    group.throughput(Throughput::Bytes(3 * 4 * len as u64));
    for &threads in &thread_counts {
        group.bench_function(format!("triad/{threads}-threads"), |b| {
            b.iter(|| triad(black_box(&mut out), &x, &y, threads))
        });
    }
    group.finish();
}

/// Floating-point operations of one forward pass of a 3×3 convolution at batch `BATCH`.
fn conv_flops(channels: usize, side: usize, out_channels: usize, stride: usize) -> u64 {
    let out_side = (side + 2 - 3) / stride + 1;
    (2 * BATCH * out_channels * out_side * out_side * channels * 9) as u64
}

fn convolutions(c: &mut Criterion) {
    let device = Device::flex().autodiff();
    device.seed(1);
    for (model, channels, side, out_channels, stride) in SHAPES {
        let name = format!("roofline-conv/{model}-{channels}x{side}-to-{out_channels}-s{stride}");
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        let forward = conv_flops(channels, side, out_channels, stride);
        let case = ConvCase::new([BATCH, channels, side, out_channels, stride], &device);
        group.throughput(Throughput::Elements(forward));
        group.bench_function("pgl/forward", |b| b.iter(|| case.forward(kernels::conv2d)));
        // The backward pass computes the input and the weight gradient: twice the forward's
        // operations.
        group.throughput(Throughput::Elements(3 * forward));
        group.bench_function("pgl/forward-backward", |b| {
            b.iter(|| case.forward_backward(kernels::conv2d))
        });
        group.finish();
    }
}

criterion_group!(benches, machine_limits, convolutions);
criterion_main!(benches);
