//! Options shared by every command that trains (`train`, `compare`) and their merge with a
//! config file: defaults ← `--config FILE` ← flags given on the command line.

use std::path::PathBuf;

use anyhow::Result;
use clap::{ArgGroup, ArgMatches, Args, Command, FromArgMatches};
use pgl_core::RunConfig;

pub use crate::config_file::Origins;
use crate::config_file::read_config;
use crate::plugins::plugins;

/// `--backend` help from pgl-burn's backend table: every name, and which are compiled in.
fn backend_help() -> String {
    let names: Vec<String> = pgl_burn::backend::BACKENDS
        .iter()
        .map(|b| match (b.compiled, b.cargo_feature) {
            (true, _) | (_, None) => b.name.to_string(),
            (false, Some(feature)) => format!("{} (build with --features {feature})", b.name),
        })
        .collect();
    format!("Compute backend: {} [default: cpu].", names.join(", "))
}

/// `--local-objective` help from pgl-core's objective table.
fn objective_help() -> String {
    let names = plugins().objectives.names().join(", ");
    format!(
        "Local objective of every module in local steps: {names}, with parameters (e.g. ce, infopro, supcon:temperature=0.07; see `pgl objectives`) [default: {}].",
        pgl_core::objective::DEFAULT_OBJECTIVE
    )
}

/// Builds the local objective `spec` (a bad spec is an error naming the objective and the
/// parameter).
pub fn local_objective(spec: &str) -> Result<Box<dyn pgl_core::LocalObjective>> {
    Ok(plugins().objectives.build(spec)?)
}

/// Data, model and optimisation options (everything but K, the schedule and the run folder).
/// Every option left out keeps the value of `--config FILE`, or the default.
#[derive(Debug, Clone, Default, Args)]
pub struct CommonArgs {
    /// A TOML (or JSON, e.g. a run's config.json) file with any `pgl train` option; flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Every other option: the flags of [`RunConfig`]'s groups, declared with their fields in
    /// pgl-core.
    #[command(flatten)]
    pub flags: ConfigFlags,
}

/// The flags of every [`RunConfig`] field that commands share, as given on the command line.
///
/// The flags are declared once, on the fields of pgl-core's config groups (`clap::Args`);
/// this keeps the parsed matches so that only the flags that were given override the config
/// file ([`apply`](Self::apply)), and adds the help texts that list pgl's tables.
#[derive(Debug, Clone, Default)]
pub struct ConfigFlags(ArgMatches);

impl FromArgMatches for ConfigFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(Self(matches.clone()))
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        self.0 = matches.clone();
        Ok(())
    }
}

/// The id of the argument group that holds every flag of [`ConfigFlags`] (for
/// `conflicts_with`: clap leaves the group of a struct with flattened fields empty).
pub const CONFIG_FLAGS: &str = "ConfigFlags";

impl Args for ConfigFlags {
    fn group_id() -> Option<clap::Id> {
        Some(clap::Id::from(CONFIG_FLAGS))
    }

    fn augment_args(command: Command) -> Command {
        with_flag_group(with_table_help(RunConfig::augment_args(command)))
    }

    fn augment_args_for_update(command: Command) -> Command {
        with_flag_group(with_table_help(RunConfig::augment_args_for_update(command)))
    }
}

/// `command` with the group [`CONFIG_FLAGS`] of every flag of a [`RunConfig`].
fn with_flag_group(command: Command) -> Command {
    let flags = RunConfig::augment_args(Command::new("flags"));
    let ids: Vec<clap::Id> = flags.get_arguments().map(|a| a.get_id().clone()).collect();
    command.group(ArgGroup::new(CONFIG_FLAGS).multiple(true).args(ids))
}

/// The help texts that list pgl's tables (datasets, models, heads, objectives, backends),
/// which pgl-core cannot know.
fn with_table_help(command: Command) -> Command {
    let p = plugins();
    let models = p.models.model_names().join(", ");
    let infopro = p.models.infopro_models().join(", ");
    let heads = p.models.head_names().join(", ");
    command
        .mut_arg("dataset", |a| {
            a.help(format!("{} [default: digits].", p.datasets.dataset_help()))
        })
        .mut_arg("augment", |a| {
            a.help(format!("{} [default: auto].", p.datasets.augment_help()))
        })
        .mut_arg("model", |a| {
            a.help(format!("Model: {models} (see `pgl models`) [default: cnn]."))
        })
        .mut_arg("split", |a| {
            a.help(format!(
                "Module boundaries: even, or infopro (InfoPro's tables: {infopro}; K values in `pgl models`) [default: even]."
            ))
        })
        .mut_arg("aux_head", |a| {
            a.help(format!(
                "Auxiliary head: {heads} [default: the model's own, see `pgl models`]."
            ))
        })
        .mut_arg("local_objective", |a| a.help(objective_help()))
        .mut_arg("backend", |a| a.help(backend_help()))
}

