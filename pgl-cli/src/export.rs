//! `pgl export`: a checkpoint's weights as a safetensors file, named like the PyTorch
//! reference models (`--names pytorch`) or like pgl (`--names pgl`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use pgl_burn::burn::prelude::Device;
use pgl_burn::checkpoint::{self, load_model, read_manifest};
use pgl_burn::export::{Names, Naming, export_safetensors, reference};
use pgl_models::ModelInput;

use crate::plugins::plugins;
use crate::setup::build_configured_model;

/// Options of `pgl export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A run folder (its newest checkpoint) or a checkpoint folder.
    #[arg(value_name = "RUN_DIR|CKPT")]
    source: PathBuf,
    /// File format.
    #[arg(long, default_value = "safetensors", value_parser = ["safetensors"])]
    format: String,
    /// Parameter names and layouts: `pytorch` (the state_dict of the reference models in
    /// bench/gpu/torch_reference.py: cnn, resnet32) or `pgl` (pgl's module paths and Burn's
    /// layouts, any model).
    #[arg(long, default_value = "pytorch", value_parser = ["pytorch", "pgl"])]
    names: String,
    /// Output file [default: <run folder>/<checkpoint>.safetensors]; never overwritten.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Where the export of checkpoint folder `dir` goes by default: beside the run's
/// `checkpoints/` folder, named after the checkpoint.
fn default_out(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map_or("model".into(), |n| n.to_string_lossy().into_owned());
    let parent = dir.parent().unwrap_or(Path::new("."));
    let folder = if parent.file_name().is_some_and(|n| n == "checkpoints") {
        parent.parent().unwrap_or(parent)
    } else {
        parent
    };
    folder.join(format!("{name}.{}", pgl_burn::export::EXTENSION))
}

/// Runs `pgl export`.
pub fn run(args: ExportArgs) -> Result<()> {
    let dir = checkpoint::resolve(&args.source)?;
    let manifest = read_manifest(&dir)?;
    let config = &manifest.config;
    let catalog = &plugins().models;
    let aux_head = crate::setup::aux_head_name(config)?;
    let naming = match Names::parse(&args.names)? {
        Names::Pgl => Naming::Pgl,
        Names::Pytorch => Naming::Pytorch(reference(
            &catalog.references(),
            &config.model.name,
            &aux_head,
            config.model.modules,
        )?),
    };
    let [channels, height, width, classes] = manifest.input;
    let input = ModelInput::new(channels, height, width, classes);
    let skeleton = build_configured_model(config, input, &Device::flex())?;
    let model = load_model(&dir, skeleton).with_context(|| {
        format!(
            "the checkpoint's model ({} with K={}) could not be loaded",
            config.model.name, config.model.modules
        )
    })?;
    let out = args.out.clone().unwrap_or_else(|| default_out(&dir));
    let metadata = [
        ("pgl.model", config.model.name.clone()),
        ("pgl.modules", config.model.modules.to_string()),
        ("pgl.aux_head", aux_head),
        ("pgl.input", format!("{channels}x{height}x{width}")),
        ("pgl.classes", classes.to_string()),
        ("pgl.dataset", config.data.dataset.clone()),
        ("pgl.epochs_done", manifest.progress.epochs_done.to_string()),
        ("pgl.checkpoint", dir.display().to_string()),
    ]
    .map(|(k, v)| (k.to_string(), v));
    let exported = export_safetensors(&model, &out, naming, &metadata)?;
    println!(
        "wrote {} ({}): {} tensors ({} values) of {} K={} after {} epochs, {} names",
        exported.path.display(),
        args.format,
        exported.tensors,
        exported.values,
        config.model.name,
        config.model.modules,
        manifest.progress.epochs_done,
        exported.names.as_str()
    );
    Ok(())
}
