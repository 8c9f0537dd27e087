//! The model zoo: published parameter counts, InfoPro split tables, heads, shapes.

use pgl_burn::burn::prelude::*;
use pgl_burn::{Activation, DecoupledModel};
use pgl_models::options::Shortcut;
use pgl_models::resnet::{infopro_points, infopro_table};
use pgl_models::{
    AuxHead, DecoupledNet, ModelError, ModelInput, ModelOptions, SplitKind, build_model, catalog,
    trainable_params,
};

/// CIFAR-10 images, the ResNets' and VGGs' input.
const CIFAR: ModelInput = ModelInput::CIFAR10;

fn device() -> Device {
    Device::flex().autodiff()
}

fn build(
    name: &str,
    input: ModelInput,
    modules: usize,
    split: SplitKind,
    head: Option<AuxHead>,
) -> Result<DecoupledNet, ModelError> {
    let options = ModelOptions {
        modules,
        split,
        aux_head: head,
        ..ModelOptions::even(1)
    };
    build_model(name, input, &options, &device())
}

#[test]
fn resnet_parameter_counts_are_the_published_ones() {
    // He et al. 2016, Table 6 (option A shortcuts): 0.46 M, 0.85 M, 1.7 M; exact counts of the
    // reference PyTorch implementation for 10 classes.
    for (name, expected) in [
        ("resnet32", 464_154),
        ("resnet56", 853_018),
        ("resnet110", 1_727_962),
    ] {
        let model = build(name, CIFAR, 1, SplitKind::Even, None).unwrap();
        assert_eq!(trainable_params(&model), expected, "{name}");
    }
    let catalog = catalog(&Device::flex());
    let r32 = catalog.iter().find(|m| m.name == "resnet32").unwrap();
    assert_eq!(r32.params, 464_154);
    assert_eq!(r32.units, 16);
    assert_eq!(r32.infopro_modules, vec![2, 4, 8, 16]);
    let vgg11 = catalog.iter().find(|m| m.name == "vgg11").unwrap();
    assert!(
        (9_000_000..9_500_000).contains(&vgg11.params),
        "VGG-11-BN is about 9.2 M: {}",
        vgg11.params
    );
}

#[test]
fn option_b_shortcuts_add_infopros_projection_parameters() {
    // InfoPro's ResNets (`networks/resnet.py`, 1x1 conv + BN where the shape changes):
    // 16->32 (512 + 64) and 32->64 (2048 + 128), 2752 parameters for every depth; ResNet-32's
    // and ResNet-110's totals are what InfoPro's own code builds
    // (bench/reference/recipe_params.json).
    for (name, option_a, option_b) in [
        ("resnet32", 464_154, 466_906),
        ("resnet56", 853_018, 855_770),
        ("resnet110", 1_727_962, 1_730_714),
    ] {
        for (shortcut, expected) in [(Shortcut::OptionA, option_a), (Shortcut::OptionB, option_b)] {
            let options = ModelOptions::even(4).with_shortcut(shortcut);
            let model = build_model(name, CIFAR, &options, &device()).unwrap();
            let network: usize = model
                .stages
                .iter()
                .map(|s| trainable_params(&s.body))
                .sum::<usize>()
                + trainable_params(&model.stages[3].head);
            assert_eq!(network, expected, "{name} {shortcut:?}");
        }
    }
    // Option B changes the function: the same seed, other outputs.
    let x = Tensor::<4>::ones([2, 3, 32, 32], &device());
    let run = |shortcut| {
        let options = ModelOptions::even(1).with_shortcut(shortcut);
        let device = device();
        let model = pgl_models::ModelCatalog::with_builtins()
            .build("resnet32", CIFAR, &options, 5, &device)
            .unwrap()
            .valid();
        let out = model.forward(Activation::Spatial(x.clone().inner()));
        out.into_data().iter::<f32>().collect::<Vec<_>>()
    };
    assert_ne!(run(Shortcut::OptionA), run(Shortcut::OptionB));
}

#[test]
fn option_b_and_explicit_splits_refuse_what_they_cannot_do() {
    let options = ModelOptions::even(2).with_shortcut(Shortcut::OptionB);
    let err = build_model("cnn", ModelInput::DIGITS, &options, &device()).unwrap_err();
    assert!(matches!(err, ModelError::NoShortcuts { .. }), "{err}");
    assert!(err.to_string().contains("option-b"), "{err}");
    let at = |points: Vec<usize>, modules| {
        build("resnet32", CIFAR, modules, SplitKind::At(points), None)
    };
    let err = at(vec![5, 10], 2).unwrap_err();
    assert!(
        err.to_string().contains("makes 3 modules, but K=2"),
        "{err}"
    );
    assert!(at(vec![10, 5], 3).is_err(), "points must increase");
    assert!(at(vec![16], 2).is_err(), "ResNet-32 has 16 units");
    let model = at(vec![6, 11], 3).unwrap();
    assert_eq!(units_per_module(&model), vec![6, 5, 5]);
}

/// Number of split units (stem or basic block) in each module of a ResNet.
fn units_per_module(model: &DecoupledNet) -> Vec<usize> {
    model
        .stages
        .iter()
        .map(|s| {
            s.body
                .iter()
                .filter(|l| matches!(l, pgl_models::Layer::Basic(_) | pgl_models::Layer::Conv(_)))
                .count()
        })
        .collect()
}

