//! `pgl train`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::options::CommonArgs;
use crate::output::create_run_dir;
use crate::progress::ConsoleSink;
use crate::runner::execute;

/// Options of `pgl train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Number of decoupled modules K.
    #[arg(long, default_value_t = 4)]
    modules: usize,
    /// Guidance schedule spec (see `pgl schedules`).
    #[arg(long, default_value = "periodic:every=10")]
    schedule: String,
    /// Train on Burn's gradient-checkpointing autodiff device (global steps keep fewer activations).
    #[arg(long)]
    global_checkpointing: bool,
    /// Run folder (default: a new folder under runs/).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `pgl train`.
pub fn run(args: TrainArgs) -> Result<()> {
    let config = args
        .common
        .to_config(args.modules, &args.schedule, args.global_checkpointing)?;
    let label = format!("{}-{}-k{}", config.dataset, config.model, config.modules);
    let out = args.out.clone();
    let outcome = execute(
        &config,
        || create_run_dir(out.as_deref(), &label),
        ConsoleSink::new(config.modules),
        true,
    )?;
    let run_dir = &outcome.run_dir;
    let s = &outcome.summary;
    let mib = |b: Option<u64>| {
        b.map_or("-".to_string(), |b| {
            format!("{:.1} MiB", b as f64 / 1048576.0)
        })
    };
    println!(
        "test accuracy {:.4} (loss {:.4}) after {} epochs, {} local + {} global steps, {:.1}s; peak step memory local {} / global {}; wrote {}",
        s.test_accuracy,
        s.test_loss,
        s.epochs,
        s.steps_local,
        s.steps_global,
        s.wall_seconds,
        mib(s.peak_memory_bytes.local),
        mib(s.peak_memory_bytes.global),
        run_dir.join("summary.json").display()
    );
    Ok(())
}
