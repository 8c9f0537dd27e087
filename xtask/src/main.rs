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
//!   lines, a true ARCHITECTURE.md); the same checks run as tests in `cargo test --workspace`.
//! - `cargo xtask imports CRATE`: the true `imports CRATE` block of ARCHITECTURE.md (which
//!   top-level module imports which), to paste there when the code changes.
//! - `cargo xtask bench [ARGS..]`: every criterion benchmark (extra arguments go to criterion,
//!   e.g. a name filter).
//! - `cargo xtask fuzz [SECONDS] [TARGET..]`: runs each coverage-guided fuzz target of `fuzz/`
//!   (libFuzzer through `cargo fuzz`, no sanitizer, so it works on the stable toolchain) for
//!   SECONDS (default 600), after seeding its corpus with valid inputs. Needs
//!   `cargo install cargo-fuzz`. Crashes land in `fuzz/artifacts/<target>/`.

mod tidy;

use std::io::Write;
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
    // as the test build; run `cargo package --workspace --exclude xtask` for them).
    cargo(&[
        "package",
        "--workspace",
        "--exclude",
        "xtask",
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
const BENCHES: [(&str, &str); 3] = [
    ("pgl-data", "pipeline"),
    ("pgl-burn", "conv"),
    ("pgl-models", "steps"),
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

/// Fuzz targets and the largest input each explores.
const FUZZ_TARGETS: [(&str, usize); 9] = [
    ("idx", 4096),
    ("cifar", 16_384),
    ("stl10", 60_000),
    ("svhn_mat", 8192),
    ("schedule_spec", 512),
    ("lr_schedule_spec", 512),
    ("objective_spec", 512),
    ("safetensors_import", 4096),
    ("config_toml", 4096),
];

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

/// Valid inputs to start each target's corpus from.
fn seeds(target: &str) -> Vec<(&'static str, Vec<u8>)> {
    let be = |words: &[u32]| {
        words
            .iter()
            .flat_map(|w| w.to_be_bytes())
            .collect::<Vec<u8>>()
    };
    match target {
        "idx" => {
            let mut images = be(&[0x0803, 2, 3, 3]);
            images.extend(0..18u8);
            let mut labels = be(&[0x0801, 3]);
            labels.extend([1, 9, 0]);
            let csv = format!("{},3\n", vec!["16"; 64].join(",")).into_bytes();
            vec![
                ("images", images.clone()),
                ("labels", labels.clone()),
                ("images-gz", gzip(&images)),
                ("labels-gz", gzip(&labels)),
                ("digits-csv", csv),
            ]
        }
        "cifar" => {
            let mut one = vec![3u8];
            one.extend((0..3072).map(|i| (i % 251) as u8));
            let mut hundred = vec![5u8, 42];
            hundred.extend((0..3072).map(|i| (i % 13) as u8));
            vec![
                ("cifar10-1", one.clone()),
                ("cifar10-2", [one.clone(), one].concat()),
                ("cifar100-1", hundred),
            ]
        }
        "stl10" => {
            let image: Vec<u8> = (0..3 * 96 * 96).map(|i| (i % 256) as u8).collect();
            vec![("image", image), ("labels", (1..=10).collect())]
        }
        "svhn_mat" => {
            // A round-trip seed (leading 0: one label, one image) and a MAT-file header with
            // one small element after it (a name `X`), for the parser to grow from.
            let mut round_trip = vec![0u8, 7];
            round_trip.extend((0..3072).map(|i| (i % 253) as u8));
            let mut header = b"MATLAB 5.0 MAT-file".to_vec();
            header.resize(124, b' ');
            header.extend([0x00, 0x01, b'I', b'M']);
            header.extend([1, 0, 1, 0, b'X', 0, 0, 0]);
            vec![("round-trip", round_trip), ("header", header)]
        }
        "lr_schedule_spec" => [
            "cosine",
            "cosine:min=0.01,unit=epochs",
            "multistep:at=(1,3),gamma=0.5",
            "linear-warmup:iters=5,then=cosine",
        ]
        .iter()
        .enumerate()
        // Two leading bytes choose the run's shape (iterations per epoch, epochs).
        .map(|(i, s)| (["a", "b", "c", "d"][i], [&[3u8, 2][..], s.as_bytes()].concat()))
        .collect(),
        "objective_spec" => [
            "ce",
            "infopro:ixx_1=5,ixy_1=1,ixx_2=0,ixy_2=2,class=supcon,temperature=0.1",
            "supcon:temperature=0.07,dim=128",
        ]
        .iter()
        .enumerate()
        .map(|(i, s)| (["a", "b", "c"][i], s.as_bytes().to_vec()))
        .collect(),
        "safetensors_import" => safetensors_seeds(),
        "config_toml" => vec![
            (
                "toml",
                // A leading byte chooses the format: 0 JSON, anything else TOML.
                b"\x01model = \"mlp\"\nmodules = 2\nlr_schedule = \"cosine:min=0.1\"\nlocal_objective = \"supcon\"\naux_weight = 0.5\n".to_vec(),
            ),
            (
                "json",
                b"\x00{\"schedule\": \"any(periodic:every=4,plateau:patience=3)\", \"epochs\": 3, \"train_limit\": 100}".to_vec(),
            ),
        ],
        _ => [
            "local-only",
            "periodic:every=10,len=2,unit=epochs",
            "warmup:epochs=1,then=periodic:every=3",
            "any(plateau:patience=3,len=2,min_delta=0.1,all(end-to-end,periodic:every=2))",
        ]
        .iter()
        .enumerate()
        .map(|(i, s)| (["a", "b", "c", "d"][i], s.as_bytes().to_vec()))
        .collect(),
    }
}

/// A safetensors file of `tensors` (name, shape, f32 values) in the layout of the format:
/// an 8-byte little-endian header length, the JSON header, the data.
fn safetensors(tensors: &[(&str, &[usize], Vec<f32>)]) -> Vec<u8> {
    let mut header = Vec::new();
    let mut data = Vec::new();
    for (name, shape, values) in tensors {
        let start = data.len();
        data.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        let shape: Vec<String> = shape.iter().map(usize::to_string).collect();
        header.push(format!(
            "\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{start},{}]}}",
            shape.join(","),
            data.len()
        ));
    }
    let mut header = format!("{{{}}}", header.join(",")).into_bytes();
    while header.len() % 8 != 0 {
        header.push(b' ');
    }
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend(header);
    file.extend(data);
    file
}

/// Seeds of `safetensors_import`: the fuzz target's Linear(2, 3) + BatchNorm(3) network with
/// sound weights, with a NaN weight, and with a negative running variance.
fn safetensors_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let network = |weight: f32, variance: f32| {
        safetensors(&[
            (
                "linear.weight",
                &[2, 3],
                vec![0.5, -1.0, weight, 2.0, 0.0, 1.5],
            ),
            ("linear.bias", &[3], vec![0.1, 0.2, 0.3]),
            ("norm.gamma", &[3], vec![1.0; 3]),
            ("norm.beta", &[3], vec![0.0; 3]),
            ("norm.running_mean", &[3], vec![0.0; 3]),
            ("norm.running_var", &[3], vec![1.0, variance, 1.0]),
        ])
    };
    vec![
        ("sound", network(0.25, 1.0)),
        ("nan", network(f32::NAN, 1.0)),
        ("negative-variance", network(0.25, -1.0)),
    ]
}

fn fuzz(args: &[String]) -> Result<(), String> {
    let seconds: u64 = match args.first() {
        Some(s) if s.parse::<u64>().is_ok() => s.parse().expect("checked"),
        _ => 600,
    };
    let chosen: Vec<&str> = args
        .iter()
        .filter(|a| a.parse::<u64>().is_err())
        .map(String::as_str)
        .collect();
    for name in &chosen {
        if !FUZZ_TARGETS.iter().any(|(t, _)| t == name) {
            let targets: Vec<&str> = FUZZ_TARGETS.iter().map(|(t, _)| *t).collect();
            return Err(format!(
                "unknown fuzz target `{name}`; targets: {}",
                targets.join(", ")
            ));
        }
    }
    let fuzz_dir = tidy::workspace_root().join("fuzz");
    for (target, max_len) in FUZZ_TARGETS {
        if !chosen.is_empty() && !chosen.contains(&target) {
            continue;
        }
        let corpus = fuzz_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)
            .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
        for (name, bytes) in seeds(target) {
            let path = corpus.join(format!("seed-{name}"));
            std::fs::write(&path, bytes)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        }
        let corpus_arg = format!("corpus/{target}");
        let time = format!("-max_total_time={seconds}");
        let len = format!("-max_len={max_len}");
        cargo_in(
            Some(&fuzz_dir),
            &[],
            &[
                "fuzz",
                "run",
                "--sanitizer",
                "none",
                target,
                &corpus_arg,
                "--",
                &time,
                &len,
                "-rss_limit_mb=2048",
                "-timeout=10",
                "-print_final_stats=1",
            ],
        )?;
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
        Some("fuzz") => fuzz(&args[1..]),
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