impl ConfigFlags {
    /// The config keys (= flag ids) of the flags given on the command line: the members of
    /// the [`CONFIG_FLAGS`] group that are present (the flags have no defaults).
    fn given(&self) -> impl Iterator<Item = &str> {
        let present = self.0.try_get_many::<clap::Id>(CONFIG_FLAGS).ok().flatten();
        present.into_iter().flatten().map(clap::Id::as_str)
    }

    /// Sets every field of `config` whose flag was given, and records it in `origins`.
    pub fn apply(&self, config: &mut RunConfig, origins: &mut Origins) -> Result<()> {
        config.update_from_arg_matches(&self.0)?;
        for key in self.given() {
            origins.flag(key);
        }
        Ok(())
    }
}

impl CommonArgs {
    /// The configuration before K and the schedule: the defaults, then the config file, then
    /// every flag that was given; with where each option came from.
    pub fn base_config(&self) -> Result<(RunConfig, Origins)> {
        let (mut config, mut origins) = match &self.config {
            Some(path) => read_config(path)?,
            None => (RunConfig::default(), Origins::default()),
        };
        self.flags.apply(&mut config, &mut origins)?;
        Ok((config, origins))
    }

    /// Whether any option other than `--epochs` was given.
    pub fn any_given_besides_epochs(&self) -> bool {
        self.config.is_some() || self.flags.given().any(|key| key != "epochs")
    }
}

/// Validates a finished configuration: numbers (pgl-core), every spec (guidance and
/// learning-rate schedules, local objective, augmentation) and the dataset name. An error
/// names the option's flag, or its key and the config file it came from (`origins`).
///
/// The configuration it returns names the auxiliary head the run builds (the model's default
/// where none was asked for) and the convolution kernels (what `auto` chose here), so that the
/// run's records keep their meaning if a default or the machine changes.
pub fn validated(mut config: RunConfig, origins: &Origins) -> Result<RunConfig> {
    if let Err(error) = config.validate() {
        let field = match &error {
            pgl_core::CoreError::InvalidConfig { field, .. } => field.replace('-', "_"),
            _ => String::new(),
        };
        let value = serde_json::to_value(&config)
            .ok()
            .and_then(|c| c.get(&field).map(ToString::to_string))
            .unwrap_or_default();
        return Err(origins
            .check::<(), _>(&field, &value, Err(error))
            .unwrap_err());
    }
    let c = &config;
    origins.check(
        "schedule",
        &c.guidance.schedule,
        plugins().schedules.build(&c.guidance.schedule),
    )?;
    origins.check(
        "lr_schedule",
        &c.optimizer.lr_schedule,
        plugins().lr_schedules.build(&c.optimizer.lr_schedule),
    )?;
    origins.check(
        "local_objective",
        &c.objective.local_objective,
        local_objective(&c.objective.local_objective),
    )?;
    // The dataset name and `--augment`, by pgl-data's dataset table (pgl-core checks numbers).
    origins.check("dataset", &c.data.dataset, crate::setup::dataset_entry(c))?;
    origins.check("augment", &c.data.augment, crate::setup::augmentation(c))?;
    // The model options (split, shortcut, conv init, head), by pgl-models.
    crate::setup::model_options(c)?;
    let aux_head = crate::setup::aux_head_name(c)?;
    // An extra learning-rate factor of local steps, by the same registry as `lr_schedule`.
    if let Some(spec) = &c.optimizer.local_lr_schedule {
        origins.check(
            "local_lr_schedule",
            spec,
            plugins().lr_schedules.build(spec),
        )?;
    }
    // The convolution kernels: a known name, and oneDNN loadable where it is asked for. The
    // record names the kernels `auto` chose (pgl's on the GPU backends, which run neither).
    let kernels = &c.runtime.kernels;
    let cpu = pgl_burn::backend::BackendKind::CPU.name();
    let kernels = if kernels == "auto" && c.runtime.backend != cpu {
        "pgl" // not even loaded
    } else {
        let choice = pgl_burn::kernels::onednn::resolve(kernels);
        origins.check("kernels", kernels, choice.map_err(anyhow::Error::msg))?
    };
    config.runtime.kernels = kernels.to_string();
    config.model.aux_head = Some(aux_head);
    Ok(config)
}
