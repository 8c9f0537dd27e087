//! A `pgl` binary that also knows the `growing` schedule: every subcommand (`train`, `compare`,
//! `bench`, `schedules`, …) sees it.

use std::process::ExitCode;

fn main() -> ExitCode {
    pgl_cli::App::default()
        .with_schedule(
            pgl_example_custom_schedule::NAME,
            pgl_example_custom_schedule::SUMMARY,
            pgl_example_custom_schedule::build,
        )
        .run()
}