#[test]
fn infopro_tables_place_the_published_boundaries() {
    // K = 16 on ResNet-32: the stem, then one block per module.
    let model = build("resnet32", CIFAR, 16, SplitKind::InfoPro, None).unwrap();
    assert_eq!(units_per_module(&model), vec![1; 16]);
    // K = 4: boundaries after [1,2], [2,1], [3,0] -> stem + 3 blocks | 4 | 4 | 4.
    assert_eq!(
        infopro_points(infopro_table(32, 4).unwrap(), 5),
        vec![4, 8, 12]
    );
    let model = build("resnet32", CIFAR, 4, SplitKind::InfoPro, None).unwrap();
    assert_eq!(units_per_module(&model), vec![4, 4, 4, 4]);
    // K = 2: after [2,1] -> stem + 5 + 2 blocks | the rest.
    assert_eq!(infopro_points(infopro_table(32, 2).unwrap(), 5), vec![8]);
    assert_eq!(
        infopro_points(infopro_table(32, 8).unwrap(), 5),
        vec![2, 4, 6, 8, 10, 12, 14]
    );
    // ResNet-110, K = 4: after [1,11], [2,7], [3,3].
    assert_eq!(
        infopro_points(infopro_table(110, 4).unwrap(), 18),
        vec![13, 27, 41]
    );
    let model = build("resnet110", CIFAR, 16, SplitKind::InfoPro, None).unwrap();
    let units = units_per_module(&model);
    assert_eq!(units.iter().sum::<usize>(), 55);
    assert_eq!(units[0], 3, "stem + blocks [1,0] and [1,1]");
    for k in [2, 4, 8, 16] {
        let model = build("resnet110", CIFAR, k, SplitKind::InfoPro, None).unwrap();
        assert_eq!(model.num_modules(), k);
    }
}

#[test]
fn infopro_splits_outside_the_tables_are_clear_errors() {
    let e = build("resnet32", CIFAR, 3, SplitKind::InfoPro, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("K=3") && e.contains("2, 4, 8, 16") && e.contains("use `split` = `even`"),
        "{e}"
    );
    let e = build("resnet56", CIFAR, 4, SplitKind::InfoPro, None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("resnet56") && e.contains("resnet32 and resnet110"),
        "{e}"
    );
    let e = build("resnet32", CIFAR, 17, SplitKind::Even, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("at most 16"), "{e}");
    let e = build("vgg11", ModelInput::MNIST, 2, SplitKind::Even, None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("at least 32x32"), "{e}");
    let e = build(
        "mlp",
        CIFAR,
        2,
        SplitKind::Even,
        Some(AuxHead::OneConvTwoFc),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("1c2f") && e.contains("spatial"), "{e}");
    assert!(
        AuxHead::parse("2c3f")
            .unwrap_err()
            .to_string()
            .contains("0c1f, 1c2f, mlp-sr, pool2-1f")
    );
}

fn logits_dims(model: &DecoupledNet, input: ModelInput, batch: usize) -> Vec<[usize; 2]> {
    let device = Device::flex();
    let model = pgl_burn::burn::module::Module::valid(model);
    let x = Tensor::<4>::zeros([batch, input.channels, input.height, input.width], &device);
    let mut a = Activation::Spatial(x);
    let mut out = Vec::new();
    for k in 0..model.num_modules() {
        a = model.forward_module(k, a);
        out.push(model.head(k, a.clone()).dims());
    }
    out
}

#[test]
fn every_head_on_every_model_gives_class_logits() {
    let small = ModelInput::MNIST.with_classes(7);
    let cases: Vec<(&str, ModelInput, usize)> = vec![
        ("cnn", small, 8),
        ("resnet32", CIFAR, 16),
        ("resnet56", ModelInput::CIFAR100, 4),
        ("vgg11", CIFAR, 8),
        ("vgg13", CIFAR, 5),
    ];
    for (name, input, k) in cases {
        for &head in AuxHead::ALL {
            let model = build(name, input, k, SplitKind::Even, Some(head)).unwrap();
            assert_eq!(
                logits_dims(&model, input, 2),
                vec![[2, input.classes]; k],
                "{name} with {}",
                head.name()
            );
        }
    }
    let model = build(
        "mlp",
        small,
        8,
        SplitKind::Even,
        Some(AuxHead::ZeroConvOneFc),
    )
    .unwrap();
    assert_eq!(logits_dims(&model, small, 3), vec![[3, 7]; 8]);
}

#[test]
fn resnet_stages_have_the_paper_shapes() {
    let model = build("resnet32", CIFAR, 16, SplitKind::InfoPro, None).unwrap();
    let model = pgl_burn::burn::module::Module::valid(&model);
    let mut a = Activation::Spatial(Tensor::<4>::zeros([2, 3, 32, 32], &Device::flex()));
    let mut dims = Vec::new();
    for k in 0..16 {
        a = model.forward_module(k, a);
        dims.push(a.dims());
    }
    assert_eq!(dims[0], vec![2, 16, 32, 32]);
    assert_eq!(dims[5], vec![2, 16, 32, 32]);
    assert_eq!(dims[6], vec![2, 32, 16, 16]);
    assert_eq!(dims[11], vec![2, 64, 8, 8]);
    assert_eq!(dims[15], vec![2, 64, 8, 8]);
}
