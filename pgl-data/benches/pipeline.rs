//! The data pipeline: making CIFAR-shaped batches of 128 with and without augmentation (pad 4,
//! random crop and flip, then normalisation), and a whole 10 000-image epoch through the
//! background loader. Throughput is in images per second.
//!
//! Run: `cargo xtask bench` (or `cargo bench -p pgl-data --bench pipeline`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pgl_data::dataset::ImageShape;
use pgl_data::{Augment, EpochPlan, ImageDataset, SplitMix64, for_each_batch};

const IMAGES: usize = 10_000;
const BATCH: usize = 128;

fn cifar_shaped() -> ImageDataset {
    let mut rng = SplitMix64::new(1);
    let pixels: Vec<u8> = (0..IMAGES * 3072).map(|_| rng.next_u64() as u8).collect();
    let labels: Vec<u8> = (0..IMAGES).map(|i| (i % 10) as u8).collect();
    let shape = ImageShape {
        channels: 3,
        height: 32,
        width: 32,
    };
    ImageDataset::new(
        "cifar10",
        shape,
        10,
        255.0,
        vec![0.49, 0.48, 0.45],
        vec![0.25, 0.24, 0.26],
        pixels,
        labels,
    )
}

fn pipeline(c: &mut Criterion) {
    let data = cifar_shaped();
    let plan = EpochPlan::new(&data, BATCH, 7, 0, Some(Augment::CIFAR));
    let plain = EpochPlan::new(&data, BATCH, 7, 0, None);
    let mut group = c.benchmark_group("cifar-pipeline");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("batch128-augmented", |b| {
        b.iter(|| plan.make_batch(&data, 3))
    });
    group.bench_function("batch128-plain", |b| b.iter(|| plain.make_batch(&data, 3)));
    group.throughput(Throughput::Elements(IMAGES as u64));
    group.sample_size(10);
    group.bench_function("epoch10k-augmented-loader", |b| {
        b.iter(|| {
            for_each_batch(&data, &plan, 4, |_, batch| {
                Ok::<usize, ()>(batch.len()).map(|_| ())
            })
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
