//! AugLocal's heads (`aug1`, `aug3`, `aug5`): their depth, the blocks they copy, and that
//! they run on the zoo's networks (plain, residual and flat blocks).

use pgl_burn::burn::prelude::*;
use pgl_burn::{Activation, DecoupledModel};
use pgl_models::heads::auglocal::{AUG1, AUG3, AUG5, pyramid_depth, sampled_blocks};
use pgl_models::heads::{HeadSite, LaterBlock};
use pgl_models::{
    AuxHead, DecoupledNet, FeatureShape, Layer, ModelCatalog, ModelInput, ModelOptions, SplitKind,
};

#[test]
fn pyramid_depth_is_auglocal_s_formula_rounded_half_to_even() {
    // Computed with AugLocal's expression in Python (`round` rounds half to even).
    let depths = |depth, modules| -> Vec<usize> {
        (0..modules - 1)
            .map(|k| pyramid_depth(depth, k, modules))
            .collect()
    };
    assert_eq!(depths(3, 8), [3, 3, 3, 2, 2, 2, 2]);
    assert_eq!(depths(5, 16), [5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3]);
    assert_eq!(depths(3, 16), [3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2]);
    assert!(depths(1, 16).iter().all(|&d| d == 1));
    assert_eq!(pyramid_depth(3, 0, 2), 3);
}

fn spatial(channels: usize, side: usize) -> FeatureShape {
    FeatureShape::Spatial {
        channels,
        height: side,
        width: side,
    }
}

#[test]
fn sampled_blocks_are_spread_uniformly_and_end_at_the_last_block() {
    let later = vec![
        LaterBlock {
            output: spatial(16, 8),
            residual: true,
        };
        15
    ];
    // ResNet-32's 16 split units; AugLocal's indices are round(l + (n − l − 1) / d · i).
    let site = |last_block: usize| HeadSite {
        features: spatial(16, 8),
        module: 0,
        modules: 16,
        last_block,
        later: &later[last_block..],
    };
    let global = |last_block: usize, depth: usize| -> Vec<usize> {
        sampled_blocks(&site(last_block), depth)
            .into_iter()
            .map(|i| i + last_block + 1)
            .collect()
    };
    assert_eq!(global(0, 3), [5, 10, 15]);
    assert_eq!(global(10, 3), [12, 13, 15]);
    assert_eq!(global(12, 3), [13, 14, 15]);
    assert_eq!(global(3, 5), [5, 8, 10, 13, 15]);
    assert!(sampled_blocks(&HeadSite::detached(spatial(16, 8)), 3).is_empty());
}

fn build(model: &str, input: ModelInput, options: &ModelOptions) -> DecoupledNet {
    let device = Device::flex();
    ModelCatalog::with_builtins()
        .build(model, input, options, 3, &device)
        .unwrap_or_else(|e| panic!("{model}: {e}"))
}

fn count(layers: &[Layer], kind: fn(&Layer) -> bool) -> usize {
    layers.iter().filter(|l| kind(l)).count()
}

/// Runs every module and head on a batch of 2 and checks each head gives `[2, classes]`.
///
/// The input is a fixed pattern, not random: Burn's generator is process-wide, and a draw
/// here, concurrent with another test's seeded initialisation (`initialize_seeded`), would
/// change that test's initial weights.
fn assert_heads_run(net: &DecoupledNet, input: ModelInput) {
    let device = Device::flex();
    let shape = [2, input.channels, input.height, input.width];
    let values: Vec<f32> = (0..shape.iter().product::<usize>())
        .map(|i| (i % 7) as f32 - 3.0)
        .collect();
    let x = Tensor::<4>::from_data(
        pgl_burn::burn::tensor::TensorData::new(values, shape),
        &device,
    );
    let mut features = Activation::Spatial(x);
    for k in 0..net.num_modules() {
        features = net.forward_module(k, features);
        let logits = net.head(k, features.clone());
        assert_eq!(logits.dims(), [2, input.classes], "head {k}");
    }
}

fn with_head(modules: usize, head: AuxHead) -> ModelOptions {
    ModelOptions {
        aux_head: Some(head),
        ..ModelOptions::even(modules)
    }
}

