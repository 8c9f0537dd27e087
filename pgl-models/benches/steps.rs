//! One local step and one global step of the MNIST CNN (K = 4, batch 128) on the CPU backend.
//!
//! Run: `cargo xtask bench` (or `cargo bench -p pgl-models --bench steps`). Reads MNIST from
//! `$PGL_DATA_DIR/mnist` (default `../shared/data/mnist`). Every timed step ends by reading
//! its losses back to the host, which synchronises the device.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pgl_burn::Trainer;
use pgl_burn::activation::batch_tensors;
use pgl_burn::burn::prelude::*;
use pgl_core::{RunConfig, ScheduleRegistry, StepKind};
use pgl_data::{DatasetKind, load_dataset};
use pgl_models::{ModelInput, ModelOptions, build_model};

const BATCH: usize = 128;
const MODULES: usize = 4;

fn steps(c: &mut Criterion) {
    let root = pgl_data::data_root_or(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"));
    let data = load_dataset(DatasetKind::Mnist, Some(&root.join("mnist")))
        .expect("MNIST in $PGL_DATA_DIR/mnist");
    let batch = data.train.batch(&(0..BATCH).collect::<Vec<_>>());
    let device = Device::flex().autodiff();
    device.seed(1);
    let input = ModelInput {
        channels: 1,
        height: 28,
        width: 28,
        classes: 10,
    };
    let model = build_model("cnn", input, &ModelOptions::even(MODULES), &device).unwrap();
    let config = RunConfig {
        batch_size: BATCH,
        modules: MODULES,
        ..RunConfig::default()
    };
    let schedule = ScheduleRegistry::with_builtins()
        .build("local-only")
        .unwrap();
    let mut trainer = Trainer::new(model, &config, schedule, &device);

    let mut group = c.benchmark_group("mnist-cnn-k4-b128");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    for kind in [StepKind::Local, StepKind::Global] {
        group.bench_function(format!("{kind}-step"), |b| {
            b.iter(|| {
                let (images, labels) = batch_tensors(&batch, &device);
                trainer.step(kind, images, labels)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, steps);
criterion_main!(benches);
