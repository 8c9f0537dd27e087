//! From a validated [`RunConfig`] to everything a run needs: data, model, schedule, device.
//! Shared by every command that trains or evaluates.

use crate::plugins::plugins;
use anyhow::{Context, Result};
use pgl_burn::BackendKind;
use pgl_burn::burn::prelude::Device;
use pgl_core::{GuidanceSchedule, RunConfig};
use pgl_data::{Augment, AugmentChoice, Cifar100Label, DatasetEntry, DatasetSplits, LoadOptions};
use pgl_models::options::{Shortcut, parse_conv_init};
use pgl_models::{DecoupledNet, ModelInput, ModelOptions, SplitKind};

/// Everything a training run is made of.
pub struct RunSetup {
    /// Train and test data (limits applied).
    pub data: DatasetSplits,
    /// The freshly initialised model (seeded).
    pub model: DecoupledNet,
    /// The guidance schedule.
    pub schedule: Box<dyn GuidanceSchedule>,
    /// The autodiff training device.
    pub device: Device,
    /// The backend.
    pub backend: BackendKind,
    /// Training augmentation.
    pub augment: Option<Augment>,
}

/// The entry of pgl-data's dataset table that a config names.
pub fn dataset_entry(config: &RunConfig) -> Result<DatasetEntry> {
    Ok(*plugins().datasets.get(&config.data.dataset)?)
}

/// The training augmentation a config asks for (`augment`), resolved for its dataset.
pub fn augmentation(config: &RunConfig) -> Result<Option<Augment>> {
    let choice = AugmentChoice::parse(&config.data.augment)?;
    Ok(dataset_entry(config)?.resolve_augment(choice)?)
}

/// Loads the config's dataset with its limits.
pub fn load_data(config: &RunConfig) -> Result<DatasetSplits> {
    let entry = dataset_entry(config)?;
    let label =
        Cifar100Label::parse(&config.data.label).context("--label must be fine or coarse")?;
    let data_dir = config.data.data_dir.as_ref().map(std::path::PathBuf::from);
    let mut data = entry.load(data_dir.as_deref(), &LoadOptions { label })?;
    if let Some(n) = config.data.train_limit {
        data.train = data.train.truncated(n);
    }
    if let Some(n) = config.data.test_limit {
        data.test = data.test.truncated(n);
    }
    Ok(data)
}

/// The model input of a dataset.
pub fn model_input(data: &DatasetSplits) -> ModelInput {
    let shape = data.train.shape;
    ModelInput {
        channels: shape.channels,
        height: shape.height,
        width: shape.width,
        classes: data.train.num_classes,
    }
}

/// The `[channels, height, width]` of `data`'s images (what a local objective's extra heads
/// are built for).
pub fn image_shape(data: &DatasetSplits) -> [usize; 3] {
    let input = model_input(data);
    [input.channels, input.height, input.width]
}

/// The `[channels, height, width, classes]` a checkpoint manifest records for `data`.
pub fn checkpoint_input(data: &DatasetSplits) -> [usize; 4] {
    let input = model_input(data);
    [input.channels, input.height, input.width, input.classes]
}

/// The model options a config asks for: K, split, aux head, shortcut and convolution
/// initialisation, each name checked by pgl-models (an error names the option).
pub fn model_options(config: &RunConfig) -> Result<ModelOptions> {
    let catalog = &plugins().models;
    let aux_head = match config.model.aux_head.as_deref() {
        Some(name) => Some(catalog.head(name)?),
        None => None,
    };
    Ok(ModelOptions {
        modules: config.model.modules,
        split: SplitKind::parse(&config.model.split)?,
        aux_head,
        shortcut: Shortcut::parse(&config.model.shortcut).context("--shortcut")?,
        conv_init: parse_conv_init(&config.model.conv_init).context("--conv-init")?,
    })
}

/// The name of the auxiliary head `config` builds: its own, or its model's default.
pub fn aux_head_name(config: &RunConfig) -> Result<String> {
    Ok(match &config.model.aux_head {
        Some(head) => head.clone(),
        None => plugins()
            .models
            .model(&config.model.name)?
            .default_head
            .name()
            .to_string(),
    })
}

