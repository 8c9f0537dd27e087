//! [`App`]: the `pgl` tool as a library. `main` of the `pgl` binary is
//! `App::default().run()`; a program of your own adds its plugins first and gets a `pgl` whose
//! every subcommand knows them.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use pgl_core::schedule::SpecNode;
use pgl_core::{
    CoreError, GuidanceSchedule, LocalObjective, LrSchedule, LrScheduleRegistry, ObjectiveRegistry,
    ScheduleRegistry,
};
use pgl_data::DatasetEntry;
use pgl_models::ModelEntry;

use crate::listings::{print_lr_schedules, print_models, print_objectives, print_schedules};
use crate::plugins::{Plugins, install};
use crate::{bench, compare, eval, export, interrupt, train};

/// Locally supervised learning with periodic global guidance (PGL).
#[derive(Debug, Parser)]
#[command(name = "pgl", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Train a decoupled network (default: the embedded 8x8 digits, CNN, K=4, periodic guidance).
    Train(Box<train::TrainArgs>),
    /// Run several schedules (and K values) on identical data, seeds and budgets; write a
    /// markdown/JSON table and plots.
    Compare(Box<compare::CompareArgs>),
    /// Images/s of local, global and PGL steps, sequential and pipelined, and the speedup.
    Bench(Box<bench::BenchArgs>),
    /// Test accuracy and per-module accuracy of a saved model (a checkpoint or a run folder).
    Eval(eval::EvalArgs),
    /// Write a checkpoint's weights as safetensors, named like the PyTorch reference models.
    Export(export::ExportArgs),
    /// List the learning-rate schedules and their spec syntax.
    LrSchedules,
    /// List the guidance schedules and their spec syntax.
    Schedules,
    /// List the local objectives (what modules learn from in local steps) and their spec syntax.
    Objectives,
    /// List the model zoo: parameter counts, valid K, default aux head.
    Models {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// The `pgl` command-line tool with its plugin tables: the built-ins, plus what the `with_*`
/// methods add. A registration that fails (a name already taken, a malformed name) is
/// reported when the app runs, which then exits with an error before doing anything else.
///
/// ```no_run
/// use std::process::ExitCode;
///
/// use pgl_core::schedule::{SpecArgs, SpecNode};
/// use pgl_core::{CoreError, GuidanceSchedule, ScheduleRegistry, StepContext, StepKind};
///
/// /// Global steps on odd iterations only.
/// #[derive(Debug, Clone)]
/// struct Odd;
///
/// impl GuidanceSchedule for Odd {
///     fn decide(&mut self, ctx: &StepContext<'_>) -> StepKind {
///         if ctx.iteration % 2 == 1 { StepKind::Global } else { StepKind::Local }
///     }
///     fn spec(&self) -> String {
///         "odd".to_string()
///     }
///     fn clone_box(&self) -> Box<dyn GuidanceSchedule> {
///         Box::new(self.clone())
///     }
/// }
///
/// fn odd(node: &SpecNode, _: &ScheduleRegistry) -> Result<Box<dyn GuidanceSchedule>, CoreError> {
///     SpecArgs::new(node, &[])?;
///     Ok(Box::new(Odd))
/// }
///
/// fn main() -> ExitCode {
///     pgl_cli::App::default()
///         .with_schedule("odd", "global steps on odd iterations", odd)
///         .run()
/// }
/// ```
#[derive(Debug, Clone, Default)]
pub struct App {
    plugins: Plugins,
    /// Registrations that failed, reported by [`run`](Self::run).
    refused: Vec<String>,
}

impl App {
    /// The tool with the built-in plugins only.
    pub fn new() -> Self {
        Self::default()
    }

    /// The plugin tables this app will run with.
    pub fn plugins(&self) -> &Plugins {
        &self.plugins
    }

    fn note(mut self, kind: &str, name: &str, result: Result<(), String>) -> Self {
        if let Err(reason) = result {
            self.refused
                .push(format!("cannot add the {kind} `{name}`: {reason}"));
        }
        self
    }

    /// Adds a guidance schedule `name` (its spec syntax in `summary`, as `pgl schedules` shows
    /// it), built from its parsed spec by `build`.
    pub fn with_schedule<F>(mut self, name: &str, summary: &str, build: F) -> Self
    where
        F: Fn(&SpecNode, &ScheduleRegistry) -> Result<Box<dyn GuidanceSchedule>, CoreError>
            + Send
            + Sync
            + 'static,
    {
        let result = self.plugins.schedules.register(name, summary, build);
        self.note("schedule", name, result.map_err(|e| e.to_string()))
    }

    /// Adds a learning-rate schedule `name` (see [`with_schedule`](Self::with_schedule)).
    pub fn with_lr_schedule<F>(mut self, name: &str, summary: &str, build: F) -> Self
    where
        F: Fn(&SpecNode, &LrScheduleRegistry) -> Result<Box<dyn LrSchedule>, CoreError>
            + Send
            + Sync
            + 'static,
    {
        let result = self.plugins.lr_schedules.register(name, summary, build);
        self.note(
            "learning-rate schedule",
            name,
            result.map_err(|e| e.to_string()),
        )
    }

    /// Adds a local objective `name` (see [`with_schedule`](Self::with_schedule)).
    pub fn with_objective<F>(mut self, name: &str, summary: &str, build: F) -> Self
    where
        F: Fn(&SpecNode, &ObjectiveRegistry) -> Result<Box<dyn LocalObjective>, CoreError>
            + Send
            + Sync
            + 'static,
    {
        let result = self.plugins.objectives.register(name, summary, build);
        self.note("objective", name, result.map_err(|e| e.to_string()))
    }

    /// Adds a model to the zoo (see [`ModelEntry`]).
    pub fn with_model(mut self, entry: ModelEntry) -> Self {
        let result = self.plugins.models.register(entry);
        self.note("model", entry.name, result.map_err(|e| e.to_string()))
    }

    /// Adds a dataset (see [`DatasetEntry`]).
    pub fn with_dataset(mut self, entry: DatasetEntry) -> Self {
        let result = self.plugins.datasets.register(entry);
        self.note("dataset", entry.name, result.map_err(|e| e.to_string()))
    }

    /// Runs the tool on the process's command line; the exit code says how it went (see
    /// [`run_from`](Self::run_from)).
    pub fn run(self) -> ExitCode {
        self.run_from(std::env::args_os())
    }

    /// Runs the tool on `args` (the first is the program's name): success, failure (the error
    /// printed to stderr), or the interrupted-run code after Ctrl-C or SIGTERM.
    pub fn run_from<I, T>(self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        pgl_burn::memory::keep_freed_memory(); // steps reuse their buffers (docs/perf.md)
        // Library messages name the settings as this program's users type them.
        pgl_core::setting::name_settings_as_flags(true);
        if !self.refused.is_empty() {
            for refusal in &self.refused {
                eprintln!("error: {refusal}");
            }
            return ExitCode::FAILURE;
        }
        if !install(self.plugins) {
            eprintln!("error: another pgl app already runs in this process with its own plugins");
            return ExitCode::FAILURE;
        }
        let cli = match Cli::try_parse_from(args) {
            Ok(cli) => cli,
            Err(error) => error.exit(),
        };
        exit_code(execute(cli.command))
    }
}

/// Runs one subcommand.
fn execute(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Train(args) => train::run(*args),
        Command::Compare(args) => compare::run(*args),
        Command::Eval(args) => eval::run(args),
        Command::Export(args) => export::run(args),
        Command::Bench(args) => bench::run(*args),
        Command::Schedules => {
            print_schedules();
            Ok(())
        }
        Command::LrSchedules => {
            print_lr_schedules();
            Ok(())
        }
        Command::Objectives => {
            print_objectives();
            Ok(())
        }
        Command::Models { json } => print_models(json),
    }
}

