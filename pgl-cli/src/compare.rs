//! `pgl compare`: several schedules (and local objectives, K values and seeds) on identical
//! data order, initial weights and step budget; a markdown and JSON table of the results over the seeds, and
//! plots.
//!
//! Every schedule and objective spec is parsed and built once, up front (a bad spec fails
//! before any run);
//! each run gets a fresh copy of the built schedule (`clone_box`).

mod charts;
mod table;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use pgl_core::schedule::spec::split_spec_list;
use pgl_core::schedule::{EndToEnd, LocalOnly};
use pgl_core::{GuidanceSchedule, ObjectiveRegistry, RunConfig, ScheduleRegistry};
use serde::Serialize;

use crate::options::{CommonArgs, validated};
use crate::output::{create_run_dir, write_bytes_atomic, write_json_atomic};
use crate::progress::SweepProgress;
use crate::runner::{RunTarget, execute_with};
use table::{Configuration, GapReference, Row, aggregate, markdown};

/// Options of `pgl compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Schedule specs to compare, comma separated (a `key=value` item belongs to the spec before it).
    #[arg(long, default_value = "end-to-end,local-only,periodic:every=4")]
    schedules: Vec<String>,
    /// Local objectives to compare, comma separated like --schedules (e.g. ce,infopro;
    /// see `pgl objectives`): every objective runs with every schedule [default: --local-objective, or ce].
    #[arg(long, value_name = "SPECS")]
    objectives: Vec<String>,
    /// Values of K to sweep, comma separated.
    #[arg(
        long,
        allow_negative_numbers = true,
        value_delimiter = ',',
        default_value = "4"
    )]
    modules: Vec<usize>,
    /// Gradient checkpointing of global steps (module-boundary recomputation): off, on, or both (every run twice).
    #[arg(long, default_value = "off")]
    global_checkpointing: String,
    /// Run every configuration on N seeds: --seed, --seed + 1, ..., --seed + N - 1.
    #[arg(long, allow_negative_numbers = true, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u64).range(1..))]
    seeds: u64,
    /// Run every configuration on these seeds, comma separated (instead of --seed and --seeds).
    #[arg(long, allow_negative_numbers = true, value_name = "S1,S2,...", value_delimiter = ',',
          conflicts_with_all = ["seeds", "seed"])]
    seed_list: Vec<u64>,
    /// Comparison folder (default: a new folder under runs/).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// What `compare.json` holds.
#[derive(Debug, Serialize)]
struct CompareFile<'a> {
    /// The seeds every configuration ran on.
    seeds: &'a [u64],
    /// One entry per configuration: means and standard deviations over the seeds.
    configurations: &'a [Configuration],
    /// One entry per run (configuration and seed).
    runs: &'a [Row],
}

/// The seeds to run: `--seed-list`, else `--seeds` consecutive seeds from `base`.
fn seeds(args: &CompareArgs, base: u64) -> Result<Vec<u64>> {
    if !args.seed_list.is_empty() {
        let mut seeds = Vec::new();
        for &seed in &args.seed_list {
            if seeds.contains(&seed) {
                bail!("seed {seed} appears twice in --seed-list");
            }
            seeds.push(seed);
        }
        return Ok(seeds);
    }
    (0..args.seeds)
        .map(|i| {
            base.checked_add(i).with_context(|| {
                format!(
                    "--seed {base} with --seeds {} passes the largest seed, {}",
                    args.seeds,
                    u64::MAX
                )
            })
        })
        .collect()
}

/// The canonical specs of the objectives to compare (`--objectives`, comma separated like
/// `--schedules`; none: `default`), each built once (a bad spec is an error naming it).
fn objectives(lists: &[String], default: &str) -> Result<Vec<String>> {
    let specs = if lists.is_empty() {
        vec![default.to_string()]
    } else {
        let mut specs = Vec::new();
        for list in lists {
            specs.extend(split_spec_list(list)?);
        }
        specs
    };
    let mut canonical: Vec<String> = Vec::new();
    for spec in specs {
        let objective = ObjectiveRegistry::with_builtins()
            .build(&spec)
            .with_context(|| format!("invalid objective `{spec}` in --objectives"))?;
        let spec = objective.spec();
        if canonical.contains(&spec) {
            bail!("objective `{spec}` appears twice in --objectives");
        }
        canonical.push(spec);
    }
    Ok(canonical)
}

