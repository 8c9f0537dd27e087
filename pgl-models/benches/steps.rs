//! One local step and one global step on the CPU backend, batch 128:
//! - the MNIST CNN with K = 4 (real MNIST images from `$PGL_DATA_DIR/mnist`, default
//!   `../shared/data/mnist`);
//! - CIFAR ResNet-32 with K = 16 (InfoPro split, `1c2f` heads) on a CIFAR-shaped batch of
//!   seeded random pixels (CIFAR-10 itself is not available here; timing does not depend on
//!   pixel values).
//!
//! - pipelined against sequential local steps: one epoch of 8 batches of 128 MNIST images
//!   (CNN, K = 4) and of 4 batches of 128 CIFAR-shaped images (ResNet-32, K = 16), local-only,
//!   with 2 pipeline workers.
//!
//! Run: `cargo xtask bench` (or `cargo bench -p pgl-models --bench steps`). Every timed step
//! ends by reading its losses back to the host, which synchronises the device.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pgl_burn::activation::batch_tensors;
use pgl_burn::burn::prelude::*;
use pgl_burn::{TrainSettings, Trainer};
use pgl_core::{ObjectiveConfig, TrainingConfig};
use pgl_core::{RunConfig, ScheduleRegistry, StepKind};
use pgl_data::synthetic::random_images;
use pgl_data::{Batch, ImageDataset, ImageShape, load_dataset};
use pgl_models::testing::resnet32_infopro_k16;
use pgl_models::{ModelInput, ModelOptions, build_model};

const BATCH: usize = 128;
const MODULES: usize = 4;
/// CIFAR's image shape, for the seeded random (`pgl_data::synthetic`) CIFAR-shaped data.
const CIFAR_SHAPE: ImageShape = ImageShape::new(3, 32, 32);

fn bench_steps(
    c: &mut Criterion,
    group_name: &str,
    model: pgl_models::DecoupledNet,
    batch: &Batch,
    device: &Device,
) {
    let config = RunConfig {
        training: TrainingConfig {
            batch_size: batch.len(),
            ..Default::default()
        },
        objective: ObjectiveConfig {
            local_objective: "ce".to_string(),
        },
        ..RunConfig::default()
    };
    let schedule = ScheduleRegistry::with_builtins()
        .build("local-only")
        .unwrap();
    let settings = TrainSettings::from_config(&config).unwrap();
    let mut trainer = Trainer::new(model, schedule, settings, device).unwrap();
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(batch.len() as u64));
    group.sample_size(10);
    for kind in [StepKind::Local, StepKind::Global] {
        group.bench_function(format!("{kind}-step"), |b| {
            b.iter(|| {
                let (images, labels) = batch_tensors(batch, device);
                trainer.step(kind, images, labels).unwrap()
            })
        });
    }
    group.finish();
}

fn mnist_cnn(c: &mut Criterion) {
    let root = pgl_data::data_root_or(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"));
    let data =
        load_dataset("mnist", Some(&root.join("mnist"))).expect("MNIST in $PGL_DATA_DIR/mnist");
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
    bench_steps(c, "mnist-cnn-k4-b128", model, &batch, &device);
}

fn cifar_resnet32(c: &mut Criterion) {
    let data = random_images(CIFAR_SHAPE, 10, BATCH, 3);
    let batch = data.batch(&(0..BATCH).collect::<Vec<_>>());
    let device = Device::flex().autodiff();
    let model = resnet32_infopro_k16(1, &device);
    bench_steps(c, "cifar-resnet32-k16-b128", model, &batch, &device);
}

/// Times one local-only epoch over `train`, sequential and with a 2-worker pipeline.
fn bench_pipeline(
    c: &mut Criterion,
    group_name: &str,
    build: &dyn Fn(&Device) -> pgl_models::DecoupledNet,
    train: ImageDataset,
) {
    let test = train.clone().truncated(1);
    let data = pgl_data::DatasetSplits { train, test };
    let device = Device::flex().autodiff();
    let config = RunConfig {
        training: TrainingConfig {
            batch_size: BATCH,
            epochs: u64::MAX,
            ..Default::default()
        },
        objective: ObjectiveConfig {
            local_objective: "ce".to_string(),
        },
        ..RunConfig::default()
    };
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Elements(data.train.len() as u64));
    group.sample_size(10);
    for workers in [None, Some(2)] {
        let schedule = ScheduleRegistry::with_builtins()
            .build("local-only")
            .unwrap();
        let settings = TrainSettings::from_config(&config)
            .unwrap()
            .with_pipeline(workers);
        let mut trainer = Trainer::new(build(&device), schedule, settings, &device).unwrap();
        // One epoch first: the pipeline measures module costs on its first local steps.
        trainer.train_epoch(&data, &mut pgl_core::NullSink).unwrap();
        let name = match workers {
            None => "epoch-sequential".to_string(),
            Some(w) => format!("epoch-pipelined-{w}"),
        };
        group.bench_function(name, |b| {
            b.iter(|| trainer.train_epoch(&data, &mut pgl_core::NullSink).unwrap())
        });
    }
    group.finish();
}

fn pipelines(c: &mut Criterion) {
    let root = pgl_data::data_root_or(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"));
    let mnist =
        load_dataset("mnist", Some(&root.join("mnist"))).expect("MNIST in $PGL_DATA_DIR/mnist");
    let cnn = |device: &Device| {
        let input = ModelInput {
            channels: 1,
            height: 28,
            width: 28,
            classes: 10,
        };
        build_model("cnn", input, &ModelOptions::even(MODULES), device).unwrap()
    };
    bench_pipeline(
        c,
        "pipeline-mnist-cnn-k4-b128",
        &cnn,
        mnist.train.truncated(8 * BATCH),
    );

    let cifar = random_images(CIFAR_SHAPE, 10, 4 * BATCH, 3);
    let resnet = |device: &Device| resnet32_infopro_k16(1, device);
    bench_pipeline(c, "pipeline-cifar-resnet32-k16-b128", &resnet, cifar);
}

criterion_group!(benches, mnist_cnn, cifar_resnet32, pipelines);
criterion_main!(benches);
