//! `pgl compare`: several schedules (and local objectives, K values and seeds) on identical
//! data order, initial weights and step budget; a markdown and JSON table of the results over the seeds, and
//! plots.
//!
//! Every configuration is planned and checked up front (a bad spec, K or model fails before
//! any run); the plan is saved with the comparison (`compare-plan.json`, see [`plan`]), so
//! that `pgl compare --resume DIR` finishes an interrupted comparison.

mod charts;
mod markdown;
mod plan;
mod table;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use pgl_core::schedule::spec::split_spec_list;
use pgl_core::schedule::{EndToEnd, LocalOnly};
use pgl_core::{GuidanceSchedule, RunConfig};
use serde::Serialize;

use crate::options::{CommonArgs, Origins, validated};
use crate::output::{write_bytes_atomic, write_json_atomic};
use crate::plugins::plugins;
use crate::progress::SweepProgress;
use crate::runner::{RunTarget, execute_with};
use crate::setup::{check_runnable, objective_warning};
use markdown::markdown;
use plan::{Plan, PlannedRun, new_compare_dir};
use table::{Configuration, GapReference, Row, aggregate};

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
    /// Comparison folder (default: a new folder under runs/); an existing one must be empty.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Finish the interrupted comparison in this folder, as it was planned: complete runs are
    /// kept, an interrupted run resumes from its checkpoint, missing runs run (no other option
    /// may be given with it).
    #[arg(long, value_name = "DIR", conflicts_with_all = [
        "config", crate::options::CONFIG_FLAGS, "schedules", "objectives", "modules",
        "global_checkpointing", "seeds",
        "seed_list", "out",
    ])]
    resume: Option<PathBuf>,
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
        let objective = plugins()
            .objectives
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

/// Runs `pgl compare`: plans every run, checks every configuration, then runs them (or, with
/// `--resume`, finishes the plan of an interrupted comparison).
pub fn run(args: CompareArgs) -> Result<()> {
    if let Some(dir) = &args.resume {
        let plan = Plan::read(dir)?;
        let origins = Origins::file(&dir.join(plan::PLAN_FILE), Default::default());
        for planned in &plan.runs {
            validated(planned.config.clone(), &origins)
                .with_context(|| format!("{} in {}", planned.folder, plan::PLAN_FILE))?;
        }
        check_all(&plan)?;
        return execute_plan(&plan, dir, true);
    }
    let (plan, label) = make_plan(&args)?;
    check_all(&plan)?;
    let dir = new_compare_dir(args.out.as_deref(), &label)?;
    execute_plan(&plan, &dir, false)
}

/// Every run of the comparison `args` asks for, validated, with the comparison's label.
fn make_plan(args: &CompareArgs) -> Result<(Plan, String)> {
    let registry = &plugins().schedules;
    let mut schedules: Vec<String> = Vec::new();
    for list in &args.schedules {
        for spec in split_spec_list(list)? {
            registry
                .build(&spec)
                .with_context(|| format!("invalid schedule `{spec}` in --schedules"))?;
            schedules.push(spec);
        }
    }
    let checkpointing: &[bool] = match args.global_checkpointing.as_str() {
        "off" => &[false],
        "on" => &[true],
        "both" => &[false, true],
        other => bail!("--global-checkpointing must be off, on or both, not `{other}`"),
    };
    let (base, mut origins) = args.common.base_config()?;
    // What compare's own flags set (they were checked as they were read).
    for field in ["modules", "schedule", "global_checkpointing", "seed"] {
        origins.flag(field);
    }
    if !args.objectives.is_empty() {
        origins.flag("local_objective");
    }
    let objectives = objectives(&args.objectives, &base.objective.local_objective)?;
    let seeds = seeds(args, base.training.seed)?;
    let mut runs = Vec::new();
    for &k in &args.modules {
        for objective in &objectives {
            for spec in &schedules {
                for &ckpt in checkpointing {
                    for &seed in &seeds {
                        let mut config = base.clone();
                        config.model.modules = k;
                        config.objective.local_objective = objective.clone();
                        config.guidance.schedule = spec.clone();
                        config.guidance.global_checkpointing = ckpt;
                        config.training.seed = seed;
                        let config = validated(config, &origins)?;
                        runs.push(planned(runs.len(), config));
                    }
                }
            }
        }
    }
    if runs.is_empty() {
        bail!("nothing to compare: give at least one schedule and one K");
    }
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
        base.model.name, base.data.dataset, base.training.epochs
    );
    let label = format!("compare-{}-{}", base.data.dataset, base.model.name);
    Ok((Plan::new(title, seeds, runs), label))
}

