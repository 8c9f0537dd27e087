//! The plan of a comparison (`compare-plan.json`: every run's folder and configuration, the
//! seeds and the title), written before the first run, so that `pgl compare --resume DIR`
//! can finish an interrupted comparison: runs already complete are read back, the interrupted
//! one resumes from its checkpoint, missing ones run.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use pgl_burn::checkpoint::CheckpointStore;
use pgl_core::{EpochMetrics, RunConfig};
use serde::{Deserialize, Serialize};

use crate::output::{utc_stamp, write_json_atomic};
use crate::runner::{RunOutcome, Summary};

/// The plan's file in the comparison folder.
pub const PLAN_FILE: &str = "compare-plan.json";
/// Version of the plan's layout.
const PLAN_FORMAT: u32 = 1;

/// One run of a comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlannedRun {
    /// Its sub-folder, e.g. `03-k4-local-only-s43`.
    pub folder: String,
    /// What the progress line calls it, e.g. `K=4 local-only seed 43`.
    pub label: String,
    /// Its validated configuration.
    pub config: RunConfig,
}

/// What `compare-plan.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// [`PLAN_FORMAT`] of the writer.
    pub format: u32,
    /// The title of `compare.md`.
    pub title: String,
    /// The seeds every configuration runs on.
    pub seeds: Vec<u64>,
    /// Every run, in order.
    pub runs: Vec<PlannedRun>,
}

impl Plan {
    /// A plan of `runs` on `seeds` titled `title`.
    pub fn new(title: String, seeds: Vec<u64>, runs: Vec<PlannedRun>) -> Self {
        Self {
            format: PLAN_FORMAT,
            title,
            seeds,
            runs,
        }
    }

    /// Writes the plan into the comparison folder `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        write_json_atomic(&dir.join(PLAN_FILE), self)
    }

    /// Reads the plan of the comparison folder `dir`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(PLAN_FILE);
        if !path.is_file() {
            bail!(
                "{} is not a comparison folder of this pgl: it holds no {PLAN_FILE} (comparisons started before pgl wrote one cannot be resumed)",
                dir.display()
            );
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let mut plan: Plan = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a comparison plan", path.display()))?;
        for run in &mut plan.runs {
            run.config.fill_recorded_aux_head();
        }
        if plan.format != PLAN_FORMAT {
            bail!(
                "{}: plan format {} is not supported (this pgl reads format {PLAN_FORMAT})",
                path.display(),
                plan.format
            );
        }
        Ok(plan)
    }
}

/// The folder a new comparison writes to, not created yet: `out` when given (it must be
/// absent or empty: a comparison is never overwritten), else a new `runs/<stamp>-<label>`.
pub fn new_compare_dir(out: Option<&Path>, label: &str) -> Result<PathBuf> {
    if let Some(dir) = out {
        let occupied = match std::fs::read_dir(dir) {
            Ok(mut entries) => entries.next().is_some(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => bail!("cannot use --out {}: {e}", dir.display()),
        };
        if occupied {
            bail!(
                "--out {} already exists and is not empty; choose another --out so that nothing is overwritten, or finish an interrupted comparison there with `pgl compare --resume {}`",
                dir.display(),
                dir.display()
            );
        }
        return Ok(dir.to_path_buf());
    }
    let base = PathBuf::from("runs").join(format!("{}-{label}", utc_stamp()));
    Ok((0..)
        .map(|n| match n {
            0 => base.clone(),
            n => PathBuf::from(format!("{}-{n}", base.display())),
        })
        .find(|candidate| !candidate.exists())
        .expect("some suffix is free"))
}

/// Where a planned run stands in the folder `dir` of an interrupted comparison.
pub enum Progress {
    /// It finished: its summary and metrics, read back.
    Finished(Box<RunOutcome>),
    /// It started and wrote a checkpoint: resume it.
    Started,
    /// It did not start, or stopped before its first checkpoint: run it (again).
    Fresh,
}

/// Where the run `planned` stands in its folder `dir`; a finished run of another configuration
/// is an error.
pub fn progress(dir: &Path, planned: &PlannedRun) -> Result<Progress> {
    let summary_path = dir.join("summary.json");
    if summary_path.is_file() {
        let text = std::fs::read_to_string(&summary_path)
            .with_context(|| format!("cannot read {}", summary_path.display()))?;
        let summary: Summary = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a run summary", summary_path.display()))?;
        if summary.config != planned.config {
            bail!(
                "{} holds a run of another configuration than {} plans for it",
                dir.display(),
                PLAN_FILE
            );
        }
        let metrics_path = dir.join("metrics.jsonl");
        let history = std::fs::read_to_string(&metrics_path)
            .with_context(|| format!("cannot read {}", metrics_path.display()))?
            .lines()
            .map(serde_json::from_str::<EpochMetrics>)
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("{} is damaged", metrics_path.display()))?;
        return Ok(Progress::Finished(Box::new(RunOutcome {
            summary,
            history,
            run_dir: dir.to_path_buf(),
        })));
    }
    let store = CheckpointStore::new(dir, planned.config.runtime.keep_checkpoints);
    if store.list()?.is_empty() {
        return Ok(Progress::Fresh);
    }
    Ok(Progress::Started)
}
