//! `pgl`: train networks cut into decoupled modules with periodic global guidance — the
//! command-line tool, as a library.
//!
//! The `pgl` binary is `App::default().run()`. Build your own `pgl` that knows your schedules,
//! learning-rate schedules, local objectives, models and datasets with [`App`]'s `with_*`
//! methods; every subcommand (`train`, `compare`, `bench`, `schedules`, `models`, …) and every
//! `--help` listing then sees them. The tool parses flags into a
//! [`RunConfig`](pgl_core::RunConfig), runs the engine of `pgl-burn` on a model of
//! `pgl-models` and data of `pgl-data`, and writes the run folder. See `pgl --help` and the
//! README.

#![deny(missing_docs)]
// The flags' doc comments are their `--help` texts, read by people in a terminal: they write
// placeholders as `<run folder>`, which rustdoc would take for HTML tags.
#![allow(rustdoc::invalid_html_tags)]

mod app;
mod bench;
mod compare;
mod config_file;
mod eval;
mod export;
mod interrupt;
mod listings;
mod memory;
mod options;
mod output;
mod plots;
mod plugins;
mod progress;
mod runner;
mod setup;
mod train;

pub use app::App;
pub use plugins::Plugins;
