//! `cargo xtask`: development automation for the pgl workspace.
//!
//! - `cargo xtask ci`: the checks CI runs, cheapest first: `cargo fmt --check`,
//!   `cargo clippy --workspace --all-targets -D warnings` with the `wgpu` and `cuda` backends
//!   compiled in (so they cannot rot; `cuda` builds offline), `cargo doc` of the workspace
//!   with rustdoc warnings as errors, `cargo package --no-verify` of
//!   every crate but xtask (publishable manifests), `cargo test --workspace` with
//!   `wgpu` compiled in. The backend-generic tests then run on the CPU and on wgpu when a
//!   Vulkan driver is installed (Mesa's lavapipe runs them on a CPU-only machine). Without a
//!   driver the wgpu tests are skipped with a message, unless `PGL_REQUIRE_WGPU=1` (set by
//!   `.ci/run`) makes that an error.
//! - `cargo xtask tidy`: the architecture rules of [`tidy`] (no tensor library below
//!   pgl-burn, no circular module imports, documented public items, files of at most 500
//!   lines — 400 in `src/` —, functions in `src/` of at most 80, no `too_many_arguments`
//!   allowance, a true ARCHITECTURE.md); the same checks run as tests in `cargo test --workspace`.
//! - `cargo xtask imports CRATE`: the true `imports CRATE` block of ARCHITECTURE.md (which
//!   top-level module imports which), to paste there when the code changes.
//! - `cargo xtask bench [ARGS..]`: every criterion benchmark (extra arguments go to criterion,
//!   e.g. a name filter).
//! - `cargo xtask fuzz [SECONDS] [TARGET..]`: runs each coverage-guided fuzz target of `fuzz/`
//!   (libFuzzer through `cargo fuzz`, no sanitizer, so it works on the stable toolchain) for
//!   SECONDS (default 600), after seeding its corpus with valid inputs. Needs
//!   `cargo install cargo-fuzz`. Crashes land in `fuzz/artifacts/<target>/`.

mod fuzz;
mod tidy;

use std::path::Path;
use std::process::{Command, ExitCode};

/// Runs `cargo ARGS` in `dir` (the current folder when `None`) with the environment variables
/// `env` added.
fn cargo_in(dir: Option<&Path>, env: &[(&str, &str)], args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let shown: Vec<String> = env.iter().map(|(k, v)| format!("{k}=\"{v}\" ")).collect();
    eprintln!("xtask: {}cargo {}", shown.concat(), args.join(" "));
    let mut command = Command::new(&cargo);
    command.args(args).envs(env.iter().copied());
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    let status = command
        .status()
        .map_err(|e| format!("cannot run {cargo}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

fn cargo(args: &[&str]) -> Result<(), String> {
    cargo_in(None, &[], args)
}

/// `cargo doc` of the whole workspace (no dependencies) with every rustdoc warning an error.
fn docs() -> Result<(), String> {
    cargo_in(
        None,
        &[("RUSTDOCFLAGS", "-D warnings")],
        &[
            "doc",
            "--no-deps",
            "--workspace",
            "--features",
            WGPU_FEATURES,
        ],
    )
}

fn ci() -> Result<(), String> {
    cargo(&["fmt", "--all", "--check"])?;
    // One check build with both GPU backends compiled in: lints every line, including the
    // backend-specific ones, and proves `cuda` builds offline.
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--features",
        GPU_FEATURES,
        "--",
        "-D",
        "warnings",
    ])?;
    docs()?;
    // The library crates and the CLI can be packaged: metadata, versioned path dependencies,
    // every file a build needs inside its crate (verified builds of the packages take as long
    // as the test build; run `cargo package --workspace --exclude xtask` for them). The
    // examples are not published.
    cargo(&[
        "package",
        "--workspace",
        "--exclude",
        "xtask",
        "--exclude",
        "pgl-example-custom-schedule",
        "--exclude",
        "pgl-example-custom-dataset",
        "--exclude",
        "pgl-example-custom-model",
        "--no-verify",
        "--allow-dirty",
    ])?;
    // One test build with wgpu compiled in (it shares every dependency with the CPU tests);
    // the wgpu tests need a Vulkan driver.
    let mut test = vec!["test", "--workspace", "--features", WGPU_FEATURES];
    let drivers = vulkan_drivers();
    let required = std::env::var_os("PGL_REQUIRE_WGPU").is_some_and(|v| v == "1");
    if !drivers.is_empty() {
        eprintln!(
            "xtask: Vulkan drivers installed ({}): the wgpu tests run",
            drivers.join(", ")
        );
    } else if required {
        return Err("PGL_REQUIRE_WGPU=1 but no Vulkan driver is installed \
             (apt-get install mesa-vulkan-drivers libvulkan1)"
            .to_string());
    } else {
        eprintln!(
            "xtask: SKIPPING the wgpu tests: no Vulkan driver in {VULKAN_ICD_DIRS:?} \
             (apt-get install mesa-vulkan-drivers libvulkan1 to run them)"
        );
        test.extend(["--", "--skip", "wgpu"]);
    }
    cargo(&test)
}

/// Both GPU backends, for clippy (a check build: no GPU toolchain needed).
const GPU_FEATURES: &str = "pgl-cli/wgpu,pgl-cli/cuda,pgl-models/wgpu,pgl-models/cuda";

/// The wgpu backend, for its tests.
const WGPU_FEATURES: &str = "pgl-cli/wgpu,pgl-models/wgpu";

/// Where the Vulkan loader finds installed drivers (ICD manifests).
const VULKAN_ICD_DIRS: [&str; 2] = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"];

/// File names of the installed Vulkan driver manifests (`lvp_icd…` is Mesa's lavapipe).
fn vulkan_drivers() -> Vec<String> {
    let mut drivers: Vec<String> = VULKAN_ICD_DIRS
        .iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flatten()
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    drivers.sort();
    drivers
}

/// Every criterion benchmark of the workspace: `(package, bench target)`.
const BENCHES: [(&str, &str); 5] = [
    ("pgl-data", "pipeline"),
    ("pgl-burn", "conv"),
    ("pgl-burn", "roofline"),
    ("pgl-models", "steps"),
    ("pgl-example-custom-schedule", "decide"),
];

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

/// `cargo xtask tidy`: the tidy checks of [`tidy`], with every problem listed.
fn tidy_check() -> Result<(), String> {
    let problems = tidy::problems(&tidy::workspace_root());
    if problems.is_empty() {
        eprintln!("xtask: tidy: no problems");
        Ok(())
    } else {
        Err(format!("tidy:\n{}", problems.join("\n")))
    }
}

/// `cargo xtask imports CRATE`: the true `imports CRATE` block for ARCHITECTURE.md.
fn imports(args: &[String]) -> Result<(), String> {
    let krate = args.first().ok_or("usage: cargo xtask imports CRATE")?;
    let src = tidy::workspace_root().join(krate).join("src");
    if !src.is_dir() {
        return Err(format!("no crate `{krate}` (no folder {})", src.display()));
    }
    print!(
        "{}",
        tidy::imports_block(krate, &tidy::top_level(&tidy::module_graph(&src)))
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("bench") => bench(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("tidy") => tidy_check(),
        Some("imports") => imports(&args[1..]),
        _ => Err(
            "usage: cargo xtask <ci | tidy | imports CRATE | bench [criterion args..] | fuzz [SECONDS] [TARGET..]>"
                .to_string(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
