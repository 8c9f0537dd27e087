//! Set-ups shared by tests and benches: a seeded model and a seeded trainer, so that every
//! test file builds them the same way.

use pgl_burn::activation::batch_tensors;
use pgl_burn::burn::prelude::{Device, Int, Tensor};
use pgl_burn::inspect::param_values;
use pgl_burn::{Activation, TrainSettings, Trainer};
use pgl_core::{EpochMetrics, RunConfig, ScheduleRegistry};

use crate::{AuxHead, DecoupledNet, ModelCatalog, ModelInput, ModelOptions, SplitKind};

/// Built-in model `name` for `input`, cut into `modules` even modules, initialised from `seed`
/// on `device` (a training device for training).
///
/// # Panics
/// When the model cannot be built (a test's own mistake).
pub fn seeded_model(
    name: &str,
    input: ModelInput,
    modules: usize,
    seed: u64,
    device: &Device,
) -> DecoupledNet {
    ModelCatalog::with_builtins()
        .build(name, input, &ModelOptions::even(modules), seed, device)
        .unwrap_or_else(|e| panic!("{name} with K={modules}: {e}"))
}

/// A trainer of [`seeded_model`] on the embedded 8×8 digits' shape, with `config`'s schedule
/// and settings (its local objective included), on the CPU autodiff device.
///
/// # Panics
/// When the model, schedule or settings do not build.
pub fn digits_trainer(
    name: &str,
    modules: usize,
    config: &RunConfig,
    seed: u64,
) -> Trainer<DecoupledNet> {
    let device = Device::flex().autodiff();
    let model = seeded_model(name, ModelInput::DIGITS, modules, seed, &device);
    let schedule = ScheduleRegistry::with_builtins()
        .build(&config.guidance.schedule)
        .expect("a valid schedule");
    let input = ModelInput::DIGITS;
    let digits = pgl_data::digits::load_embedded().expect("the embedded digits");
    let settings = TrainSettings::from_config(config)
        .expect("valid settings")
        .with_input_shape([input.channels, input.height, input.width])
        .with_input_normalization(digits.train.mean, digits.train.std);
    Trainer::new(model, schedule, settings, &device).expect("a trainer")
}

/// CIFAR ResNet-32 cut into K = 16 modules by InfoPro's table, with `1c2f` heads (the paper's
/// setting), initialised from `seed` on `device`.
pub fn resnet32_infopro_k16(seed: u64, device: &Device) -> DecoupledNet {
    let options = ModelOptions {
        modules: 16,
        split: SplitKind::InfoPro,
        aux_head: Some(AuxHead::OneConvTwoFc),
        ..ModelOptions::even(16)
    };
    ModelCatalog::with_builtins()
        .build("resnet32", ModelInput::CIFAR10, &options, seed, device)
        .expect("resnet32 K=16")
}

/// Every epoch's metrics without wall-clock fields, as exact text (losses by their bits): two
/// runs that compute the same thing give equal lists.
pub fn metrics_fingerprint(history: &[EpochMetrics]) -> Vec<String> {
    history
        .iter()
        .map(|m| {
            format!(
                "{} {} {} {:?} {} {:?}",
                m.steps_local,
                m.steps_global,
                m.train_loss.to_bits(),
                m.module_train_loss,
                m.test_loss.to_bits(),
                m.module_accuracy
            )
        })
        .collect()
}

/// Training samples `offset..offset + n` of the embedded digits as a batch on the training
/// device.
///
/// # Panics
/// When the digits cannot be loaded or the range passes their end.
pub fn digits_batch(n: usize, offset: usize) -> (Activation, Tensor<1, Int>) {
    let data = pgl_data::load_dataset("digits", None).expect("the embedded digits");
    let indices: Vec<usize> = (offset..offset + n).collect();
    batch_tensors(&data.train.batch(&indices), &Device::flex().autodiff())
}

/// Every trainable parameter of the trainer's model, flattened in visiting order.
pub fn trainable_weights(trainer: &Trainer<DecoupledNet>) -> Vec<f32> {
    param_values(trainer.model())
        .into_iter()
        .filter(|p| p.trainable)
        .flat_map(|p| p.values)
        .collect()
}

/// Every parameter and buffer of the trainer's model as bits: equal for two models that
/// hold exactly the same numbers.
pub fn model_bits(trainer: &Trainer<DecoupledNet>) -> Vec<u32> {
    param_values(trainer.model())
        .into_iter()
        .flat_map(|p| p.values)
        .map(f32::to_bits)
        .collect()
}

/// The first `train` training and `test` test samples of the embedded digits.
///
/// # Panics
/// When the digits cannot be loaded.
pub fn digits_subset(train: usize, test: usize) -> pgl_data::DatasetSplits {
    let mut data = pgl_data::load_dataset("digits", None).expect("the embedded digits");
    data.train = data.train.truncated(train);
    data.test = data.test.truncated(test);
    data
}
