//! Config files (`pgl train --config FILE`): the CLI's own reader (`pgl-cli/src/config_file.rs`,
//! compiled here as it is) never panics on any TOML or JSON text; a configuration that reads
//! and validates survives the trip through `config.json` (what `--resume` reads back) exactly,
//! and its specs build or fail without panicking.
#![no_main]

#[allow(dead_code)]
#[path = "../../pgl-cli/src/config_file.rs"]
mod config_file;

/// What `config_file.rs` reads of pgl-cli's plugin tables: the built-in local objectives.
mod plugins {
    use std::sync::OnceLock;

    pub struct Plugins {
        pub objectives: pgl_core::ObjectiveRegistry,
    }

    pub fn plugins() -> &'static Plugins {
        static PLUGINS: OnceLock<Plugins> = OnceLock::new();
        PLUGINS.get_or_init(|| Plugins {
            objectives: pgl_core::ObjectiveRegistry::with_builtins(),
        })
    }
}

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
    let _ = origins.describe("lr_schedule", &config.optimizer.lr_schedule);
    if config.validate().is_err() {
        return;
    }
    let saved = serde_json::to_string_pretty(&config).expect("a valid config serialises");
    let (read, _) = config_file::parse_config(&saved, true, Path::new("config.json"))
        .unwrap_or_else(|e| panic!("config.json of {config:?} does not read back: {e:#}"));
    assert_eq!(read, config, "config.json round trip");
    let _ = ScheduleRegistry::with_builtins().build(&config.guidance.schedule);
    let _ = LrScheduleRegistry::with_builtins().build(&config.optimizer.lr_schedule);
    let _ = ObjectiveRegistry::with_builtins().build(&config.objective.local_objective);
});
