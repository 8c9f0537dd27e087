//! `pgl train`, fresh or resumed.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;
use pgl_core::RunConfig;

use crate::config_file::read_config;
use crate::options::{CommonArgs, validated};
use crate::output::create_run_dir;
use crate::progress::ConsoleSink;
use crate::runner::{RunTarget, execute};

/// Options of `pgl train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Number of decoupled modules K [default: 4].
    #[arg(long, allow_negative_numbers = true)]
    modules: Option<usize>,
    /// Guidance schedule spec, see `pgl schedules` [default: periodic:every=4].
    #[arg(long)]
    schedule: Option<String>,
    /// Gradient checkpointing in global steps only: keep module-boundary activations and
    /// recompute each module during backward, one module's graph at a time
    /// (`--global-checkpointing` or `--global-checkpointing false`) [default: false].
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    global_checkpointing: Option<bool>,
    /// Run folder [default: a new folder under runs/].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue the run in this folder from its last complete checkpoint (only --epochs may
    /// be given with it, to train further).
    #[arg(long, value_name = "RUN_DIR", conflicts_with = "out")]
    resume: Option<PathBuf>,
    /// Start a new run from the weights of a checkpoint (a checkpoint folder, or a run folder's
    /// newest) or of a `.safetensors` file (`pgl export`, or PyTorch's state_dict): any flag may
    /// change except the model's shape; optimizer and schedule state start fresh unless
    /// --keep-optimizer.
    #[arg(
        long,
        value_name = "RUN_DIR|CKPT|FILE.safetensors",
        conflicts_with = "resume"
    )]
    init_from: Option<PathBuf>,
    /// With --init-from: keep the checkpoint's optimizer states and schedule state.
    #[arg(long, requires = "init_from")]
    keep_optimizer: bool,
}

/// Runs `pgl train`.
pub fn run(args: TrainArgs) -> Result<()> {
    if let Some(run_dir) = &args.resume {
        return resume(&args, run_dir);
    }
    let (mut config, mut origins) = args.common.base_config()?;
    if let Some(k) = args.modules {
        config.model.modules = k;
        origins.flag("modules");
    }
    if let Some(schedule) = &args.schedule {
        config.guidance.schedule = schedule.clone();
        origins.flag("schedule");
    }
    if let Some(ckpt) = args.global_checkpointing {
        config.guidance.global_checkpointing = ckpt;
        origins.flag("global_checkpointing");
    }
    if let Some(source) = &args.init_from {
        let checkpoint = init_source(source, args.keep_optimizer, &config)?;
        config.runtime.init_from = Some(checkpoint.display().to_string());
        config.runtime.keep_optimizer = args.keep_optimizer;
    }
    let config = validated(config, &origins)?;
    if let Some(warning) = crate::setup::objective_warning(&config) {
        eprintln!("{warning}");
    }
    let label = format!(
        "{}-{}-k{}",
        config.data.dataset, config.model.name, config.model.modules
    );
    let out = args.out.clone();
    let target = RunTarget::New(Box::new(move || create_run_dir(out.as_deref(), &label)));
    finish(execute(
        &config,
        target,
        ConsoleSink::new(config.model.modules),
        true,
    )?)
}

/// `pgl train --resume RUN_DIR`: the run as configured in its `config.json`, `--epochs` aside.
fn resume(args: &TrainArgs, run_dir: &Path) -> Result<()> {
    if args.common.any_given_besides_epochs()
        || args.modules.is_some()
        || args.schedule.is_some()
        || args.global_checkpointing.is_some()
    {
        bail!(
            "--resume continues the run exactly as configured in {}; only --epochs may be given with it",
            run_dir.join("config.json").display()
        );
    }
    let (mut config, mut origins) = read_config(&run_dir.join("config.json"))?;
    // Only --epochs can be among the flags here (checked above).
    args.common.flags.apply(&mut config, &mut origins)?;
    let config = validated(config, &origins)?;
    let modules = config.model.modules;
    finish(execute(
        &config,
        RunTarget::Resume(run_dir.to_path_buf()),
        ConsoleSink::new(modules),
        true,
    )?)
}

/// The weights `--init-from SOURCE` names (a safetensors file, or the checkpoint a run or
/// checkpoint folder resolves to), refused when `--keep-optimizer` cannot keep the optimizer
/// states of `config`'s optimizer from it.
fn init_source(source: &Path, keep_optimizer: bool, config: &RunConfig) -> Result<PathBuf> {
    let checkpoint = if pgl_burn::export::is_safetensors(source) {
        if keep_optimizer {
            bail!(
                "--keep-optimizer: {} is a weights file (safetensors) with no optimizer or schedule state; use a run or checkpoint folder, or drop --keep-optimizer",
                source.display()
            );
        }
        source.to_path_buf()
    } else {
        pgl_burn::checkpoint::resolve(source)?
    };
    if keep_optimizer {
        // Burn would load another optimizer's states without a word and start fresh.
        let saved = pgl_burn::checkpoint::read_manifest(&checkpoint)?
            .config
            .optimizer
            .kind;
        if saved != config.optimizer.kind {
            bail!(
                "--keep-optimizer: the checkpoint {} holds {} optimizer states, but this run's --optimizer is {}; states do not carry over between optimizers: use --optimizer {} or drop --keep-optimizer",
                checkpoint.display(),
                saved.as_str(),
                config.optimizer.kind.as_str(),
                saved.as_str()
            );
        }
    }
    Ok(checkpoint)
}

fn finish(outcome: crate::runner::RunOutcome) -> Result<()> {
    let s = &outcome.summary;
    let mib = |b: Option<u64>| {
        b.map_or("-".to_string(), |b| {
            format!("{:.1} MiB", b as f64 / 1048576.0)
        })
    };
    println!(
        "final test accuracy {:.4} (loss {:.4}; best {:.4} at epoch {}) after {} epochs, {} local + {} global steps, {:.1}s; peak step memory local {} / global {}; wrote {}",
        s.test_accuracy,
        s.test_loss,
        s.best_test_accuracy,
        s.best_epoch,
        s.epochs,
        s.steps_local,
        s.steps_global,
        s.wall_seconds,
        mib(s.peak_memory_bytes.local),
        mib(s.peak_memory_bytes.global),
        outcome.run_dir.join("summary.json").display()
    );
    Ok(())
}
