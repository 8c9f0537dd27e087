//! `pgl`: train networks cut into decoupled modules with periodic global guidance. The tool
//! itself is the `pgl_cli` library ([`pgl_cli::App`]); this binary runs it with the built-in
//! plugins.

use std::process::ExitCode;

fn main() -> ExitCode {
    pgl_cli::App::default().run()
}