#[test]
fn cnn_heads_copy_plain_conv_blocks_fewer_near_the_top() {
    let input = ModelInput::new(1, 28, 28, 10);
    let net = build("cnn", input, &with_head(8, AUG3));
    let convs: Vec<usize> = net.stages[..7]
        .iter()
        .map(|s| count(&s.head, |l| matches!(l, Layer::Conv(_))))
        .collect();
    // Depth 3,3,3,2,2,2,2 capped by the blocks left (7 − k).
    assert_eq!(convs, [3, 3, 3, 2, 2, 2, 1]);
    // Batch norm before the linear layer only where the (pyramid) depth is ≤ 1, as AugLocal
    // decides it: module 6's depth is 2 even though one block is left to copy.
    let before_linear = |net: &DecoupledNet, k: usize| {
        let head = &net.stages[k].head;
        matches!(head[head.len() - 2], Layer::Norm(_))
    };
    assert!(!before_linear(&net, 6));
    assert_heads_run(&net, input);

    let one = build("cnn", input, &with_head(8, AUG1));
    assert!(
        one.stages[..7]
            .iter()
            .all(|s| count(&s.head, |l| matches!(l, Layer::Conv(_))) == 1)
    );
    assert!((0..7).all(|k| before_linear(&one, k)));
    assert_heads_run(&one, input);
}

#[test]
fn resnet_heads_copy_residual_blocks() {
    let input = ModelInput::new(1, 16, 16, 10);
    let options = ModelOptions {
        split: SplitKind::InfoPro,
        ..with_head(16, AUG5)
    };
    let net = build("resnet32", input, &options);
    let basics = count(&net.stages[0].head, |l| matches!(l, Layer::Basic(_)));
    assert_eq!(basics, 5);
    assert_eq!(
        count(&net.stages[14].head, |l| matches!(l, Layer::Basic(_))),
        1
    );
    assert_heads_run(&net, input);
}

/// Parameter counts of AugLocal's own `unifSamp` auxiliary networks for CIFAR ResNet-32 at
/// K = 16 (its `resnet.py`/`auxiliary_nets.py`, depth 3 with pyramid 0.5), worked out by hand:
/// they pin the copied blocks, their strides, option-B shortcuts and the shallow heads' BN.
#[test]
fn resnet32_k16_aug3_heads_have_auglocal_s_parameter_counts() {
    let options = ModelOptions {
        split: SplitKind::InfoPro,
        ..with_head(16, AUG3)
    };
    // On a training device, so that parameters count as trainable.
    let net = ModelCatalog::with_builtins()
        .build(
            "resnet32",
            ModelInput::CIFAR10,
            &options,
            3,
            &Device::flex().autodiff(),
        )
        .unwrap();
    // Trainable parameters, as PyTorch counts them (BatchNorm's running statistics are not).
    let params = |k: usize| pgl_models::trainable_params(&net.stages[k].head);
    // Module 0 (the stem, 16 channels at 32×32): copies of units 5 (16→16), 10 (16→32,
    // stride 2, 1×1 shortcut) and 15 (32→64, stride 2, shortcut), then linear 64→10.
    let basic = |i: usize, o: usize| 9 * (i * o + o * o) + 4 * o;
    let shortcut = |i: usize, o: usize| i * o + 2 * o;
    let linear = 64 * 10 + 10;
    assert_eq!(
        params(0),
        basic(16, 16)
            + basic(16, 32)
            + shortcut(16, 32)
            + basic(32, 64)
            + shortcut(32, 64)
            + linear
    );
    assert_eq!(params(0), 77_578);
    // Module 7 (unit 7, 32 channels at 16×16; depth 2 by the pyramid): units 11 (32→64,
    // stride 2, shortcut) and 15.
    assert_eq!(
        params(7),
        basic(32, 64) + shortcut(32, 64) + basic(64, 64) + linear
    );
    // Module 14: depth 2 by the pyramid, one unit left to copy, so no BN before the linear.
    assert_eq!(params(14), basic(64, 64) + linear);
}

#[test]
fn vgg_heads_halve_once_per_copy() {
    let input = ModelInput::new(3, 32, 32, 10);
    let net = build("vgg11", input, &with_head(4, AUG3));
    assert!(count(&net.stages[0].head, |l| matches!(l, Layer::Conv(_))) >= 2);
    assert_heads_run(&net, input);
}

#[test]
fn mlp_heads_copy_flat_blocks() {
    let input = ModelInput::new(1, 8, 8, 10);
    let net = build("mlp", input, &with_head(3, AUG3));
    assert!(count(&net.stages[0].head, |l| matches!(l, Layer::Linear(_))) >= 2);
    assert_heads_run(&net, input);
}

