//! `pgl eval`: test accuracy and per-module accuracy of a saved model.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use pgl_burn::checkpoint::{self, load_model, read_manifest};
use pgl_burn::eval::evaluate;
use pgl_burn::{BackendKind, DecoupledModel};

use crate::setup::{build_configured_model, checkpoint_input, load_data, model_input};

/// Options of `pgl eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A checkpoint folder (`<run>/checkpoints/epoch-NNNN`), or a run folder (its newest checkpoint).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Evaluate on this dataset instead of the one the model was trained on (same classes and image size).
    #[arg(long)]
    dataset: Option<String>,
    /// Folder with the dataset's files.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// CIFAR-100 labels: fine or coarse.
    #[arg(long)]
    label: Option<String>,
    /// Evaluate on the first N test samples only.
    #[arg(long, allow_negative_numbers = true)]
    test_limit: Option<usize>,
    /// Evaluation batch size.
    #[arg(long, allow_negative_numbers = true, default_value_t = 256)]
    batch_size: usize,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `pgl eval`.
pub fn run(args: EvalArgs) -> Result<()> {
    let dir = checkpoint::resolve(&args.checkpoint)?;
    let manifest = read_manifest(&dir)?;
    let mut config = manifest.config.clone();
    if let Some(dataset) = &args.dataset {
        config.data.dataset = dataset.clone();
        config.data.data_dir = None;
    }
    if let Some(data_dir) = &args.data_dir {
        config.data.data_dir = Some(data_dir.display().to_string());
    }
    if let Some(label) = &args.label {
        config.data.label = label.clone();
    }
    config.data.train_limit = Some(1);
    config.data.test_limit = args.test_limit.or(config.data.test_limit);
    config.validate()?;
    let data = load_data(&config)?;
    let found = checkpoint_input(&data);
    if found != manifest.input {
        let [c, h, w, k] = manifest.input;
        anyhow::bail!(
            "the checkpoint's model does not fit {}: it was trained on {c}x{h}x{w} images with {k} classes, {} has {}x{}x{} images with {} classes",
            config.data.dataset,
            config.data.dataset,
            found[0],
            found[1],
            found[2],
            found[3]
        );
    }
    let device = BackendKind::parse(&config.runtime.backend)?.device(config.runtime.device)?;
    let skeleton = build_configured_model(&config, model_input(&data), &device.clone().autodiff())?;
    // The image size and classes were checked above: a file that does not load is damaged
    // (or of another model), and the error says which.
    let model = load_model(&dir, skeleton).with_context(|| {
        format!(
            "cannot load the checkpoint's model ({} with K={})",
            config.model.name, config.model.modules
        )
    })?;
    let evaluation = evaluate(&model, &data.test, args.batch_size.max(1), &device);
    if args.json {
        let out = serde_json::json!({
            "checkpoint": dir.display().to_string(),
            "epochs_done": manifest.progress.epochs_done,
            "dataset": config.data.dataset,
            "modules": model.num_modules(),
            "test_accuracy": evaluation.accuracy,
            "test_loss": evaluation.loss,
            "module_accuracy": evaluation.module_accuracy,
            "samples": evaluation.samples,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "{}: {} K={} after {} epochs, on {} ({} test images)",
            dir.display(),
            config.model.name,
            model.num_modules(),
            manifest.progress.epochs_done,
            config.data.dataset,
            evaluation.samples
        );
        println!(
            "test accuracy {:.4}, test loss {:.4}",
            evaluation.accuracy, evaluation.loss
        );
        for (k, accuracy) in evaluation.module_accuracy.iter().enumerate() {
            let what = if k + 1 == evaluation.module_accuracy.len() {
                "classifier"
            } else {
                "aux head"
            };
            println!("  module {:>2} ({what}): {accuracy:.4}", k + 1);
        }
    }
    Ok(())
}
