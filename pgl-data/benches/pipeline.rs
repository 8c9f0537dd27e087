//! The data pipeline: making CIFAR-shaped batches of 128 (seeded random pixels from
//! `pgl_data::synthetic`) with and without augmentation (pad 4, random crop and flip, then
//! normalisation), and a whole 10 000-image epoch through the background loader. Throughput
//! is in images per second.
//!
//! Run: `cargo xtask bench` (or `cargo bench -p pgl-data --bench pipeline`).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pgl_data::synthetic::random_images;
use pgl_data::{Augment, EpochPlan, ImageShape, for_each_batch};

const IMAGES: usize = 10_000;
const BATCH: usize = 128;

fn pipeline(c: &mut Criterion) {
    let data = random_images(ImageShape::new(3, 32, 32), 10, IMAGES, 1);
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
