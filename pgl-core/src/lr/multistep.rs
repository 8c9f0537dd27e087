//! `multistep:at=(E1,E2,..),gamma=G`: step decay at milestone epochs.
//!
//! The factor is `gamma^n`, where `n` is the number of milestones `<=` the current epoch, so
//! the learning rate is multiplied by `gamma` at the start of each milestone epoch (PyTorch's
//! `MultiStepLR` stepped once per epoch). Milestones are zero-based epoch numbers `>= 1` in
//! strictly increasing order; `gamma` is in `(0, 1]` (default 0.1).
//!
//! Commas separate parameters in the spec language, so a list of milestones is written in
//! brackets: `multistep:at=(80,120),gamma=0.1`; a single one may be written `at=80`.

use super::registry::LrScheduleEntry;
use super::{LrContext, LrSchedule, LrScheduleRegistry};
use crate::error::CoreError;
use crate::schedule::spec::MAX_SPEC_INTEGER;
use crate::schedule::{SpecArgs, SpecNode};

/// `multistep` in the LR schedule table.
pub const ENTRY: LrScheduleEntry = LrScheduleEntry {
    name: "multistep",
    summary: "at=(E1,E2,..)[,gamma=G]: times G (default 0.1) at each milestone epoch",
    build: from_spec,
};

/// What a valid `at` looks like, for error messages.
const AT_EXPECTED: &str = "milestone epochs: integers >= 1 in strictly increasing order, \
     a list written in brackets, e.g. at=(80,120)";

/// What a valid `gamma` looks like, for error messages.
const GAMMA_EXPECTED: &str = "a number in (0, 1] (the factor applied at each milestone)";

/// Multiplies the factor by `gamma` at every milestone epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiStep {
    milestones: Vec<u64>,
    gamma: f64,
}

impl MultiStep {
    /// Decays by `gamma` (in `(0, 1]`) at each of `milestones` (epochs `>= 1`, at least one,
    /// strictly increasing); else an error naming the parameter and what was expected.
    pub fn new(milestones: Vec<u64>, gamma: f64) -> Result<Self, CoreError> {
        let bad = |key: &str, value: String, expected: &str| CoreError::BadValue {
            schedule: "multistep".to_string(),
            key: key.to_string(),
            value,
            expected: expected.to_string(),
        };
        let valid = !milestones.is_empty()
            && milestones
                .iter()
                .all(|m| (1..=MAX_SPEC_INTEGER).contains(m))
            && milestones.windows(2).all(|w| w[0] < w[1]);
        if !valid {
            return Err(bad("at", list_text(&milestones), AT_EXPECTED));
        }
        if !(gamma > 0.0 && gamma <= 1.0) {
            return Err(bad("gamma", gamma.to_string(), GAMMA_EXPECTED));
        }
        Ok(Self { milestones, gamma })
    }

    /// The milestone epochs, increasing.
    pub fn milestones(&self) -> &[u64] {
        &self.milestones
    }

    /// The factor applied at each milestone.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }
}

/// `(a,b,c)`: a milestone list as written in specs.
fn list_text(milestones: &[u64]) -> String {
    let items: Vec<String> = milestones.iter().map(u64::to_string).collect();
    format!("({})", items.join(","))
}

impl LrSchedule for MultiStep {
    fn factor(&self, ctx: &LrContext) -> f64 {
        let passed = self.milestones.partition_point(|m| *m <= ctx.epoch);
        self.gamma.powi(i32::try_from(passed).unwrap_or(i32::MAX))
    }
    fn spec(&self) -> String {
        format!(
            "multistep:at={},gamma={}",
            list_text(&self.milestones),
            self.gamma
        )
    }
    fn clone_box(&self) -> Box<dyn LrSchedule> {
        Box::new(self.clone())
    }
}

