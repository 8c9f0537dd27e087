//! `lagging:margin=M,min_gap=A,max_gap=B,smooth=S`: adaptive guidance from the module heads.
//!
//! Local learning goes wrong in a recognisable way: the network's classifier (after module K)
//! does worse than an auxiliary head of an earlier module — the modules above that head,
//! trained greedily, no longer add anything the global objective wants. The schedule reads
//! every module's loss of the latest step (`StepContext::module_losses`, which the trainer
//! fills) and follows the *head gap*, the classifier's loss minus the best aux head's, as an
//! exponential moving average with factor `S`. It takes a global step when the smoothed gap
//! exceeds `M` and at least `A` local steps have passed since the last global step, and in any
//! case after `B` local steps in a row (so some guidance always happens). A network of one
//! module has no aux head: only the `B` rule applies.

use super::registry::{ScheduleEntry, ScheduleRegistry};
use super::spec::{MAX_SPEC_INTEGER, SpecArgs, SpecNode};
use super::{GuidanceSchedule, ScheduleState};
use crate::error::CoreError;
use crate::step::{StepContext, StepKind};

/// `lagging` in the schedule table.
pub const ENTRY: ScheduleEntry = ScheduleEntry {
    name: "lagging",
    summary: "[margin=M][,min_gap=A][,max_gap=B][,smooth=S]: global when the classifier's loss exceeds the best aux head's by more than M (moving average, factor S; defaults 0, 0.9), at least A and at most B local steps apart (defaults 2, 8)",
    build,
};

fn build(node: &SpecNode, _: &ScheduleRegistry) -> Result<Box<dyn GuidanceSchedule>, CoreError> {
    let args = SpecArgs::new(node, &["margin", "min_gap", "max_gap", "smooth"])?;
    let margin = match args.raw("margin") {
        None => 0.0,
        Some(raw) => raw
            .parse::<f64>()
            .map_err(|_| bad("margin", raw, "a finite number"))?,
    };
    let smooth = match args.raw("smooth") {
        None => 0.9,
        Some(raw) => raw
            .parse::<f64>()
            .map_err(|_| bad("smooth", raw, "a number in [0, 1)"))?,
    };
    let min_gap = args.u64("min_gap", Some(2), 0)?;
    let max_gap = args.u64("max_gap", Some(8), 1)?;
    Ok(Box::new(Lagging::new(margin, min_gap, max_gap, smooth)?))
}

fn bad(key: &str, value: &str, expected: &str) -> CoreError {
    CoreError::BadValue {
        schedule: ENTRY.name.to_string(),
        key: key.to_string(),
        value: value.to_string(),
        expected: expected.to_string(),
    }
}

/// The classifier's loss minus the best aux head's, from one step's module losses (the last
/// entry is the classifier's); `None` when either is missing or not finite.
pub fn head_gap(module_losses: &[Option<f32>]) -> Option<f64> {
    let (classifier, heads) = module_losses.split_last()?;
    let classifier = f64::from((*classifier)?);
    let best = heads
        .iter()
        .flatten()
        .map(|&l| f64::from(l))
        .filter(|l| l.is_finite())
        .reduce(f64::min)?;
    let gap = classifier - best;
    gap.is_finite().then_some(gap)
}

/// Global guidance when the classifier lags behind the best aux head; see the
/// [module documentation](self).
#[derive(Debug, Clone, PartialEq)]
pub struct Lagging {
    margin: f64,
    min_gap: u64,
    max_gap: u64,
    smooth: f64,
    /// The smoothed head gap (meaningful once `seen`).
    gap: f64,
    seen: bool,
    /// Local steps since the last global step.
    since_global: u64,
}

impl Lagging {
    /// The schedule; `margin` finite, `min_gap <= max_gap`, `max_gap >= 1`, `smooth` in
    /// `[0, 1)`.
    pub fn new(margin: f64, min_gap: u64, max_gap: u64, smooth: f64) -> Result<Self, CoreError> {
        if !margin.is_finite() {
            return Err(bad("margin", &margin.to_string(), "a finite number"));
        }
        if !(0.0..1.0).contains(&smooth) {
            return Err(bad("smooth", &smooth.to_string(), "a number in [0, 1)"));
        }
        let expected = format!("an integer in [1, {MAX_SPEC_INTEGER}]");
        if max_gap == 0 || max_gap > MAX_SPEC_INTEGER {
            return Err(bad("max_gap", &max_gap.to_string(), &expected));
        }
        if min_gap > max_gap {
            let expected = format!("an integer in [0, max_gap = {max_gap}]");
            return Err(bad("min_gap", &min_gap.to_string(), &expected));
        }
        Ok(Self {
            margin,
            min_gap,
            max_gap,
            smooth,
            gap: 0.0,
            seen: false,
            since_global: 0,
        })
    }

    /// The smoothed head gap so far (`None` before the first step with one).
    pub fn smoothed_gap(&self) -> Option<f64> {
        self.seen.then_some(self.gap)
    }
}

