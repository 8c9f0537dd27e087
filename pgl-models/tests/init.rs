//! Same seed, same starting network: a model's body starts from the same weights for every
//! K, split and auxiliary head (each block is initialised from the seed and its index), and
//! so does the classifier when its input is the same.

use pgl_burn::burn::prelude::*;
use pgl_burn::burn::tensor::Distribution;
use pgl_burn::inspect::param_values;
use pgl_models::options::{ConvInit, Shortcut};
use pgl_models::{
    AuxHead, DecoupledNet, ModelCatalog, ModelError, ModelInput, ModelOptions, SplitKind,
    build_model,
};

/// Burn's generator is process-wide and tests run on parallel threads: `device.seed` and the
/// build it seeds happen under this lock.
static SEEDING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn device() -> Device {
    Device::flex().autodiff()
}

/// Every parameter and buffer of the modules' bodies, in order, as bits.
fn body_bits(net: &DecoupledNet) -> Vec<Vec<u32>> {
    net.stages
        .iter()
        .flat_map(|stage| param_values(&stage.body))
        .map(|p| p.values.iter().map(|v| v.to_bits()).collect())
        .collect()
}

/// The classifier's parameters, as bits.
fn classifier_bits(net: &DecoupledNet) -> Vec<Vec<u32>> {
    let last = net.stages.last().expect("at least one module");
    param_values(&last.head)
        .iter()
        .map(|p| p.values.iter().map(|v| v.to_bits()).collect())
        .collect()
}

/// Runs `build` on a fresh training device, holding the seeding lock.
fn locked<T>(build: impl FnOnce(&Device) -> T) -> T {
    let device = device();
    let _guard = SEEDING.lock().unwrap_or_else(|p| p.into_inner());
    build(&device)
}

/// Builds `name` through the CLI's path: seed the device, then [`build_model`].
fn seeded_build(
    name: &str,
    input: ModelInput,
    options: &ModelOptions,
    seed: u64,
) -> Result<DecoupledNet, ModelError> {
    locked(|device| {
        device.seed(seed);
        build_model(name, input, options, device)
    })
}

/// Builds `name` with an explicit seed through [`ModelCatalog::build`].
fn catalog_build(
    name: &str,
    input: ModelInput,
    options: &ModelOptions,
    seed: u64,
) -> Result<DecoupledNet, ModelError> {
    locked(|device| ModelCatalog::with_builtins().build(name, input, options, seed, device))
}

/// For `name`, every K in `ks`, every split in `splits` and every head that applies, the body
/// (and, where `same_classifier`, the classifier) equals the K = 1 network's bit for bit.
fn assert_same_start(
    build: fn(&str, ModelInput, &ModelOptions, u64) -> Result<DecoupledNet, ModelError>,
    name: &str,
    input: ModelInput,
    splits: &[SplitKind],
    same_classifier: bool,
) {
    assert_same_start_with(
        build,
        name,
        input,
        splits,
        same_classifier,
        &ModelOptions::even(1),
    );
}

