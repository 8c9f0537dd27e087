//! Config files (`pgl train --config FILE`): the CLI's own reader (`pgl-cli/src/config_file.rs`,
//! compiled here as it is) never panics on any TOML or JSON text; a configuration that reads
//! and validates survives the trip through `config.json` (what `--resume` reads back) exactly,
//! and its specs build or fail without panicking.
#![no_main]

#[allow(dead_code)]
#[path = "../../pgl-cli/src/config_file.rs"]
mod config_file;

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use pgl_core::{LrScheduleRegistry, ObjectiveRegistry, ScheduleRegistry};

fuzz_target!(|data: &[u8]| {
    let [kind, text @ ..] = data else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let json = kind % 4 == 0;
    let path = Path::new(if json { "run.json" } else { "run.toml" });
    let Ok((config, origins)) = config_file::parse_config(text, json, path) else {
        return;
    };
    let _ = origins.describe("lr_schedule", &config.lr_schedule);
    if config.validate().is_err() {
        return;
    }
    let saved = serde_json::to_string_pretty(&config).expect("a valid config serialises");
    let (read, _) = config_file::parse_config(&saved, true, Path::new("config.json"))
        .unwrap_or_else(|e| panic!("config.json of {config:?} does not read back: {e:#}"));
    assert_eq!(read, config, "config.json round trip");
    let _ = ScheduleRegistry::with_builtins().build(&config.schedule);
    let _ = LrScheduleRegistry::with_builtins().build(&config.lr_schedule);
    let _ = ObjectiveRegistry::with_builtins().build(&config.local_objective);
});
