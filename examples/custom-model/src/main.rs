//! Trains the depthwise-separable network (K = 3) on the embedded digits with periodic global
//! guidance and writes its weights as safetensors: `custom-model [OUT.safetensors]`.

use pgl_core::{ModelConfig, TrainingConfig};
use std::path::PathBuf;

use pgl_burn::burn::prelude::*;
use pgl_burn::export::{Naming, export_safetensors};
use pgl_burn::{TrainSettings, Trainer};
use pgl_core::{NullSink, RunConfig, ScheduleRegistry};
use pgl_example_custom_model::separable_net;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args_os().nth(1).map_or_else(
        || std::env::temp_dir().join("separable.safetensors"),
        PathBuf::from,
    );
    let data = pgl_data::load_dataset("digits", None)?;
    let config = RunConfig {
        model: ModelConfig {
            modules: 3,
            ..Default::default()
        },
        training: TrainingConfig {
            epochs: 5,
            ..Default::default()
        },
        ..RunConfig::default()
    };
    let device = Device::flex().autodiff();
    let net = separable_net(&[1, 16, 32, 32], 10, config.training.seed, &device);
    let schedule = ScheduleRegistry::with_builtins().build(&config.guidance.schedule)?;
    let settings = TrainSettings::from_config(&config)?.with_input_shape([1, 8, 8]);
    let mut trainer = Trainer::new(net, schedule, settings, &device)?;
    for metrics in trainer.fit(&data, &mut NullSink)? {
        println!(
            "epoch {}: test accuracy {:.4}",
            metrics.epoch, metrics.test_accuracy
        );
    }
    let exported = export_safetensors(trainer.model(), &out, Naming::Pgl, &[])?;
    println!("{} tensors written to {}", exported.tensors, out.display());
    Ok(())
}