/// Builds the config's model for `input` on `device` from the model and head tables, every
/// block and head initialised from the config's seed and its index (so the same seed starts
/// the same body for every K, split and head). The device is seeded with the config's seed
/// too, for any other random draw on it.
pub fn build_configured_model(
    config: &RunConfig,
    input: ModelInput,
    device: &Device,
) -> Result<DecoupledNet> {
    let catalog = &plugins().models;
    let options = model_options(config)?;
    device.seed(config.training.seed);
    Ok(catalog.build(
        &config.model.name,
        input,
        &options,
        config.training.seed,
        device,
    )?)
}

/// Checks everything about `config` that needs neither data nor training, so that a sweep
/// fails before its first run: the backend's name, the model (built untrained, on the CPU,
/// for the dataset's image size: K, split, head and input size), and what a trainer of it
/// checks (the local objective for this K, the pipeline with `schedule`). Errors name what
/// does not fit.
pub fn check_runnable(config: &RunConfig, schedule: &dyn GuidanceSchedule) -> Result<()> {
    BackendKind::parse(&config.runtime.backend)?;
    let entry = dataset_entry(config)?;
    let input = ModelInput {
        channels: entry.shape.channels,
        height: entry.shape.height,
        width: entry.shape.width,
        classes: entry.classes,
    };
    let catalog = &plugins().models;
    let options = model_options(config)?;
    let device = Device::flex().autodiff();
    let model = catalog.build(
        &config.model.name,
        input,
        &options,
        config.training.seed,
        &device,
    )?;
    // What a trainer refuses at construction: the objective for this K, the pipeline. The
    // normalisation is a stand-in (the data's own statistics come with the data): only its
    // presence is checked here.
    let channels = input.channels;
    let settings = pgl_burn::TrainSettings::from_config_with(
        config,
        &plugins().lr_schedules,
        &plugins().objectives,
    )?
    .with_input_shape([channels, input.height, input.width])
    .with_input_normalization(vec![0.0; channels], vec![1.0; channels]);
    pgl_burn::Trainer::new(model, schedule.clone_box(), settings, &device)?;
    Ok(())
}

/// A warning about a configuration that runs but does not do what it says: a local objective
/// other than `ce` and the default with one module (the one module learns from the
/// classifier, so nothing is local and the objective changes nothing). The default objective
/// goes unmentioned: a user who chose nothing was not told otherwise.
pub fn objective_warning(config: &RunConfig) -> Option<String> {
    let objective = plugins()
        .objectives
        .build(&config.objective.local_objective)
        .ok()?;
    let chosen = !pgl_core::objective::is_default_objective(&config.objective.local_objective);
    (config.model.modules == 1 && chosen && !objective.is_plain_ce()).then(|| {
        format!(
            "warning: --local-objective {} with --modules 1 trains exactly like `ce`: a local objective applies to modules 1..K-1, and with K = 1 the only module learns from the classifier",
            objective.spec()
        )
    })
}

impl RunSetup {
    /// Prepares a run: backend, schedule, data, model (in that order, so cheap checks fail first).
    pub fn prepare(config: &RunConfig) -> Result<Self> {
        Self::prepare_with(config, None)
    }

    /// [`RunSetup::prepare`] with the schedule already built from `config.schedule` (`None`:
    /// build it here).
    pub fn prepare_with(
        config: &RunConfig,
        schedule: Option<Box<dyn GuidanceSchedule>>,
    ) -> Result<Self> {
        let backend = BackendKind::parse(&config.runtime.backend)?;
        pgl_burn::kernels::onednn::select(&config.runtime.kernels).map_err(|why| {
            anyhow::anyhow!("invalid --kernels `{}`: {why}", config.runtime.kernels)
        })?;
        // `global_checkpointing` recomputes module activations in global steps only (pgl-burn's
        // `recompute`), not Burn's checkpointing device, which would slow every step.
        let device = backend.training_device(config.runtime.device, false)?;
        let schedule = match schedule {
            Some(schedule) => schedule,
            None => plugins()
                .schedules
                .build(&config.guidance.schedule)
                .context("invalid --schedule")?,
        };
        let augment = augmentation(config)?;
        let data = load_data(config)?;
        let model = build_configured_model(config, model_input(&data), &device)?;
        Ok(Self {
            data,
            model,
            schedule,
            device,
            backend,
            augment,
        })
    }
}
