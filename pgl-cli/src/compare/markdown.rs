//! The comparison as a markdown table ([`markdown`]): one line per configuration, the notes
//! that explain the columns and, with several seeds, one line per run.

use super::table::{Configuration, Row, Spread};

/// `1.4`: bytes in MiB with one decimal, `-` for none.
fn mib(bytes: Option<u64>) -> String {
    bytes.map_or("-".to_string(), |b| {
        format!("{:.1}", b as f64 / 1_048_576.0)
    })
}

/// `on` or `off`.
fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// The objective column, which appears when some configuration's objective is not the default.
#[derive(Clone, Copy)]
struct ObjectiveColumn {
    shown: bool,
}

impl ObjectiveColumn {
    /// The column of `configurations`' table.
    fn of(configurations: &[Configuration]) -> Self {
        Self {
            shown: configurations
                .iter()
                .any(|c| !pgl_core::objective::is_default_objective(&c.objective)),
        }
    }

    /// Its header cell (with the separator after it), or nothing.
    fn head(self) -> &'static str {
        if self.shown { " objective |" } else { "" }
    }

    /// Its cell in the header's rule line, or nothing.
    fn rule(self) -> &'static str {
        if self.shown { "---|" } else { "" }
    }

    /// Its cell for `objective`, or nothing.
    fn cell(self, objective: &str) -> String {
        if self.shown {
            format!(" `{objective}` |")
        } else {
            String::new()
        }
    }
}

/// The comparison as markdown: one line per configuration (mean ± standard deviation where
/// it ran on two or more seeds) and, with several seeds, one line per run.
pub fn markdown(configurations: &[Configuration], rows: &[Row], title: &str) -> String {
    let several = configurations.iter().any(|c| c.n >= 2);
    let objective = ObjectiveColumn::of(configurations);
    let mut out = format!("# {title}\n\n");
    out.push_str(&configuration_table(configurations, objective, several));
    out.push_str(&notes(objective.shown, several));
    if several {
        out.push_str(&per_seed_table(rows, objective));
    }
    out
}

/// The table of configurations, header included.
fn configuration_table(
    configurations: &[Configuration],
    objective: ObjectiveColumn,
    several: bool,
) -> String {
    let (objective_head, objective_rule) = (objective.head(), objective.rule());
    let acc = if several {
        "final test acc (mean ± std)"
    } else {
        "final test acc"
    };
    let mut out = format!(
        "|{objective_head} schedule | K | ckpt | n | {acc} | test error | gap recovered | best test acc | module 1 acc | module K acc | global steps | images/s | local step peak MiB | global step peak MiB | train s |\n"
    );
    out.push_str(&format!(
        "|{objective_rule}---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    ));
    for c in configurations {
        out.push_str(&configuration_line(c, objective));
    }
    out
}

/// The line of configuration `c`.
fn configuration_line(c: &Configuration, objective: ObjectiveColumn) -> String {
    let mean_of = |spread: Option<&Spread>| spread.map_or(0.0, |s| s.mean);
    format!(
        "|{} `{}` | {} | {} | {} | {} | {} | {} | {} | {:.4} | {:.4} | {:.1}% | {:.0} | {} | {} | {:.1} |\n",
        objective.cell(&c.objective),
        c.schedule,
        c.modules,
        on_off(c.global_checkpointing),
        c.n,
        c.test_accuracy.cell(),
        c.test_error.cell(),
        c.gap_recovered.map_or("-".to_string(), |g| format!(
            "{:.3}",
            (g * 1e3).round() / 1e3 + 0.0
        )),
        c.best_test_accuracy.cell(),
        mean_of(c.module_accuracy.first()),
        mean_of(c.module_accuracy.last()),
        100.0 * c.global_step_share,
        c.images_per_second,
        mib(c.peak_memory_bytes_local),
        mib(c.peak_memory_bytes_global),
        c.train_seconds,
    )
}

/// The notes under the table of configurations: what the columns mean (the objective's and
/// the standard deviation's only when the table shows them).
fn notes(objectives: bool, several: bool) -> String {
    let mut out = String::from(
        "\nn: seeds per configuration (each seed gives every configuration the same data order \
         and initial weights). Final test acc: after the last epoch; best test acc: the highest \
         after any epoch (what InfoPro's train.py reports). Gap recovered: (acc − local-only) / \
         (end-to-end − local-only) from the mean final accuracies of the same K and \
         checkpointing; `-` where one of the two is not in the comparison or they are equal. ",
    );
    if objectives {
        out.push_str(
            "Objective: what modules learn from in local steps (`pgl objectives`); the gap \
             recovered compares runs of the same objective, and an aux head learns only where \
             the objective gives it a cross-entropy weight (not under `supcon`). ",
        );
    }
    if several {
        out.push_str(
            "Accuracy and error: mean ± sample standard deviation (n − 1) over the seeds; the \
             other columns are means. ",
        );
    }
    out.push_str(
        "Module 1 acc: test accuracy of the first module's auxiliary head; module K acc: the \
         network's classifier. Peaks: transient heap memory of one step (activations, graph, \
         gradients, optimizer temporaries) on the CPU backend; `-` where no step of that kind ran. \
         Auxiliary heads learn only in local steps (and in global steps with `--aux-weight`), so \
         under `end-to-end` their accuracy stays near chance.\n",
    );
    out
}

/// The `## Per seed` section: one line per run.
fn per_seed_table(rows: &[Row], objective: ObjectiveColumn) -> String {
    let (objective_head, objective_rule) = (objective.head(), objective.rule());
    let mut out = format!(
        "\n## Per seed\n\n|{objective_head} schedule | K | ckpt | seed | final test acc | best test acc (epoch) | images/s | run folder |\n",
    );
    out.push_str(&format!(
        "|{objective_rule}---|---:|---|---:|---:|---:|---:|---|\n"
    ));
    for r in rows {
        out.push_str(&format!(
            "|{} `{}` | {} | {} | {} | {:.4} | {:.4} ({}) | {:.0} | {} |\n",
            objective.cell(&r.objective),
            r.schedule,
            r.modules,
            on_off(r.global_checkpointing),
            r.seed,
            r.test_accuracy,
            r.best_test_accuracy,
            r.best_epoch,
            r.images_per_second,
            r.run_dir,
        ));
    }
    out
}
