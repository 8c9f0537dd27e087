//! `pgl compare`: several schedules (and K values) on identical data order, initial weights
//! and step budget; a markdown and JSON table and plots of the results.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Args;
use pgl_core::schedule::spec::split_spec_list;
use pgl_core::{EventSink, RunConfig, ScheduleRegistry, TrainEvent};
use serde::Serialize;

use crate::options::{CommonArgs, validated};
use crate::output::{create_run_dir, write_json_atomic};
use crate::plots::{Chart, Series, write_chart};
use crate::runner::{RunOutcome, RunTarget, execute};

/// Options of `pgl compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Schedule specs to compare, comma separated (a `key=value` item belongs to the spec before it).
    #[arg(long, default_value = "end-to-end,local-only,periodic:every=10")]
    schedules: Vec<String>,
    /// Values of K to sweep, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "4")]
    modules: Vec<usize>,
    /// Gradient checkpointing of the training device: off, on, or both (every run twice).
    #[arg(long, default_value = "off")]
    global_checkpointing: String,
    /// Comparison folder (default: a new folder under runs/).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// One row of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// Canonical schedule spec.
    pub schedule: String,
    /// Number of modules K.
    pub modules: usize,
    /// Whether the run used gradient checkpointing.
    pub global_checkpointing: bool,
    /// Test accuracy of the network.
    pub test_accuracy: f64,
    /// 1 - test accuracy.
    pub test_error: f64,
    /// Test accuracy of every module's head (the last is the network's).
    pub module_accuracy: Vec<f64>,
    /// Test accuracy of the network after every epoch.
    pub accuracy_per_epoch: Vec<f64>,
    /// Share of the steps that were global.
    pub global_step_share: f64,
    /// Training images per second.
    pub images_per_second: f64,
    /// Highest transient memory of a local step, bytes.
    pub peak_memory_bytes_local: Option<u64>,
    /// Highest transient memory of a global step, bytes.
    pub peak_memory_bytes_global: Option<u64>,
    /// Seconds spent in training steps.
    pub train_seconds: f64,
    /// The run's folder.
    pub run_dir: String,
}

impl Row {
    fn of(outcome: &RunOutcome) -> Self {
        let s = &outcome.summary;
        let steps = (s.steps_local + s.steps_global).max(1);
        Self {
            schedule: s.schedule.clone(),
            modules: s.config.modules,
            global_checkpointing: s.config.global_checkpointing,
            test_accuracy: s.test_accuracy,
            test_error: 1.0 - s.test_accuracy,
            module_accuracy: s.module_accuracy.clone(),
            accuracy_per_epoch: outcome.history.iter().map(|m| m.test_accuracy).collect(),
            global_step_share: s.steps_global as f64 / steps as f64,
            images_per_second: s.images_per_second,
            peak_memory_bytes_local: s.peak_memory_bytes.local,
            peak_memory_bytes_global: s.peak_memory_bytes.global,
            train_seconds: s.train_seconds,
            run_dir: outcome.run_dir.display().to_string(),
        }
    }

    fn label(&self, with_k: bool, with_ckpt: bool) -> String {
        let mut label = self.schedule.clone();
        if with_k {
            label = format!("{label}, K={}", self.modules);
        }
        if with_ckpt && self.global_checkpointing {
            label.push_str(", ckpt");
        }
        label
    }
}

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

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or("-".to_string(), |b| {
        format!("{:.1}", b as f64 / 1_048_576.0)
    })
}

/// The comparison table as markdown.
pub fn markdown(rows: &[Row], title: &str) -> String {
    let mut out = format!("# {title}\n\n");
    out.push_str("| schedule | K | ckpt | test acc | test error | module 1 acc | module K acc | global steps | images/s | local step peak MiB | global step peak MiB |\n");
    out.push_str("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in rows {
        out.push_str(&format!(
            "| `{}` | {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.1}% | {:.0} | {} | {} |\n",
            r.schedule,
            r.modules,
            if r.global_checkpointing { "on" } else { "off" },
            r.test_accuracy,
            r.test_error,
            r.module_accuracy.first().copied().unwrap_or(0.0),
            r.module_accuracy.last().copied().unwrap_or(0.0),
            100.0 * r.global_step_share,
            r.images_per_second,
            mib(r.peak_memory_bytes_local),
            mib(r.peak_memory_bytes_global),
        ));
    }
    out.push_str(
        "\nModule 1 acc: test accuracy of the first module's auxiliary head; module K acc: the \
         network's classifier. Peaks: transient heap memory of one step (activations, graph, \
         gradients, optimizer temporaries) on the CPU backend; `-` where no step of that kind ran. \
         Auxiliary heads learn only in local steps (and in global steps with `--aux-weight`), so \
         under `end-to-end` their accuracy stays near chance.\n",
    );
    out
}

