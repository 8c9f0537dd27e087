//! Helpers shared by the end-to-end tests of the `pgl` binary.

use std::path::Path;
use std::process::{Command, Output};

/// Runs the `pgl` binary with `args` in `cwd` and waits for it.
pub fn pgl(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pgl"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("pgl runs")
}

/// Output bytes as text (lossy).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
