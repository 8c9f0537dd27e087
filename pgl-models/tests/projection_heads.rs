//! The contrastive term's projection head (`proj=`): a copy of the aux head's design
//! (`proj=aux`), the MLP (`proj=mlp`), and the default `proj=auto` that picks between them.

use pgl_burn::Activation;
use pgl_burn::DecoupledModel;
use pgl_burn::burn::prelude::*;
use pgl_burn::inspect::param_values;
use pgl_burn::objective::{InputImages, ObjectiveHeads, TermHead};
use pgl_core::ObjectiveRegistry;
use pgl_models::{AuxHead, DecoupledNet, ModelCatalog, ModelInput, ModelOptions, trainable_params};

/// `proj=aux`: the contrastive term projects through a head of the aux head's design with 128
/// outputs (InfoPro's `AuxClassifier` in `contrast` mode), with weights of its own.
#[test]
fn the_contrastive_head_is_a_copy_of_the_aux_head_design() {
    let device = Device::flex().autodiff();
    let objective = ObjectiveRegistry::with_builtins()
        .build("supcon:proj=aux")
        .unwrap();
    let catalog = ModelCatalog::with_builtins();
    let input = InputImages::unnormalised([3, 32, 32]);
    for head in AuxHead::ALL {
        let options = ModelOptions {
            aux_head: Some(*head),
            ..ModelOptions::even(3)
        };
        let build = |classes| {
            let input = ModelInput {
                classes,
                ..ModelInput::CIFAR10
            };
            catalog
                .build("resnet32", input, &options, 1, &device)
                .unwrap()
        };
        let (net, wide) = (build(10), build(128));
        let heads = ObjectiveHeads::build(&*objective, &net, &input, 1, &device);
        if head.name().starts_with("aug") {
            // AugLocal's heads copy ResNet's residual blocks, which a projection head cannot
            // hold: refused with the way out (the CNN case is checked below).
            let err = heads.expect_err("no residual projection head");
            assert!(err.to_string().contains("proj=mlp"), "{err}");
            continue;
        }
        let heads = heads.unwrap();
        let x = Tensor::<4>::ones([2, 3, 32, 32], &device);
        let mut features = Activation::Spatial(x);
        for k in 0..2 {
            features = net.forward_module(k, features);
            let own = heads.module(k).unwrap();
            let Some(TermHead::Stack(projection)) = own.head_of("supcon") else {
                panic!(
                    "{}: a copy of the aux head, not an MLP projection",
                    head.name()
                );
            };
            assert_eq!(
                trainable_params(projection),
                trainable_params(&wide.stages[k].head),
                "{} module {k}: the aux head's design with 128 outputs",
                head.name()
            );
            assert_eq!(projection.forward(features.clone()).dims(), [2, 128]);
            let aux = param_values(&net.stages[k].head);
            let copy = param_values(projection);
            assert!(aux.first().unwrap().values != copy.first().unwrap().values);
        }
    }
    // A model without a head design (cut with a builder of its own) cannot make one.
    let mut net = catalog
        .build(
            "resnet32",
            ModelInput::CIFAR10,
            &ModelOptions::even(2),
            1,
            &device,
        )
        .unwrap();
    net.aux_head = None;
    let err = ObjectiveHeads::build(&*objective, &net, &input, 1, &device).unwrap_err();
    assert!(err.to_string().contains("proj=mlp"), "{err}");
}

/// AugLocal's heads on a plain CNN: the contrastive head copies module k's own head design
/// (the blocks after module k), not a head built away from the network.
#[test]
fn an_auglocal_contrastive_head_copies_its_module_s_head() {
    let device = Device::flex().autodiff();
    let objective = ObjectiveRegistry::with_builtins()
        .build("supcon:proj=aux")
        .unwrap();
    let catalog = ModelCatalog::with_builtins();
    let options = ModelOptions {
        aux_head: Some(AuxHead::parse("aug3").unwrap()),
        ..ModelOptions::even(8)
    };
    let build = |classes| {
        let input = ModelInput::new(1, 28, 28, classes);
        catalog.build("cnn", input, &options, 1, &device).unwrap()
    };
    let (net, wide) = (build(10), build(128));
    let input = InputImages::unnormalised([1, 28, 28]);
    let heads = ObjectiveHeads::build(&*objective, &net, &input, 1, &device).unwrap();
    for k in 0..7 {
        let Some(TermHead::Stack(projection)) = heads.module(k).unwrap().head_of("supcon") else {
            panic!("module {k}: a copy of the aux head");
        };
        assert_eq!(
            trainable_params(projection),
            trainable_params(&wide.stages[k].head),
            "module {k}"
        );
    }
}

/// `proj=auto` (the default): the aux head's design where the model has one, pgl's MLP
/// projection where it does not (a net cut with a head builder of its own, or ResNet's AugLocal
/// heads, which a projection cannot copy).
#[test]
fn the_default_projection_copies_the_aux_head_where_it_can_and_is_an_mlp_elsewhere() {
    let device = Device::flex().autodiff();
    let registry = ObjectiveRegistry::with_builtins();
    let objective = registry.build("supcon").unwrap();
    assert!(
        objective.spec().contains("proj=auto"),
        "{}",
        objective.spec()
    );
    let catalog = ModelCatalog::with_builtins();
    let input = InputImages::unnormalised([3, 32, 32]);
    let build = |aux_head: Option<AuxHead>| {
        let options = ModelOptions {
            aux_head,
            ..ModelOptions::even(3)
        };
        catalog
            .build("resnet32", ModelInput::CIFAR10, &options, 1, &device)
            .unwrap()
    };
    let kind = |net: &DecoupledNet| {
        let heads = ObjectiveHeads::build(&*objective, net, &input, 1, &device).unwrap();
        match heads.module(0).unwrap().head_of("supcon") {
            Some(TermHead::Stack(_)) => "aux",
            Some(TermHead::Projection(_)) => "mlp",
            _ => "other",
        }
    };
    assert_eq!(kind(&build(Some(AuxHead::OneConvTwoFc))), "aux");
    assert_eq!(kind(&build(AuxHead::parse("aug3").ok())), "mlp");
    let mut own = build(None);
    own.aux_head = None;
    assert_eq!(kind(&own), "mlp");
    // `proj=aux` still refuses what it cannot copy, naming the ways out.
    let aux = registry.build("supcon:proj=aux").unwrap();
    let err = ObjectiveHeads::build(&*aux, &own, &input, 1, &device).unwrap_err();
    assert!(err.to_string().contains("proj=auto or proj=mlp"), "{err}");
}