/// Run `i` (0-based) of a comparison: its folder name and progress label.
fn planned(i: usize, config: RunConfig) -> PlannedRun {
    let ckpt = config.guidance.global_checkpointing;
    let objective = if pgl_core::objective::is_default_objective(&config.objective.local_objective)
    {
        String::new()
    } else {
        format!("{} ", config.objective.local_objective)
    };
    let label = format!(
        "K={} {objective}{}{} seed {}",
        config.model.modules,
        config.guidance.schedule,
        if ckpt { " ckpt" } else { "" },
        config.training.seed
    );
    let folder = format!(
        "{:02}-k{}-{}{}{}-s{}",
        i + 1,
        config.model.modules,
        if objective.is_empty() {
            String::new()
        } else {
            format!("{}-", slug(&objective))
        },
        slug(&config.guidance.schedule),
        if ckpt { "-ckpt" } else { "" },
        config.training.seed
    );
    PlannedRun {
        folder,
        label,
        config,
    }
}

/// Checks every run of `plan` before the first one starts ([`check_runnable`]: model, K,
/// objective, pipeline), each distinct configuration once, and prints each warning once.
fn check_all(plan: &Plan) -> Result<()> {
    let mut checked: Vec<RunConfig> = Vec::new();
    let mut warned: Vec<String> = Vec::new();
    for run in &plan.runs {
        let mut config = run.config.clone();
        config.training.seed = 0;
        if checked.contains(&config) {
            continue;
        }
        let schedule = plugins().schedules.build(&config.guidance.schedule)?;
        check_runnable(&config, &*schedule).with_context(|| {
            format!(
                "cannot run {} (K={}, schedule {}, local objective {}), nothing was run",
                config.model.name,
                config.model.modules,
                config.guidance.schedule,
                config.objective.local_objective
            )
        })?;
        if let Some(warning) = objective_warning(&config)
            && !warned.contains(&warning)
        {
            eprintln!("{warning}");
            warned.push(warning);
        }
        checked.push(config);
    }
    Ok(())
}

/// Runs every run of `plan` in the comparison folder `dir` and writes the tables and plots.
/// With `resume`, `dir` holds an interrupted comparison: finished runs are read back, started
/// ones resume from their checkpoints. Otherwise `dir` is made (with the plan) when the first
/// run's data and model are ready, so that a bad input leaves no folder behind.
fn execute_plan(plan: &Plan, dir: &Path, resume: bool) -> Result<()> {
    let registry = &plugins().schedules;
    let resume_with = format!("pgl compare --resume {}", dir.display());
    let mut created = resume;
    let started = Instant::now();
    let mut rows = Vec::new();
    for (i, run) in plan.runs.iter().enumerate() {
        let sub = dir.join(&run.folder);
        let state = if resume {
            plan::progress(&sub, run)?
        } else {
            plan::Progress::Fresh
        };
        let target = match state {
            plan::Progress::Finished(outcome) => {
                rows.push(Row::of(&outcome));
                continue;
            }
            plan::Progress::Started => RunTarget::Resume(sub),
            plan::Progress::Fresh => {
                let created = &mut created;
                RunTarget::New(Box::new(move || -> Result<PathBuf> {
                    if !*created {
                        std::fs::create_dir_all(dir)
                            .with_context(|| format!("cannot create {}", dir.display()))?;
                        plan.write(dir)?;
                        *created = true;
                    }
                    std::fs::create_dir_all(&sub)
                        .with_context(|| format!("cannot create {}", sub.display()))?;
                    Ok(sub)
                }))
            }
        };
        let progress = SweepProgress::new(i, plan.runs.len(), run.label.clone(), started);
        let schedule = registry.build(&run.config.guidance.schedule)?;
        let outcome = execute_with(
            &run.config,
            Some(schedule),
            target,
            progress,
            false,
            Some(&resume_with),
        )?;
        rows.push(Row::of(&outcome));
    }
    let reference = GapReference {
        local_only: LocalOnly.spec(),
        end_to_end: EndToEnd.spec(),
    };
    let configurations = aggregate(&rows, &reference);
    let table = markdown(&configurations, &rows, &plan.title);
    write_bytes_atomic(&dir.join("compare.md"), table.as_bytes())?;
    write_json_atomic(
        &dir.join("compare.json"),
        &CompareFile {
            seeds: &plan.seeds,
            configurations: &configurations,
            runs: &rows,
        },
    )?;
    let plots = charts::plot(dir, &configurations)?;
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