/// The exit code of a finished subcommand, its error printed.
fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            let interrupted = error.chain().any(|cause| {
                matches!(
                    cause.downcast_ref(),
                    Some(pgl_burn::TrainError::Interrupted { .. })
                )
            });
            if interrupted {
                ExitCode::from(interrupt::exit_code())
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::any::TypeId;

    use clap::CommandFactory;

    /// Numeric flags of `command` and its subcommands that would take `-1` for an unknown
    /// flag (clap's "unexpected argument '-1'", naming no flag) instead of a value.
    fn refusing_negative_numbers(command: &clap::Command, out: &mut Vec<String>) {
        let numeric = [
            TypeId::of::<f64>(),
            TypeId::of::<u64>(),
            TypeId::of::<usize>(),
            TypeId::of::<i64>(),
        ];
        for arg in command.get_arguments() {
            let kind = arg.get_value_parser().type_id();
            if numeric.iter().any(|t| kind == *t) && !arg.is_allow_negative_numbers_set() {
                out.push(format!("{} --{}", command.get_name(), arg.get_id()));
            }
        }
        for sub in command.get_subcommands() {
            refusing_negative_numbers(sub, out);
        }
    }

    #[test]
    fn a_registration_that_fails_is_kept_for_run_to_report() {
        fn build(
            _: &pgl_core::schedule::SpecNode,
            _: &pgl_core::ScheduleRegistry,
        ) -> Result<Box<dyn pgl_core::GuidanceSchedule>, pgl_core::CoreError> {
            unreachable!("never built")
        }
        let app = super::App::default()
            .with_schedule("periodic", "a second periodic", build)
            .with_schedule("bad name", "spaces are not allowed", build)
            .with_schedule("fresh", "a new name", build);
        assert_eq!(app.refused.len(), 2, "{:?}", app.refused);
        assert!(
            app.refused[0].contains("schedule `periodic`"),
            "{:?}",
            app.refused
        );
        assert!(app.refused[1].contains("`bad name`"), "{:?}", app.refused);
        assert!(
            app.plugins()
                .schedules
                .names()
                .contains(&"fresh".to_string())
        );
    }

    #[test]
    fn every_numeric_flag_takes_a_negative_value_so_that_its_own_check_answers() {
        let mut refusing = Vec::new();
        refusing_negative_numbers(&super::Cli::command(), &mut refusing);
        assert!(refusing.is_empty(), "{refusing:?}");
        super::Cli::command().debug_assert();
    }
}
