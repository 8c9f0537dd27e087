//! The comparison's plots: test accuracy per epoch, each module's head accuracy per K and,
//! when K is swept, test error against K; means over the seeds, with ±1 standard deviation
//! error bars when there are two or more.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::table::{Configuration, Spread};
use crate::plots::{Chart, Series, write_chart};

/// A series of `(x, spread)` points: the means, with the standard deviations as error bars.
fn series(label: String, points: impl Iterator<Item = (f64, Spread)>) -> Series {
    let (points, errors): (Vec<(f64, f64)>, Vec<f64>) =
        points.map(|(x, s)| ((x, s.mean), s.std_or_zero())).unzip();
    let errors = if errors.iter().any(|&e| e > 0.0) {
        errors
    } else {
        Vec::new()
    };
    Series {
        label,
        points,
        errors,
    }
}

/// `(1, a₁), (2, a₂), …`
fn numbered(values: &[Spread]) -> impl Iterator<Item = (f64, Spread)> + '_ {
    values.iter().enumerate().map(|(i, s)| ((i + 1) as f64, *s))
}

/// What every chart of one comparison shares: whether K or checkpointing varies (legends then
/// name them) and the title's ending that says what the error bars are.
struct Legend {
    /// Several values of K.
    several_k: bool,
    /// Some configuration uses gradient checkpointing.
    with_ckpt: bool,
    /// ` (mean ± std over N seeds)` with two or more seeds, else empty.
    over_seeds: String,
}

/// Draws the comparison's plots into `dir`; returns the files' stems.
pub fn plot(dir: &Path, configurations: &[Configuration]) -> Result<Vec<PathBuf>> {
    let mut ks: Vec<usize> = configurations.iter().map(|c| c.modules).collect();
    ks.sort_unstable();
    ks.dedup();
    let seeds = configurations.iter().map(|c| c.n).max().unwrap_or(1);
    let legend = Legend {
        several_k: ks.len() > 1,
        with_ckpt: configurations.iter().any(|c| c.global_checkpointing),
        over_seeds: if seeds >= 2 {
            format!(" (mean ± std over {seeds} seeds)")
        } else {
            String::new()
        },
    };
    let mut written = vec![accuracy_per_epoch(dir, configurations, &legend)?];
    for &k in &ks {
        written.push(module_accuracy(dir, configurations, k, &legend)?);
    }
    if legend.several_k {
        written.push(error_per_k(dir, configurations, &legend)?);
    }
    Ok(written)
}

/// `accuracy_vs_epoch`: every configuration's test accuracy per epoch.
fn accuracy_per_epoch(
    dir: &Path,
    configurations: &[Configuration],
    legend: &Legend,
) -> Result<PathBuf> {
    let epoch_series: Vec<Series> = configurations
        .iter()
        .map(|c| {
            series(
                c.label(legend.several_k, legend.with_ckpt),
                numbered(&c.accuracy_per_epoch),
            )
        })
        .collect();
    let stem = dir.join("accuracy_vs_epoch");
    write_chart(
        &stem,
        &Chart {
            title: &format!("Test accuracy per epoch{}", legend.over_seeds),
            x_label: "epoch",
            y_label: "test accuracy",
            series: &epoch_series,
            integer_x: true,
        },
    )?;
    Ok(stem)
}

/// `module_accuracy_k{k}`: the test accuracy of each module's head, for the configurations
/// with K = `k`.
fn module_accuracy(
    dir: &Path,
    configurations: &[Configuration],
    k: usize,
    legend: &Legend,
) -> Result<PathBuf> {
    let module_series: Vec<Series> = configurations
        .iter()
        .filter(|c| c.modules == k)
        .map(|c| {
            series(
                c.label(false, legend.with_ckpt),
                numbered(&c.module_accuracy),
            )
        })
        .collect();
    let stem = dir.join(format!("module_accuracy_k{k}"));
    write_chart(
        &stem,
        &Chart {
            title: &format!(
                "Test accuracy of each module's head, K = {k}{}",
                legend.over_seeds
            ),
            x_label: "module (its auxiliary head; the last is the network's classifier)",
            y_label: "test accuracy",
            series: &module_series,
            integer_x: true,
        },
    )?;
    Ok(stem)
}

/// `error_vs_modules`: test error against K, one line per schedule (and checkpointing).
fn error_per_k(dir: &Path, configurations: &[Configuration], legend: &Legend) -> Result<PathBuf> {
    let mut schedules: Vec<(&str, bool)> = Vec::new();
    for c in configurations {
        if !schedules.contains(&(&c.schedule, c.global_checkpointing)) {
            schedules.push((&c.schedule, c.global_checkpointing));
        }
    }
    let k_series: Vec<Series> = schedules
        .iter()
        .map(|&(schedule, ckpt)| {
            let of_schedule = configurations
                .iter()
                .filter(move |c| c.schedule == schedule && c.global_checkpointing == ckpt);
            let label = of_schedule
                .clone()
                .next()
                .map(|c| c.label(false, legend.with_ckpt))
                .unwrap_or_default();
            series(label, of_schedule.map(|c| (c.modules as f64, c.test_error)))
        })
        .collect();
    let stem = dir.join("error_vs_modules");
    write_chart(
        &stem,
        &Chart {
            title: &format!(
                "Test error against the number of modules K{}",
                legend.over_seeds
            ),
            x_label: "number of modules K",
            y_label: "test error",
            series: &k_series,
            integer_x: true,
        },
    )?;
    Ok(stem)
}
