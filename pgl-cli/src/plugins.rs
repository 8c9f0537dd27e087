//! [`Plugins`]: the tables every subcommand reads — guidance schedules, learning-rate
//! schedules, local objectives, models and datasets. The built-ins by default; a program built
//! on [`App`](crate::App) adds its own, and they are installed once, process-wide, when the app
//! runs, so that every subcommand (and every `--help` text listing names) sees the same tables.

use std::sync::OnceLock;

use pgl_core::{LrScheduleRegistry, ObjectiveRegistry, ScheduleRegistry};
use pgl_data::DatasetCatalog;
use pgl_models::ModelCatalog;

/// Every plugin table of the `pgl` tool.
#[derive(Debug, Clone)]
pub struct Plugins {
    /// Guidance schedules (`--schedule`, `--schedules`).
    pub schedules: ScheduleRegistry,
    /// Learning-rate schedules (`--lr-schedule`, `--local-lr-schedule`).
    pub lr_schedules: LrScheduleRegistry,
    /// Local objectives (`--local-objective`).
    pub objectives: ObjectiveRegistry,
    /// The model zoo and its auxiliary heads (`--model`, `--aux-head`).
    pub models: ModelCatalog,
    /// Datasets (`--dataset`).
    pub datasets: DatasetCatalog,
}

impl Plugins {
    /// Every built-in plugin of every kind.
    pub fn builtins() -> Self {
        Self {
            schedules: ScheduleRegistry::with_builtins(),
            lr_schedules: LrScheduleRegistry::with_builtins(),
            objectives: ObjectiveRegistry::with_builtins(),
            models: ModelCatalog::with_builtins(),
            datasets: DatasetCatalog::with_builtins(),
        }
    }
}

impl Default for Plugins {
    fn default() -> Self {
        Self::builtins()
    }
}

/// The tables of this process: those [`install`]ed, or the built-ins.
static ACTIVE: OnceLock<Plugins> = OnceLock::new();

/// The plugin tables every subcommand reads.
pub(crate) fn plugins() -> &'static Plugins {
    ACTIVE.get_or_init(Plugins::builtins)
}

/// Makes `plugins` the tables of this process; `false` when tables were already in use (a
/// second app in the same process), which then keeps the first ones.
pub(crate) fn install(plugins: Plugins) -> bool {
    ACTIVE.set(plugins).is_ok()
}
