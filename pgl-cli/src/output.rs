//! The run folder (`config.json`, `metrics.jsonl`, `summary.json`) and atomic writes of
//! every output file: temporary file, fsync, rename, fsync of the folder.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use pgl_core::{EpochMetrics, EventSink, TrainEvent};
use serde::Serialize;

/// Writes `bytes` to `path` atomically: a temporary file in the same folder (`<name>.tmp`),
/// fsync, rename over `path`, fsync of the folder, so that `path` holds either its old content
/// or all of the new one, also after a crash.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temporary_path(path, "tmp");
    let written = (|| -> Result<()> {
        let mut file =
            File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write {}", tmp.display()))
    })();
    if let Err(error) = written {
        let _ = fs::remove_file(&tmp);
        return Err(error);
    }
    publish(&tmp, path)
}

/// Writes `value` as pretty JSON (with a final newline) to `path` atomically, as
/// [`write_bytes_atomic`] does.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_bytes_atomic(path, text.as_bytes())
}

/// A name beside `path` for its content while it is being written: `<name>.<suffix>`.
pub fn temporary_path(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!("{name}.{suffix}"))
}

/// Renames the finished, fsynced file `tmp` to `path` and fsyncs their folder, so that the
/// rename itself survives a crash. Removes `tmp` when the rename fails.
pub fn publish(tmp: &Path, path: &Path) -> Result<()> {
    if let Err(error) = fs::rename(tmp, path) {
        let _ = fs::remove_file(tmp);
        return Err(error).with_context(|| format!("cannot write {}", path.display()));
    }
    sync_parent(path)
}

/// Fsyncs the folder holding `path` (a no-op where folders cannot be opened, as on Windows).
pub fn sync_parent(path: &Path) -> Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if cfg!(unix) {
        File::open(parent)
            .and_then(|dir| dir.sync_all())
            .with_context(|| format!("cannot sync folder {}", parent.display()))?;
    }
    Ok(())
}

/// `YYYYMMDD-HHMMSS` in UTC for the current time.
pub fn utc_stamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Creates the run folder: `out` if given (it must not already hold a run; use `--resume` to
/// continue one), else a new
/// folder `runs/<stamp>-<label>` (with a numeric suffix if that exists).
pub fn create_run_dir(out: Option<&Path>, label: &str) -> Result<PathBuf> {
    if let Some(dir) = out {
        for existing in ["summary.json", "config.json", "metrics.jsonl"] {
            if dir.join(existing).exists() {
                bail!(
                    "{} already holds a run ({existing}); choose another --out so it is not overwritten, or continue it with --resume",
                    dir.display()
                );
            }
        }
        fs::create_dir_all(dir)
            .with_context(|| format!("cannot create run folder {}", dir.display()))?;
        return Ok(dir.to_path_buf());
    }
    let base = PathBuf::from("runs").join(format!("{}-{label}", utc_stamp()));
    for n in 0.. {
        let candidate = if n == 0 {
            base.clone()
        } else {
            PathBuf::from(format!("{}-{n}", base.display()))
        };
        if !candidate.exists() {
            fs::create_dir_all(&candidate)
                .with_context(|| format!("cannot create run folder {}", candidate.display()))?;
            return Ok(candidate);
        }
    }
    unreachable!("some suffix is free")
}

/// Appends one JSON line per finished epoch to `metrics.jsonl`, forwarding every event to
/// an inner sink.
pub struct MetricsFile<S> {
    path: PathBuf,
    inner: S,
    error: Option<anyhow::Error>,
}

impl<S: EventSink> MetricsFile<S> {
    /// Writes to `dir/metrics.jsonl`, which starts with the lines of `earlier` epochs (those
    /// restored from a checkpoint; lines of later epochs from an interrupted run are dropped).
    pub fn create(dir: &Path, inner: S, earlier: &[EpochMetrics]) -> Result<Self> {
        let path = dir.join("metrics.jsonl");
        let tmp = dir.join("metrics.jsonl.tmp");
        {
            let mut file =
                File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
            for metrics in earlier {
                writeln!(file, "{}", serde_json::to_string(metrics)?)?;
            }
            file.sync_all()?;
        }
        publish(&tmp, &path)?;
        Ok(Self {
            path,
            inner,
            error: None,
        })
    }

    /// The first write error, if any.
    pub fn take_error(&mut self) -> Option<anyhow::Error> {
        self.error.take()
    }

    fn append(&self, metrics: &EpochMetrics) -> Result<()> {
        let mut file = fs::OpenOptions::new().append(true).open(&self.path)?;
        writeln!(file, "{}", serde_json::to_string(metrics)?)?;
        file.sync_data()?;
        Ok(())
    }
}

impl<S: EventSink> EventSink for MetricsFile<S> {
    fn on_event(&mut self, event: &TrainEvent) {
        if let TrainEvent::EpochFinished(metrics) = event
            && self.error.is_none()
            && let Err(e) = self.append(metrics)
        {
            self.error = Some(e.context(format!("cannot append to {}", self.path.display())));
        }
        self.inner.on_event(event);
    }
}