/// [`assert_same_start`] with the shortcut and convolution initialisation of `base`.
fn assert_same_start_with(
    build: fn(&str, ModelInput, &ModelOptions, u64) -> Result<DecoupledNet, ModelError>,
    name: &str,
    input: ModelInput,
    splits: &[SplitKind],
    same_classifier: bool,
    base: &ModelOptions,
) {
    let seed = 7;
    let reference = build(name, input, base, seed).unwrap();
    let body = body_bits(&reference);
    let classifier = classifier_bits(&reference);
    let mut checked = 0;
    for split in splits {
        for modules in [1, 2, 4, 8] {
            for &head in AuxHead::ALL {
                let options = ModelOptions {
                    modules,
                    split: split.clone(),
                    aux_head: Some(head),
                    ..base.clone()
                };
                let net = match build(name, input, &options, seed) {
                    Ok(net) => net,
                    Err(ModelError::HeadNeedsSpatial { .. }) => continue,
                    Err(e) => panic!("{name} K={modules} {split:?} {}: {e}", head.name()),
                };
                assert_eq!(net.stages.len(), modules);
                let what = format!(
                    "{name}, K={modules}, {split:?} split, {} heads",
                    head.name()
                );
                assert!(body_bits(&net) == body, "body weights differ: {what}");
                if same_classifier {
                    assert!(
                        classifier_bits(&net) == classifier,
                        "classifier differs: {what}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "{name}: only {checked} networks compared");
    let other = build(name, input, base, seed + 1).unwrap();
    assert!(
        body_bits(&other) != body,
        "{name}: another seed must give other weights"
    );
}

#[test]
fn the_body_starts_the_same_for_every_k_and_head_when_the_device_is_seeded() {
    assert_same_start(
        seeded_build,
        "cnn",
        ModelInput::DIGITS,
        &[SplitKind::Even],
        true,
    );
    assert_same_start(
        seeded_build,
        "mlp",
        ModelInput::DIGITS,
        &[SplitKind::Even],
        true,
    );
}

#[test]
fn the_body_starts_the_same_for_every_k_and_head_from_an_explicit_seed() {
    assert_same_start(
        catalog_build,
        "cnn",
        ModelInput::MNIST,
        &[SplitKind::Even],
        true,
    );
    assert_same_start(
        catalog_build,
        "mlp",
        ModelInput::MNIST,
        &[SplitKind::Even],
        true,
    );
}

#[test]
fn resnet32_starts_the_same_for_every_k_head_and_split() {
    // The classifier follows global pooling on 64 channels whatever K is.
    assert_same_start(
        catalog_build,
        "resnet32",
        ModelInput::DIGITS,
        &[SplitKind::Even, SplitKind::InfoPro],
        true,
    );
}

#[test]
fn option_b_and_he_initialisation_start_the_same_for_every_k_head_and_split() {
    let base = ModelOptions::even(1)
        .with_shortcut(Shortcut::OptionB)
        .with_conv_init(ConvInit::HeNormalFanOut);
    assert_same_start_with(
        catalog_build,
        "resnet32",
        ModelInput::DIGITS,
        &[SplitKind::Even, SplitKind::InfoPro],
        true,
        &base,
    );
    assert_same_start_with(
        seeded_build,
        "cnn",
        ModelInput::DIGITS,
        &[SplitKind::Even],
        true,
        &ModelOptions::even(1).with_conv_init(ConvInit::HeNormalFanOut),
    );
}

#[test]
fn he_initialisation_draws_convolutions_from_n_0_2_over_fan_out() {
    let he = ModelOptions::even(4).with_conv_init(ConvInit::HeNormalFanOut);
    let net = catalog_build("resnet32", ModelInput::CIFAR10, &he, 3).unwrap();
    let default = catalog_build("resnet32", ModelInput::CIFAR10, &ModelOptions::even(4), 3);
    let default = default.unwrap();
    let mut convolutions = 0;
    for (p, d) in param_values(&net).iter().zip(param_values(&default)) {
        assert_eq!(p.path, d.path);
        let is_conv_weight = p.path.ends_with("weight") && p.shape.len() == 4;
        if !is_conv_weight {
            // Biases, batch norms and linear layers keep Burn's initialisation, bit for bit.
            assert!(p.values == d.values, "{} changed", p.path);
            continue;
        }
        convolutions += 1;
        let fan_out = (p.shape[0] * p.shape[2] * p.shape[3]) as f64;
        let n = p.values.len() as f64;
        let mean = p.values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let var = p
            .values
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        let expected = 2.0 / fan_out;
        // The sample variance of n normal draws is within 6 standard errors
        // (σ²·√(2/n)) of σ² with overwhelming probability.
        assert!(
            (var - expected).abs() < 6.0 * expected * (2.0 / n).sqrt(),
            "{}: variance {var}, expected {expected} ({n} weights)",
            p.path
        );
        // Burn's default is uniform in ±1/√fan_in: never beyond the bound, He's normal is.
        let fan_in = (p.shape[1] * p.shape[2] * p.shape[3]) as f64;
        let bound = 1.0 / fan_in.sqrt();
        assert!(d.values.iter().all(|v| f64::from(v.abs()) <= bound + 1e-6));
    }
    assert!(
        convolutions >= 31,
        "every convolution of ResNet-32 and its heads: {convolutions}"
    );
}

#[test]
fn initial_weights_ignore_random_numbers_drawn_before_the_build() {
    let catalog = ModelCatalog::with_builtins();
    let options = ModelOptions::even(4);
    let (quiet, noisy) = locked(|device| {
        let quiet = catalog.build("cnn", ModelInput::DIGITS, &options, 3, device);
        device.seed(99);
        let _ = Tensor::<1>::random([1000], Distribution::Default, device).into_data();
        let noisy = catalog.build("cnn", ModelInput::DIGITS, &options, 3, device);
        (quiet.unwrap(), noisy.unwrap())
    });
    assert!(param_values(&quiet) == param_values(&noisy));
}
