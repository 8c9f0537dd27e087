//! `pgl bench`: images per second of local steps, global steps and a PGL schedule, with and
//! without the pipeline, on real data; prints the speedup (and JSON with `--json`).

use std::time::Instant;

use anyhow::Result;
use clap::Args;
use pgl_burn::{TrainSettings, Trainer};
use pgl_core::{NullSink, RunConfig};
use pgl_data::DatasetSplits;
use serde::Serialize;

use crate::options::{CommonArgs, validated};
use crate::plugins::plugins;
use crate::setup::{RunSetup, load_data};

/// Options of `pgl bench` (data and model options as for `pgl train`).
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Number of modules K [default: 4].
    #[arg(long, allow_negative_numbers = true)]
    modules: Option<usize>,
    /// Worker threads of the pipelined runs [default: 2].
    #[arg(long, allow_negative_numbers = true, value_name = "W")]
    workers: Option<usize>,
    /// Timed steps per measurement.
    #[arg(long, allow_negative_numbers = true, default_value_t = 20)]
    steps: usize,
    /// Untimed steps before each measurement (GPU backends compile and autotune kernels on
    /// their first steps); at most `--steps`.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1)]
    warmup_steps: usize,
    /// The PGL schedule to time besides local-only and end-to-end.
    #[arg(long, default_value = "periodic:every=4")]
    schedule: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Images per second of one schedule, sequential and pipelined.
#[derive(Debug, Clone, Serialize)]
pub struct Throughput {
    /// Sequential local steps.
    pub sequential: f64,
    /// Pipelined local steps (`null` where the schedule cannot be pipelined).
    pub pipelined: Option<f64>,
}

/// What `pgl bench --json` prints.
#[derive(Debug, Serialize)]
pub struct BenchReport {
    /// Local steps (local-only), images per second.
    pub images_per_second: Throughput,
    /// Pipelined over sequential local steps.
    pub speedup: f64,
    /// Global steps (end-to-end), images per second.
    pub global_images_per_second: f64,
    /// The PGL schedule, images per second.
    pub pgl_images_per_second: Throughput,
    /// The PGL schedule's speedup from pipelining.
    pub pgl_speedup: Option<f64>,
    /// The PGL schedule.
    pub pgl_schedule: String,
    /// Model, K, batch size, workers, timed steps.
    pub model: String,
    /// Number of modules.
    pub modules: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Pipeline workers.
    pub workers: usize,
    /// Timed steps per measurement.
    pub steps: usize,
    /// Dataset.
    pub dataset: String,
    /// The convolution kernels of the run (`pgl` or `onednn`: what `auto` chose; `pgl` on
    /// the GPU backends, which run neither).
    pub kernels: String,
}

/// Images per second of one epoch of `config` over `data`, after a warm-up epoch of
/// `warmup_steps` batches.
fn time_run(
    config: &RunConfig,
    data: &DatasetSplits,
    pipeline: Option<usize>,
    warmup_steps: usize,
) -> Result<f64> {
    let setup = RunSetup::prepare(config)?;
    let settings =
        TrainSettings::from_config_with(config, &plugins().lr_schedules, &plugins().objectives)?
            .with_augment(setup.augment)
            .with_pipeline(pipeline)
            .with_input_shape(crate::setup::image_shape(&setup.data))
            .with_input_normalization(setup.data.train.mean.clone(), setup.data.train.std.clone());
    let mut trainer = Trainer::new(setup.model, setup.schedule, settings, &setup.device)?;
    let warmup = DatasetSplits {
        train: data
            .train
            .clone()
            .truncated(config.training.batch_size * warmup_steps.max(1)), // never past `data`
        test: data.test.clone().truncated(1),
    };
    trainer.train_epoch(&warmup, &mut NullSink)?;
    let started = Instant::now();
    trainer.train_epoch(data, &mut NullSink)?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(data.train.len() as f64 / seconds)
}

/// Runs `pgl bench`.
pub fn run(args: BenchArgs) -> Result<()> {
    let (mut base, origins) = args.common.base_config()?;
    base.model.modules = args.modules.unwrap_or(base.model.modules);
    let workers = args.workers.unwrap_or(2);
    base.data.train_limit = Some(args.steps * base.training.batch_size);
    base.data.test_limit = Some(1);
    let base = validated(base, &origins)?;
    plugins().schedules.build(&args.schedule)?;
    let data = load_data(&base)?;
    let with = |schedule: &str| {
        let mut config = base.clone();
        config.guidance.schedule = schedule.to_string();
        config
    };
    let (model, batch) = (&base.model, base.training.batch_size);
    eprintln!(
        "pgl bench: {} K={} batch {batch} on {}, {} steps per measurement, pipeline of {workers} workers, {} kernels",
        model.name, model.modules, base.data.dataset, args.steps, base.runtime.kernels
    );
    let local = with("local-only");
    let warmup = args.warmup_steps;
    let local_seq = time_run(&local, &data, None, warmup)?;
    let local_pipe = time_run(&local, &data, Some(workers), warmup)?;
    let global = time_run(&with("end-to-end"), &data, None, warmup)?;
    let pgl = with(&args.schedule);
    let pgl_seq = time_run(&pgl, &data, None, warmup)?;
    let pgl_pipe = time_run(&pgl, &data, Some(workers), warmup).ok();
    let report = BenchReport {
        images_per_second: Throughput {
            sequential: local_seq,
            pipelined: Some(local_pipe),
        },
        speedup: local_pipe / local_seq,
        global_images_per_second: global,
        pgl_images_per_second: Throughput {
            sequential: pgl_seq,
            pipelined: pgl_pipe,
        },
        pgl_speedup: pgl_pipe.map(|p| p / pgl_seq),
        pgl_schedule: args.schedule.clone(),
        model: base.model.name.clone(),
        modules: base.model.modules,
        batch_size: base.training.batch_size,
        workers,
        steps: args.steps,
        dataset: base.data.dataset.clone(),
        kernels: base.runtime.kernels.clone(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{:<28} {:>14} {:>14} {:>9}",
        "steps", "sequential", "pipelined", "speedup"
    );
    println!(
        "{:<28} {:>10.1} im/s {:>10.1} im/s {:>8.2}x",
        "local (local-only)", local_seq, local_pipe, report.speedup
    );
    println!(
        "{:<28} {:>10.1} im/s {:>14} {:>9}",
        "global (end-to-end)", global, "-", "-"
    );
    match pgl_pipe {
        Some(p) => println!(
            "{:<28} {:>10.1} im/s {:>10.1} im/s {:>8.2}x",
            args.schedule,
            pgl_seq,
            p,
            p / pgl_seq
        ),
        None => println!(
            "{:<28} {:>10.1} im/s {:>14} {:>9}",
            args.schedule, pgl_seq, "(not pipelinable)", "-"
        ),
    }
    Ok(())
}