/// Lowercase letters, digits and single dashes: a spec as part of a folder name.
fn slug(spec: &str) -> String {
    let s: String = spec
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    s.split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Runs `pgl compare`.
pub fn run(args: CompareArgs) -> Result<()> {
    let registry = ScheduleRegistry::with_builtins();
    let mut schedules: Vec<(String, Box<dyn GuidanceSchedule>)> = Vec::new();
    for list in &args.schedules {
        for spec in split_spec_list(list)? {
            let schedule = registry
                .build(&spec)
                .with_context(|| format!("invalid schedule `{spec}` in --schedules"))?;
            schedules.push((spec, schedule));
        }
    }
    let checkpointing: &[bool] = match args.global_checkpointing.as_str() {
        "off" => &[false],
        "on" => &[true],
        "both" => &[false, true],
        other => bail!("--global-checkpointing must be off, on or both, not `{other}`"),
    };
    let (base, origins) = args.common.base_config()?;
    let objectives = objectives(&args.objectives, &base.local_objective)?;
    let seeds = seeds(&args, base.seed)?;
    let mut runs: Vec<(RunConfig, &dyn GuidanceSchedule)> = Vec::new();
    for &k in &args.modules {
        for objective in &objectives {
            for (spec, schedule) in &schedules {
                for &ckpt in checkpointing {
                    for &seed in &seeds {
                        let config = RunConfig {
                            modules: k,
                            local_objective: objective.clone(),
                            schedule: spec.clone(),
                            global_checkpointing: ckpt,
                            seed,
                            ..base.clone()
                        };
                        runs.push((validated(config, &origins)?, schedule.as_ref()));
                    }
                }
            }
        }
    }
    if runs.is_empty() {
        bail!("nothing to compare: give at least one schedule and one K");
    }
    let label = format!("compare-{}-{}", base.dataset, base.model);
    let mut dir: Option<PathBuf> = None;
    let started = Instant::now();
    let mut rows = Vec::new();
    for (i, (config, schedule)) in runs.iter().enumerate() {
        let ckpt = config.global_checkpointing;
        let objective = match config.local_objective.as_str() {
            "ce" => String::new(),
            other => format!("{other} "),
        };
        let run_label = format!(
            "K={} {objective}{}{} seed {}",
            config.modules,
            config.schedule,
            if ckpt { " ckpt" } else { "" },
            config.seed
        );
        let progress = SweepProgress::new(i, runs.len(), run_label, started);
        let out = args.out.clone();
        let parent = &mut dir;
        let sub = format!(
            "{:02}-k{}-{}{}{}-s{}",
            i + 1,
            config.modules,
            if objective.is_empty() {
                String::new()
            } else {
                format!("{}-", slug(&objective))
            },
            slug(&config.schedule),
            if ckpt { "-ckpt" } else { "" },
            config.seed
        );
        let make_dir = || -> Result<PathBuf> {
            if parent.is_none() {
                *parent = Some(create_run_dir(out.as_deref(), &label)?);
            }
            let path = parent.as_ref().expect("just created").join(sub);
            std::fs::create_dir_all(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            Ok(path)
        };
        let target = RunTarget::New(Box::new(make_dir));
        let outcome = execute_with(
            config,
            Some(schedule.clone_box()),
            target,
            progress,
            false,
            None,
        )?;
        rows.push(Row::of(&outcome));
    }
    let dir = dir.expect("at least one run created the folder");
    let reference = GapReference {
        local_only: LocalOnly.spec(),
        end_to_end: EndToEnd.spec(),
    };
    let configurations = aggregate(&rows, &reference);
    let seed_text = match seeds.as_slice() {
        [seed] => format!("seed {seed}"),
        many => format!(
            "seeds {}",
            many.iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let title = format!(
        "pgl compare: {} on {} ({} epochs, {seed_text})",
        base.model, base.dataset, base.epochs
    );
    let table = markdown(&configurations, &rows, &title);
    write_bytes_atomic(&dir.join("compare.md"), table.as_bytes())?;
    write_json_atomic(
        &dir.join("compare.json"),
        &CompareFile {
            seeds: &seeds,
            configurations: &configurations,
            runs: &rows,
        },
    )?;
    let plots = charts::plot(&dir, &configurations)?;
    println!("{table}");
    println!(
        "wrote {}/compare.md, compare.json and plots:",
        dir.display()
    );
    for stem in plots {
        println!("  {}.svg / .png", stem.display());
    }
    Ok(())
}