/// Draws the comparison's plots into `dir`; returns the files' stems.
pub fn plot(dir: &Path, rows: &[Row]) -> Result<Vec<PathBuf>> {
    let mut ks: Vec<usize> = rows.iter().map(|r| r.modules).collect();
    ks.sort_unstable();
    ks.dedup();
    let with_ckpt = rows.iter().any(|r| r.global_checkpointing);
    let mut written = Vec::new();

    let epoch_series: Vec<Series> = rows
        .iter()
        .map(|r| Series {
            label: r.label(ks.len() > 1, with_ckpt),
            points: r
                .accuracy_per_epoch
                .iter()
                .enumerate()
                .map(|(e, a)| ((e + 1) as f64, *a))
                .collect(),
        })
        .collect();
    let stem = dir.join("accuracy_vs_epoch");
    write_chart(
        &stem,
        &Chart {
            title: "Test accuracy per epoch",
            x_label: "epoch",
            y_label: "test accuracy",
            series: &epoch_series,
            integer_x: true,
        },
    )?;
    written.push(stem);

    for &k in &ks {
        let series: Vec<Series> = rows
            .iter()
            .filter(|r| r.modules == k)
            .map(|r| Series {
                label: r.label(false, with_ckpt),
                points: r
                    .module_accuracy
                    .iter()
                    .enumerate()
                    .map(|(m, a)| ((m + 1) as f64, *a))
                    .collect(),
            })
            .collect();
        let stem = dir.join(format!("module_accuracy_k{k}"));
        let title = format!("Test accuracy of each module's head, K = {k}");
        write_chart(
            &stem,
            &Chart {
                title: &title,
                x_label: "module (its auxiliary head; the last is the network's classifier)",
                y_label: "test accuracy",
                series: &series,
                integer_x: true,
            },
        )?;
        written.push(stem);
    }

    if ks.len() > 1 {
        let mut schedules: Vec<(String, bool)> = Vec::new();
        for r in rows {
            if !schedules.contains(&(r.schedule.clone(), r.global_checkpointing)) {
                schedules.push((r.schedule.clone(), r.global_checkpointing));
            }
        }
        let series: Vec<Series> = schedules
            .iter()
            .map(|(schedule, ckpt)| {
                let row = rows
                    .iter()
                    .find(|r| &r.schedule == schedule && r.global_checkpointing == *ckpt);
                Series {
                    label: row.map(|r| r.label(false, with_ckpt)).unwrap_or_default(),
                    points: rows
                        .iter()
                        .filter(|r| &r.schedule == schedule && r.global_checkpointing == *ckpt)
                        .map(|r| (r.modules as f64, r.test_error))
                        .collect(),
                }
            })
            .collect();
        let stem = dir.join("error_vs_modules");
        write_chart(
            &stem,
            &Chart {
                title: "Test error against the number of modules K",
                x_label: "number of modules K",
                y_label: "test error",
                series: &series,
                integer_x: true,
            },
        )?;
        written.push(stem);
    }
    Ok(written)
}

/// Progress across the whole comparison (stderr): a bar on a terminal, plain lines otherwise.
struct CompareProgress {
    interactive: bool,
    run: usize,
    runs: usize,
    label: String,
    epochs: u64,
    per_epoch: u64,
    started: Instant,
    last_draw: Instant,
}

