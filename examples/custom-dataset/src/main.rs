//! A `pgl` binary that also trains on `csv8` folders: every subcommand (`train`, `compare`,
//! `bench`, …) and `--help` sees the dataset.

use std::process::ExitCode;

fn main() -> ExitCode {
    pgl_cli::App::default()
        .with_dataset(pgl_example_custom_dataset::ENTRY)
        .run()
}
