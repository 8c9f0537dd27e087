//! `cargo xtask`: development automation for the pgl workspace.
//!
//! - `cargo xtask ci`: the checks CI runs, cheapest first: `cargo fmt --check`,
//!   `cargo clippy --workspace --all-targets -D warnings`, `cargo test --workspace`.
//! - `cargo xtask bench [ARGS..]`: every criterion benchmark (extra arguments go to criterion,
//!   e.g. a name filter).

use std::process::{Command, ExitCode};

fn cargo(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    eprintln!("xtask: cargo {}", args.join(" "));
    let status = Command::new(&cargo)
        .args(args)
        .status()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

fn ci() -> Result<(), String> {
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ])?;
    cargo(&["test", "--workspace"])
}

/// Every criterion benchmark of the workspace: `(package, bench target)`.
const BENCHES: [(&str, &str); 2] = [("pgl-data", "pipeline"), ("pgl-models", "steps")];

fn bench(extra: &[String]) -> Result<(), String> {
    for (package, target) in BENCHES {
        let mut args = vec!["bench", "--package", package, "--bench", target];
        if !extra.is_empty() {
            args.push("--");
            args.extend(extra.iter().map(String::as_str));
        }
        cargo(&args)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("bench") => bench(&args[1..]),
        _ => Err("usage: cargo xtask <ci | bench [criterion args..]>".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