impl EventSink for CompareProgress {
    fn on_event(&mut self, event: &TrainEvent) {
        match event {
            TrainEvent::RunStarted {
                epochs,
                iterations_per_epoch,
            } => {
                self.epochs = *epochs;
                self.per_epoch = *iterations_per_epoch;
                if !self.interactive {
                    eprintln!("run {}/{}: {}", self.run + 1, self.runs, self.label);
                }
            }
            TrainEvent::StepFinished {
                epoch,
                iteration_in_epoch,
                ..
            } => {
                if !self.interactive || self.last_draw.elapsed().as_millis() < 150 {
                    return;
                }
                self.last_draw = Instant::now();
                let done_in_run = (epoch - 1) * self.per_epoch + iteration_in_epoch + 1;
                let run_total = (self.epochs * self.per_epoch).max(1);
                let overall =
                    (self.run as f64 + done_in_run as f64 / run_total as f64) / self.runs as f64;
                let width = 30;
                let filled = ((overall * width as f64) as usize).min(width);
                let elapsed = self.started.elapsed().as_secs_f64();
                let eta = if overall > 0.0 {
                    elapsed / overall * (1.0 - overall)
                } else {
                    0.0
                };
                eprint!(
                    "\r\x1b[2K[{}{}] {:>5.1}% run {}/{} ({}) epoch {epoch}/{} eta {:.0}s",
                    "#".repeat(filled),
                    "-".repeat(width - filled),
                    overall * 100.0,
                    self.run + 1,
                    self.runs,
                    self.label,
                    self.epochs,
                    eta
                );
                let _ = std::io::stderr().flush();
            }
            TrainEvent::EvaluationStarted { .. } => {}
            TrainEvent::EpochFinished(m) => {
                if self.interactive {
                    eprint!("\r\x1b[2K");
                }
                eprintln!(
                    "run {}/{} ({}): epoch {}/{} test accuracy {:.4}",
                    self.run + 1,
                    self.runs,
                    self.label,
                    m.epoch,
                    self.epochs,
                    m.test_accuracy
                );
            }
        }
    }
}

/// Runs `pgl compare`.
pub fn run(args: CompareArgs) -> Result<()> {
    let registry = ScheduleRegistry::with_builtins();
    let mut schedules = Vec::new();
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
    let base = args.common.base_config()?;
    let mut configs: Vec<RunConfig> = Vec::new();
    for &k in &args.modules {
        for schedule in &schedules {
            for &ckpt in checkpointing {
                let config = RunConfig {
                    modules: k,
                    schedule: schedule.clone(),
                    global_checkpointing: ckpt,
                    ..base.clone()
                };
                configs.push(validated(config)?);
            }
        }
    }
    if configs.is_empty() {
        bail!("nothing to compare: give at least one schedule and one K");
    }
    let label = format!("compare-{}-{}", base.dataset, base.model);
    let mut dir: Option<PathBuf> = None;
    let started = Instant::now();
    let mut rows = Vec::new();
    for (i, config) in configs.iter().enumerate() {
        let run_label = format!(
            "K={} {}{}",
            config.modules,
            config.schedule,
            if config.global_checkpointing {
                " ckpt"
            } else {
                ""
            }
        );
        let progress = CompareProgress {
            interactive: std::io::stderr().is_terminal(),
            run: i,
            runs: configs.len(),
            label: run_label,
            epochs: config.epochs,
            per_epoch: 1,
            started,
            last_draw: Instant::now(),
        };
        let out = args.out.clone();
        let parent = &mut dir;
        let sub = format!(
            "{:02}-k{}-{}{}",
            i + 1,
            config.modules,
            slug(&config.schedule),
            if config.global_checkpointing {
                "-ckpt"
            } else {
                ""
            }
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
        let outcome = execute(config, RunTarget::New(Box::new(make_dir)), progress, false)?;
        rows.push(Row::of(&outcome));
    }
    let dir = dir.expect("at least one run created the folder");
    let title = format!(
        "pgl compare: {} on {} ({} epochs, seed {})",
        base.model, base.dataset, base.epochs, base.seed
    );
    let table = markdown(&rows, &title);
    std::fs::write(dir.join("compare.md"), &table)
        .with_context(|| format!("cannot write {}", dir.join("compare.md").display()))?;
    write_json_atomic(&dir.join("compare.json"), &rows)?;
    let plots = plot(&dir, &rows)?;
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