impl GuidanceSchedule for Lagging {
    fn decide(&mut self, ctx: &StepContext<'_>) -> StepKind {
        if let Some(gap) = head_gap(ctx.module_losses) {
            self.gap = if self.seen {
                self.smooth * self.gap + (1.0 - self.smooth) * gap
            } else {
                gap
            };
            self.seen = true;
        }
        let lagging = self.seen && self.gap > self.margin && self.since_global >= self.min_gap;
        if lagging || self.since_global >= self.max_gap {
            self.since_global = 0;
            StepKind::Global
        } else {
            self.since_global += 1;
            StepKind::Local
        }
    }
    fn spec(&self) -> String {
        format!(
            "{}:margin={},min_gap={},max_gap={},smooth={}",
            ENTRY.name, self.margin, self.min_gap, self.max_gap, self.smooth
        )
    }
    fn state(&self) -> ScheduleState {
        ScheduleState::default()
            .with("gap", self.gap)
            .with("seen", f64::from(u8::from(self.seen)))
            .with("since_global", self.since_global as f64)
    }
    fn restore(&mut self, state: &ScheduleState) -> Result<(), CoreError> {
        let spec = self.spec();
        let gap = state.require(&spec, "gap")?;
        let seen = state.require(&spec, "seen")?;
        let since = state.require(&spec, "since_global")?;
        let counter = since >= 0.0 && since.fract() == 0.0 && since <= self.max_gap as f64;
        if !gap.is_finite() || !(seen == 0.0 || seen == 1.0) || !counter {
            return Err(CoreError::StateMismatch {
                schedule: spec,
                reason: format!(
                    "expected a finite gap, seen 0 or 1 and since_global in [0, max_gap]; got {gap}, {seen}, {since}"
                ),
            });
        }
        self.gap = gap;
        self.seen = seen == 1.0;
        self.since_global = since as u64;
        Ok(())
    }
    fn clone_box(&self) -> Box<dyn GuidanceSchedule> {
        Box::new(self.clone())
    }
    fn uses_losses(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::super::conformance::{check_schedule, count_global, drive};
    use super::*;

    fn decide(s: &mut Lagging, losses: &[Option<f32>]) -> StepKind {
        s.decide(&StepContext::at_iteration(0, 10).with_module_losses(losses))
    }

    #[test]
    fn the_head_gap_is_the_classifier_minus_the_best_aux_head() {
        assert_eq!(head_gap(&[Some(1.0), Some(0.5), Some(0.75)]), Some(0.25));
        assert_eq!(head_gap(&[Some(1.0), None, Some(2.0)]), Some(1.0));
        assert_eq!(head_gap(&[Some(0.5)]), None, "no aux head");
        assert_eq!(head_gap(&[Some(0.5), None]), None, "no classifier loss");
        assert_eq!(head_gap(&[]), None);
        assert_eq!(
            head_gap(&[Some(f32::NAN), Some(1.0)]),
            None,
            "no finite aux head"
        );
        assert_eq!(head_gap(&[Some(0.5), Some(f32::INFINITY)]), None);
    }

    #[test]
    fn a_lagging_classifier_triggers_guidance_within_the_gaps() {
        let mut s = Lagging::new(0.1, 2, 5, 0.0).unwrap();
        let behind = [Some(1.0), Some(2.0)]; // gap +1: classifier behind
        let ahead = [Some(2.0), Some(1.0)]; // gap −1
        // At least two local steps before the first global one, then global while behind.
        let kinds: Vec<_> = (0..6).map(|_| decide(&mut s, &behind)).collect();
        use StepKind::{Global as G, Local as L};
        assert_eq!(kinds, [L, L, G, L, L, G]);
        // Ahead: only the max_gap rule, every sixth step.
        let kinds: Vec<_> = (0..12).map(|_| decide(&mut s, &ahead)).collect();
        assert_eq!(kinds, [L, L, L, L, L, G, L, L, L, L, L, G]);
    }

    #[test]
    fn lagging_passes_the_conformance_kit_and_bad_values_name_the_key() {
        let registry = ScheduleRegistry::with_builtins();
        for spec in [
            "lagging",
            "lagging:margin=-0.05,min_gap=1,max_gap=4,smooth=0.5",
        ] {
            check_schedule(&registry, spec, 20, 200, 77);
        }
        let mut s = registry
            .build("lagging:margin=-1,min_gap=0,max_gap=3")
            .unwrap();
        let kinds = drive(&mut *s, 0, 100, 10);
        assert!(count_global(&kinds) > 40, "a negative margin guides often");
        assert_eq!(
            registry.build("lagging").unwrap().spec(),
            "lagging:margin=0,min_gap=2,max_gap=8,smooth=0.9"
        );
        for (spec, key) in [
            ("lagging:margin=x", "margin"),
            ("lagging:margin=inf", "margin"),
            ("lagging:smooth=1", "smooth"),
            ("lagging:max_gap=0", "max_gap"),
            ("lagging:min_gap=5,max_gap=4", "min_gap"),
        ] {
            let err = registry.build(spec).unwrap_err();
            assert!(
                matches!(err, CoreError::BadValue { key: ref k, .. } if k == key),
                "{spec}: {err}"
            );
        }
    }
}
