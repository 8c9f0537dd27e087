//! How library messages name a setting. A library names the field of the run configuration
//! (`` `lr` ``, `` `global_depth` = `3` ``), which is what a program that builds a
//! [`RunConfig`](crate::RunConfig) itself knows; a program whose users type the settings as
//! command-line flags (the `pgl` CLI) switches once, at start-up, to flag names (`--lr`,
//! `` --global-depth `3` ``), so that every message names what its user typed. The mapping is the
//! CLI's convention: `--` and the field name with `-` for `_`.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether settings are named as command-line flags (process-wide; off by default).
static AS_FLAGS: AtomicBool = AtomicBool::new(false);

/// Names settings as command-line flags from now on (`on`), or as configuration fields.
pub fn name_settings_as_flags(on: bool) {
    AS_FLAGS.store(on, Ordering::Relaxed);
}

/// A setting, by its configuration field name (`global_depth`), as a message shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting(pub &'static str);

/// The setting whose configuration field is `field`.
pub fn setting(field: &'static str) -> Setting {
    Setting(field)
}

impl Setting {
    /// The setting given `value`, as a message shows it (`` --pipeline `3` `` or
    /// `` `pipeline` = `3` ``).
    pub fn with(self, value: impl fmt::Display) -> SettingValue {
        SettingValue {
            setting: self,
            value: value.to_string(),
        }
    }

    /// The command-line flag of this setting.
    pub fn flag(self) -> String {
        format!("--{}", self.0.replace('_', "-"))
    }
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if AS_FLAGS.load(Ordering::Relaxed) {
            f.write_str(&self.flag())
        } else {
            write!(f, "`{}`", self.0)
        }
    }
}

/// A setting with a value, as a message shows it: see [`Setting::with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingValue {
    setting: Setting,
    value: String,
}

impl fmt::Display for SettingValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if AS_FLAGS.load(Ordering::Relaxed) {
            write!(f, "{} `{}`", self.setting.flag(), self.value)
        } else {
            write!(f, "`{}` = `{}`", self.setting.0, self.value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_named_as_fields_unless_a_program_asks_for_flags() {
        // One test touches the process-wide switch, so no other test sees it change.
        assert_eq!(setting("lr").to_string(), "`lr`");
        assert_eq!(
            setting("global_depth").with(3).to_string(),
            "`global_depth` = `3`"
        );
        name_settings_as_flags(true);
        assert_eq!(setting("lr").to_string(), "--lr");
        assert_eq!(
            setting("global_depth").with(3).to_string(),
            "--global-depth `3`"
        );
        name_settings_as_flags(false);
        assert_eq!(setting("keep_optimizer").to_string(), "`keep_optimizer`");
    }
}
