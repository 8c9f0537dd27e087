//! `pgl`: train networks cut into decoupled modules with periodic global guidance.
//!
//! This binary is thin: it parses flags into a [`RunConfig`](pgl_core::RunConfig), runs the
//! engine of `pgl-burn` on a model of `pgl-models` and data of `pgl-data`, and writes the run
//! folder. See `pgl --help` and the README.

mod output;
mod progress;
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
    /// List the guidance schedules and their spec syntax.
    Schedules,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Train(args) => train::run(*args),
        Command::Schedules => {
            print_schedules();
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
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
