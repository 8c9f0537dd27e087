//! Tidy checks: architecture rules that no compiler enforces, run as plain `#[test]`s (so
//! `cargo test --workspace`, and with it CI, enforces them) and by `cargo xtask tidy`.
//!
//! - **No tensor library below pgl-burn**: pgl-core and pgl-data depend only on the crates of
//!   [`ALLOWED_DEPENDENCIES`].
//! - **No circular module imports** inside a crate: module A uses module B (`use crate::b`,
//!   `crate::b::..` or `super::b` paths) while B, directly or through others, uses A. A
//!   parent module declaring and re-exporting its children is structure, not an import, and
//!   is not counted; a path through a re-export of `lib.rs` or `mod.rs` is followed to the
//!   module that defines the item.
//! - **Every public item documented**: every library crate root denies `missing_docs`, so the
//!   compiler checks each item.
//! - **Short files and functions**: no Rust source file passes 500 lines; in a crate's
//!   `src/`, no file passes 400 and no function 80, and no `too_many_arguments` allowance is
//!   made ([`size_problems`]).
//! - **A true ARCHITECTURE.md**: every file path, `pgl`/`cargo xtask` command and type named
//!   in backticks exists, and every `imports CRATE` block states exactly which top-level
//!   modules import which ([`import_drift`]).

mod architecture;
mod imports;
mod modules;
mod size;

use std::fs;
use std::path::{Path, PathBuf};

pub use architecture::architecture_drift;
pub use imports::{block as imports_block, import_drift, top_level};
pub use modules::{cycles, module_graph};
pub use size::size_problems;

/// The library crates of the workspace (folders from the root).
pub const LIBRARY_CRATES: [&str; 8] = [
    "pgl-core",
    "pgl-data",
    "pgl-burn",
    "pgl-models",
    "pgl-cli",
    "examples/custom-schedule",
    "examples/custom-dataset",
    "examples/custom-model",
];

/// Every crate whose modules are checked for cycles and sizes (folders from the root).
pub const CRATES: [&str; 9] = [
    "pgl-core",
    "pgl-data",
    "pgl-burn",
    "pgl-models",
    "pgl-cli",
    "xtask",
    "examples/custom-schedule",
    "examples/custom-dataset",
    "examples/custom-model",
];

/// The only dependencies the tensor-free crates may have.
pub const ALLOWED_DEPENDENCIES: [(&str, &[&str]); 2] = [
    // `clap` is optional (feature `clap`): the config groups' flags, no tensors.
    ("pgl-core", &["serde", "serde_json", "thiserror", "clap"]),
    (
        "pgl-data",
        &["pgl-core", "serde", "serde_json", "thiserror", "flate2"],
    ),
];

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

pub(crate) fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every `.rs` file below `dir`, sorted.
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The names in the `[dependencies]` table of a Cargo manifest.
pub fn dependencies(manifest: &str) -> Vec<String> {
    let mut in_dependencies = false;
    let mut names = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_dependencies = line == "[dependencies]";
            continue;
        }
        if in_dependencies && let Some((name, _)) = line.split_once('=') {
            let name = name.trim().trim_end_matches(".workspace").trim();
            if !name.is_empty() && !name.starts_with('#') {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// Dependencies of the tensor-free crates that are not allowed, as messages.
pub fn forbidden_dependencies(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for (krate, allowed) in ALLOWED_DEPENDENCIES {
        let manifest = read(&root.join(krate).join("Cargo.toml"));
        for name in dependencies(&manifest) {
            if !allowed.contains(&name.as_str()) {
                problems.push(format!(
                    "{krate} depends on `{name}`; it must stay free of tensor libraries (allowed: {allowed:?})"
                ));
            }
        }
    }
    problems
}

/// Library crate roots that do not deny `missing_docs`, as messages.
pub fn undocumented_crates(root: &Path) -> Vec<String> {
    LIBRARY_CRATES
        .iter()
        .filter(|krate| {
            !read(&root.join(krate).join("src/lib.rs")).contains("#![deny(missing_docs)]")
        })
        .map(|krate| format!("{krate}/src/lib.rs must start with #![deny(missing_docs)]"))
        .collect()
}

/// Circular module imports of every crate, as messages.
pub fn circular_imports(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for krate in CRATES {
        for cycle in cycles(&module_graph(&root.join(krate).join("src"))) {
            problems.push(format!(
                "{krate}: circular module imports {} -> {}",
                cycle.join(" -> "),
                cycle[0]
            ));
        }
    }
    problems
}

/// Every tidy problem of the workspace at `root`.
pub fn problems(root: &Path) -> Vec<String> {
    let mut all = forbidden_dependencies(root);
    all.extend(circular_imports(root));
    all.extend(undocumented_crates(root));
    all.extend(size_problems(root));
    all.extend(architecture_drift(root));
    all.extend(import_drift(root));
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_none(problems: Vec<String>) {
        assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    }

    #[test]
    fn tensor_free_crates_have_no_tensor_dependency() {
        assert_none(forbidden_dependencies(&workspace_root()));
    }

    #[test]
    fn no_crate_has_circular_module_imports() {
        assert_none(circular_imports(&workspace_root()));
    }

    #[test]
    fn every_library_crate_denies_missing_docs() {
        assert_none(undocumented_crates(&workspace_root()));
    }

    #[test]
    fn no_file_or_function_passes_its_size_limit() {
        assert_none(size_problems(&workspace_root()));
    }

    #[test]
    fn architecture_md_names_only_what_exists() {
        assert_none(architecture_drift(&workspace_root()));
    }

    #[test]
    fn architecture_md_import_tables_are_true() {
        assert_none(import_drift(&workspace_root()));
    }

    // The checks themselves, on made-up inputs: each must be able to fail.

    #[test]
    fn a_tensor_dependency_is_seen_in_a_manifest() {
        let manifest = "[package]\nname = \"x\"\n[dependencies]\nserde.workspace = true\nburn = \"0.22\"\n[dev-dependencies]\nproptest = \"1\"\n";
        assert_eq!(dependencies(manifest), vec!["serde", "burn"]);
    }
}
