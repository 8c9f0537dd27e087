//! `pgl`: train networks cut into decoupled modules with periodic global guidance.
//!
//! This binary is thin: it parses flags into a [`RunConfig`](pgl_core::RunConfig), runs the
//! engine of `pgl-burn` on a model of `pgl-models` and data of `pgl-data`, and writes the run
//! folder. See `pgl --help` and the README.

// The flags' doc comments are their `--help` texts, read by people in a terminal: they write
// placeholders as `<run folder>`, which rustdoc would take for HTML tags.
#![allow(rustdoc::invalid_html_tags)]

mod bench;
mod compare;
mod config_file;
mod eval;
mod export;
mod interrupt;
mod memory;
mod options;
mod output;
mod plots;
mod progress;
mod runner;
mod setup;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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

fn main() -> ExitCode {
    pgl_burn::memory::keep_freed_memory(); // steps reuse their buffers (docs/perf.md)
    let cli = Cli::parse();
    let result = match cli.command {
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
    };
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

fn print_schedules() {
    println!("Guidance schedules (use with --schedule SPEC):\n");
    for (name, summary) in pgl_core::ScheduleRegistry::with_builtins().describe() {
        println!("  {name:<12} {summary}");
    }
    println!(
        "\nExamples: local-only, end-to-end, periodic:every=10, periodic:every=2,len=1,unit=epochs,\n\
         warmup:epochs=1,then=periodic:every=10, any(periodic:every=50,plateau:patience=20)"
    );
}

fn print_lr_schedules() {
    println!(
        "Learning-rate schedules (use with --lr-schedule SPEC; the factor scales --lr every iteration):\n"
    );
    for (name, summary) in pgl_core::LrScheduleRegistry::with_builtins().entries() {
        println!("  {name:<14} {summary}");
    }
    println!(
        "\nExamples: constant, cosine, cosine:min=0.01,unit=epochs, multistep:at=(80,120),gamma=0.1,\n\
         linear-warmup:iters=500,then=cosine (InfoPro's CIFAR recipe: cosine over the run)"
    );
}

fn print_objectives() {
    println!(
        "Local objectives (use with --local-objective SPEC; what module k < K learns from in local steps,\n\
         the last module always learns from the classifier's cross-entropy; global steps are unchanged):\n"
    );
    for (name, summary) in pgl_core::ObjectiveRegistry::with_builtins().entries() {
        println!("  {name:<8} {summary}");
    }
    println!(
        "\nExamples: ce (DGL), infopro, infopro:class=supcon (InfoPro's published setting),\n\
         infopro:ixx_1=5,ixy_1=0,ixx_2=0,ixy_2=2, supcon:temperature=0.07"
    );
}

fn print_models(json: bool) -> anyhow::Result<()> {
    let models = pgl_models::ModelCatalog::with_builtins();
    let catalog = models.describe(&pgl_burn::burn::prelude::Device::flex());
    if json {
        println!("{}", serde_json::to_string_pretty(&catalog)?);
        return Ok(());
    }
    println!(
        "{:<10} {:>10} {:>6} {:>12} {:>9}  {:<12} description",
        "model", "params", "max K", "infopro K", "head", "input"
    );
    for m in &catalog {
        let infopro: Vec<String> = m.infopro_modules.iter().map(usize::to_string).collect();
        let input = format!(
            "{}x{}x{}",
            m.reference_input[0], m.reference_input[1], m.reference_input[2]
        );
        println!(
            "{:<10} {:>10} {:>6} {:>12} {:>9}  {:<12} {}",
            m.name,
            m.params,
            m.units,
            if infopro.is_empty() {
                "-".to_string()
            } else {
                infopro.join(",")
            },
            m.default_head,
            input,
            m.description
        );
    }
    println!(
        "\nparams: the network with 10 classes and no aux head. K may be 1..=max K (--split even);\n\
         --split infopro uses InfoPro's tables.\n\nAux heads (--aux-head NAME):"
    );
    for head in models.heads() {
        println!("  {:<9} {} [{}]", head.name(), head.design(), head.origin());
    }
    Ok(())
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
    fn every_numeric_flag_takes_a_negative_value_so_that_its_own_check_answers() {
        let mut refusing = Vec::new();
        refusing_negative_numbers(&super::Cli::command(), &mut refusing);
        assert!(refusing.is_empty(), "{refusing:?}");
        super::Cli::command().debug_assert();
    }
}