#[test]
fn a_copy_away_from_the_network_is_a_pooled_linear_head() {
    let layers = AUG3
        .build(spatial(8, 4), 10, &Device::flex())
        .expect("builds");
    let kinds: Vec<&str> = layers
        .iter()
        .map(|l| match l {
            Layer::AvgPool(_) => "pool",
            Layer::Flatten(_) => "flatten",
            Layer::Norm(_) => "norm",
            Layer::Linear(_) => "linear",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["pool", "flatten", "norm", "linear"]);
    assert!(AuxHead::parse("aug5").is_ok());
}

mod training {
    use pgl_burn::burn::prelude::Device;
    use pgl_burn::checkpoint::{CheckpointStore, restore};
    use pgl_burn::inspect::param_values;
    use pgl_burn::{TrainSettings, Trainer};
    use pgl_core::{
        GuidanceConfig, NullSink, OptimizerConfig, OptimizerKind, RunConfig, RuntimeConfig,
        ScheduleRegistry, TrainingConfig,
    };
    use pgl_data::{DatasetSplits, load_dataset};
    use pgl_models::testing::metrics_fingerprint;
    use pgl_models::{AuxHead, DecoupledNet, ModelCatalog, ModelInput, ModelOptions};

    fn data() -> DatasetSplits {
        let mut d = load_dataset("digits", None).unwrap();
        d.train = d.train.truncated(300);
        d.test = d.test.truncated(100);
        d
    }

    fn config(epochs: u64, pipeline: Option<usize>) -> RunConfig {
        RunConfig {
            training: TrainingConfig {
                epochs,
                batch_size: 32,
                ..Default::default()
            },
            optimizer: OptimizerConfig {
                kind: OptimizerKind::Adam,
                lr_schedule: "constant".to_string(),
                ..Default::default()
            },
            guidance: GuidanceConfig {
                schedule: "periodic:every=3".to_string(),
                ..Default::default()
            },
            runtime: RuntimeConfig {
                pipeline,
                ..Default::default()
            },
            ..RunConfig::default()
        }
    }

    /// A digits CNN trainer, K = 4, with `aug3` heads, initialised from `seed`.
    fn trainer(config: &RunConfig, seed: u64) -> Trainer<DecoupledNet> {
        let device = Device::flex().autodiff();
        let options = ModelOptions {
            aux_head: Some(AuxHead::parse("aug3").unwrap()),
            ..ModelOptions::even(4)
        };
        let input = ModelInput::DIGITS;
        let model = ModelCatalog::with_builtins()
            .build("cnn", input, &options, seed, &device)
            .unwrap();
        let schedule = ScheduleRegistry::with_builtins()
            .build(&config.guidance.schedule)
            .unwrap();
        let settings = TrainSettings::from_config(config)
            .unwrap()
            .with_input_shape([input.channels, input.height, input.width]);
        Trainer::new(model, schedule, settings, &device).unwrap()
    }

    fn bits(t: &Trainer<DecoupledNet>) -> Vec<Vec<u32>> {
        param_values(t.model())
            .into_iter()
            .map(|p| p.values.iter().map(|v| v.to_bits()).collect())
            .collect()
    }

    #[test]
    fn auglocal_heads_pipeline_bit_identically_and_resume_exactly() {
        let data = data();
        let mut sequential = trainer(&config(2, None), 5);
        let history = sequential.fit(&data, &mut NullSink).unwrap();
        let expected = (bits(&sequential), metrics_fingerprint(&history));

        let mut pipelined = trainer(&config(2, Some(2)), 5);
        let history = pipelined.fit(&data, &mut NullSink).unwrap();
        assert!(
            (bits(&pipelined), metrics_fingerprint(&history)) == expected,
            "pipelined training with aug3 heads differs from sequential"
        );

        let tmp = tempfile::tempdir().unwrap();
        let store = CheckpointStore::new(tmp.path(), 2);
        let mut first = trainer(&config(1, None), 5);
        first.fit(&data, &mut NullSink).unwrap();
        let saved = store.save(&first, &config(2, None), [1, 8, 8, 10]).unwrap();
        let mut resumed = trainer(&config(2, None), 99);
        restore(&saved, &mut resumed).unwrap();
        let rest = resumed.fit(&data, &mut NullSink).unwrap();
        assert_eq!(
            metrics_fingerprint(&rest)[1..],
            expected.1[1..],
            "metrics differ after resume"
        );
        assert!(bits(&resumed) == expected.0, "weights differ after resume");
    }
}