/// Builds `multistep:at=(E1,..)[,gamma=G]`.
fn from_spec(
    node: &SpecNode,
    _registry: &LrScheduleRegistry,
) -> Result<Box<dyn LrSchedule>, CoreError> {
    let args = SpecArgs::new(node, &["at", "gamma"])?;
    let raw_at = args.raw("at").ok_or_else(|| CoreError::MissingKey {
        schedule: "multistep".to_string(),
        key: "at".to_string(),
        expected: AT_EXPECTED.to_string(),
    })?;
    let bad_at = || CoreError::BadValue {
        schedule: "multistep".to_string(),
        key: "at".to_string(),
        value: if raw_at.contains(',') {
            format!("({raw_at})")
        } else {
            raw_at.to_string()
        },
        expected: AT_EXPECTED.to_string(),
    };
    let milestones = raw_at
        .split(',')
        .map(|item| item.trim().parse::<u64>().map_err(|_| bad_at()))
        .collect::<Result<Vec<u64>, CoreError>>()?;
    let gamma = match args.raw("gamma") {
        None => 0.1,
        Some(raw) => raw.parse::<f64>().map_err(|_| CoreError::BadValue {
            schedule: "multistep".to_string(),
            key: "gamma".to_string(),
            value: raw.to_string(),
            expected: GAMMA_EXPECTED.to_string(),
        })?,
    };
    Ok(Box::new(MultiStep::new(milestones, gamma).map_err(
        |e| match e {
            // Quote the list as written, not as parsed.
            CoreError::BadValue { ref key, .. } if key == "at" => bad_at(),
            e => e,
        },
    )?))
}

#[cfg(test)]
mod tests {
    use super::super::conformance::check_lr_schedule;
    use super::*;

    #[test]
    fn multistep_passes_the_conformance_kit() {
        let registry = LrScheduleRegistry::with_builtins();
        for spec in [
            "multistep:at=(2,3),gamma=0.5",
            "multistep:at=1",
            "multistep:gamma=1,at=(1, 4, 5)",
        ] {
            check_lr_schedule(&registry, spec, 6, 6, 17);
        }
    }

    #[test]
    fn multistep_decays_at_the_start_of_each_milestone_epoch() {
        let s = MultiStep::new(vec![2, 4], 0.1).unwrap();
        let at_epoch = |e: u64| s.factor(&LrContext::at_iteration(e * 3, 3, 6));
        assert_eq!(at_epoch(0), 1.0);
        assert_eq!(at_epoch(1), 1.0);
        assert_eq!(at_epoch(2), 0.1);
        assert_eq!(at_epoch(3), 0.1);
        assert_eq!(at_epoch(4), 0.1f64.powi(2));
        assert_eq!(at_epoch(100), 0.1f64.powi(2));
        assert_eq!(s.spec(), "multistep:at=(2,4),gamma=0.1");
    }

    #[test]
    fn multistep_errors_name_the_key_and_the_list_syntax() {
        let registry = LrScheduleRegistry::with_builtins();
        for (spec, key) in [
            ("multistep", "at"),
            ("multistep:at=(3,2)", "at"),
            ("multistep:at=(2,2)", "at"),
            ("multistep:at=0", "at"),
            ("multistep:at=(1,x)", "at"),
            ("multistep:at=(1,2),gamma=0", "gamma"),
            ("multistep:at=(1,2),gamma=1.5", "gamma"),
            ("multistep:at=(1,2),gamma=inf", "gamma"),
        ] {
            let err = registry.build(spec).unwrap_err();
            let named = match &err {
                CoreError::BadValue { key: k, .. } | CoreError::MissingKey { key: k, .. } => k,
                _ => panic!("{spec}: unexpected error {err}"),
            };
            assert_eq!(named, key, "{spec}: {err}");
            if key == "at" {
                assert!(err.to_string().contains("at=(80,120)"), "{spec}: {err}");
            }
        }
        // An unbracketed list is a syntax error whose message shows the bracket syntax.
        let err = registry.build("multistep:at=80,120,gamma=0.1").unwrap_err();
        assert!(
            matches!(err, CoreError::SpecSyntax { .. }) && err.to_string().contains("at=(80,120)"),
            "{err}"
        );
    }
}
