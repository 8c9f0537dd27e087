//! A local step's peak memory comes from one module and its head at a time, not from all K
//! graphs at once; a global step with micro-batches or with module-boundary checkpointing
//! stays well under a plain global step. This test binary holds a single test: the counting
//! allocator sees every allocation of the process, so nothing else may run beside it.

use pgl_burn::activation::batch_tensors;
use pgl_burn::burn::prelude::*;
use pgl_burn::memory::{CountingAllocator, MemoryProbe};
use pgl_burn::{DecoupledModel, TrainSettings, Trainer};
use pgl_core::{GuidanceConfig, ObjectiveConfig};
use pgl_core::{RunConfig, ScheduleRegistry, SplitPlan, StepKind};
use pgl_data::ImageShape;
use pgl_data::synthetic::random_images;
use pgl_models::heads::AuxHead;
use pgl_models::layer::{FeatureShape, conv_bn_relu};
use pgl_models::net::{Block, DecoupledNet};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::new();

/// Eight identical conv blocks (16 → 16 channels at 16×16) cut into 4 equal modules with
/// `0c1f` heads.
fn equal_modules(device: &Device) -> DecoupledNet {
    let mut shape = FeatureShape::Spatial {
        channels: 16,
        height: 16,
        width: 16,
    };
    let blocks = (0..8)
        .map(|_| {
            let (layers, output) = conv_bn_relu(shape, 16, 1, device);
            shape = output;
            Block { layers, output }
        })
        .collect();
    let model =
        DecoupledNet::try_from_blocks(blocks, &SplitPlan::even(8, 4).unwrap(), |features, _| {
            AuxHead::ZeroConvOneFc.build(features, 10, device)
        })
        .unwrap();
    pgl_burn::model::initialize_now(&model);
    model
}

fn peak_of(
    trainer: &mut Trainer<DecoupledNet>,
    kind: StepKind,
    batch: &pgl_data::Batch,
    device: &Device,
) -> u64 {
    let (images, labels) = batch_tensors(batch, device);
    ALLOC.begin();
    trainer.step(kind, images, labels).unwrap();
    ALLOC.peak()
}

#[test]
fn a_local_step_needs_well_under_the_memory_of_a_global_step() {
    let device = Device::flex().autodiff();
    device.seed(1);
    let model = equal_modules(&device);
    assert_eq!(model.num_modules(), 4);
    let sizes: Vec<usize> = (0..4).map(|k| model.module_num_params(k)).collect();
    assert!(
        sizes.windows(2).all(|w| w[0] == w[1]),
        "modules are equal: {sizes:?}"
    );

    // 64 seeded random 16-channel 16×16 "images": the blocks' input.
    let n = 64;
    let data = random_images(ImageShape::new(16, 16, 16), 10, n, 2);
    let batch = data.batch(&(0..n).collect::<Vec<_>>());

    let trainer_with = |config: RunConfig, model: DecoupledNet| {
        let schedule = ScheduleRegistry::with_builtins()
            .build("local-only")
            .unwrap();
        let settings = TrainSettings::from_config(&config).unwrap();
        Trainer::new(model, schedule, settings, &device).unwrap()
    };
    let mut trainer = trainer_with(
        RunConfig {
            objective: ObjectiveConfig {
                local_objective: "ce".to_string(),
            },
            ..RunConfig::default()
        },
        model,
    );
    // One step of each kind first: the optimizers create their state on first use.
    peak_of(&mut trainer, StepKind::Local, &batch, &device);
    peak_of(&mut trainer, StepKind::Global, &batch, &device);
    let local = (0..3)
        .map(|_| peak_of(&mut trainer, StepKind::Local, &batch, &device))
        .max()
        .unwrap();
    let global = (0..3)
        .map(|_| peak_of(&mut trainer, StepKind::Global, &batch, &device))
        .max()
        .unwrap();
    println!("local step peak {local} bytes, global step peak {global} bytes");
    assert!(
        global > 1_000_000,
        "the global step must allocate its activations: {global}"
    );
    assert!(
        (local as f64) < 0.6 * global as f64,
        "local-step peak {local} is not under 0.6 x global-step peak {global}"
    );

    for (name, config) in [
        (
            "4 micro-batches",
            RunConfig {
                guidance: GuidanceConfig {
                    global_microbatch: Some(4),
                    ..Default::default()
                },
                objective: ObjectiveConfig {
                    local_objective: "ce".to_string(),
                },
                ..RunConfig::default()
            },
        ),
        (
            "checkpointing",
            RunConfig {
                guidance: GuidanceConfig {
                    global_checkpointing: true,
                    ..Default::default()
                },
                objective: ObjectiveConfig {
                    local_objective: "ce".to_string(),
                },
                ..RunConfig::default()
            },
        ),
    ] {
        device.seed(1);
        let mut bounded = trainer_with(config, equal_modules(&device));
        peak_of(&mut bounded, StepKind::Global, &batch, &device);
        let peak = (0..3)
            .map(|_| peak_of(&mut bounded, StepKind::Global, &batch, &device))
            .max()
            .unwrap();
        println!("global step with {name}: peak {peak} bytes");
        assert!(
            (peak as f64) < 0.75 * global as f64,
            "global step with {name}: peak {peak} is not under 0.75 x plain global-step peak {global}"
        );
    }
}
