//! A conformance kit every learning-rate schedule's tests call (like burn's
//! `check_lr_sequence`).
//!
//! [`check_lr_schedule`] runs the properties every [`LrSchedule`] must have: its factors are
//! finite and `>= 0` (also past the end of the run and on degenerate runs), it is
//! deterministic and a pure function of the context (asking in any order gives the same
//! factors), its spec round-trips through the registry, its state survives a JSON round trip,
//! and restoring that state into a freshly built schedule mid-run reproduces every later factor
//! bit for bit (exact resume). Use it for your own LR schedules too.

use super::{LrContext, LrSchedule, LrScheduleRegistry, LrState};
use crate::schedule::spec::MAX_SPEC_INTEGER;

/// The factors of `schedule` for global iterations `start..end` of a run of `total_epochs`
/// epochs of `iterations_per_epoch` iterations.
pub fn factors(
    schedule: &dyn LrSchedule,
    iterations_per_epoch: u64,
    total_epochs: u64,
    start: u64,
    end: u64,
) -> Vec<f64> {
    (start..end)
        .map(|i| {
            schedule.factor(&LrContext::at_iteration(
                i,
                iterations_per_epoch,
                total_epochs,
            ))
        })
        .collect()
}

/// The bit patterns of `values`, so comparisons are exact (and `-0.0 != 0.0`).
fn bits(values: &[f64]) -> Vec<u64> {
    values.iter().map(|v| v.to_bits()).collect()
}

/// One conformance check's run: the spec under test, the registry that builds it and the
/// run's clock, up to two epochs past the run's end.
struct Kit<'a> {
    registry: &'a LrScheduleRegistry,
    spec: &'a str,
    per_epoch: u64,
    total_epochs: u64,
    /// The first iteration not asked for: two epochs past the end of the run.
    end: u64,
}

impl Kit<'_> {
    /// The schedule `spec` builds (`spec` may differ from the one under test: its canonical
    /// form).
    fn build(&self, spec: &str) -> Box<dyn LrSchedule> {
        self.registry
            .build(spec)
            .unwrap_or_else(|e| panic!("LR schedule spec `{spec}` does not build: {e}"))
    }

    /// The factors of `schedule` for iterations `start..end` of the kit's run.
    fn factors(&self, schedule: &dyn LrSchedule, start: u64, end: u64) -> Vec<f64> {
        factors(schedule, self.per_epoch, self.total_epochs, start, end)
    }

    /// Finite and non-negative, in the run, past it, and on degenerate or huge clocks.
    fn check_finite(&self, schedule: &dyn LrSchedule, reference: &[f64]) {
        let spec = self.spec;
        for (i, f) in reference.iter().enumerate() {
            assert!(
                f.is_finite() && *f >= 0.0,
                "`{spec}`: factor {f} at iteration {i} is not a finite number >= 0"
            );
        }
        for per in [1, 3] {
            for total in [0, 1] {
                let extremes = [MAX_SPEC_INTEGER, u64::MAX];
                for i in (0..10).chain(extremes) {
                    let ctx = LrContext::at_iteration(i, per, total);
                    let f = schedule.factor(&ctx);
                    assert!(
                        f.is_finite() && f >= 0.0,
                        "`{spec}`: factor {f} at {ctx:?} is not a finite number >= 0"
                    );
                }
            }
        }
    }

    /// Deterministic (a second fresh build gives the same factors) and pure (asking again, or
    /// backwards, gives the same factors).
    fn check_pure(&self, schedule: &dyn LrSchedule, reference: &[f64]) {
        let spec = self.spec;
        assert_eq!(
            bits(&self.factors(&*self.build(spec), 0, self.end)),
            bits(reference),
            "`{spec}` is not deterministic"
        );
        let mut backwards: Vec<f64> = (0..self.end)
            .rev()
            .map(|i| {
                schedule.factor(&LrContext::at_iteration(
                    i,
                    self.per_epoch,
                    self.total_epochs,
                ))
            })
            .collect();
        backwards.reverse();
        assert_eq!(
            bits(&backwards),
            bits(reference),
            "`{spec}`: the factor depends on the order in which it is asked for"
        );
    }

    /// The canonical spec `canonical` rebuilds an identical schedule, and is a fixed point.
    fn check_canonical(&self, canonical: &str, reference: &[f64]) {
        let spec = self.spec;
        assert_eq!(
            self.build(canonical).spec(),
            canonical,
            "canonical spec of `{spec}` does not round-trip"
        );
        assert_eq!(
            bits(&self.factors(&*self.build(canonical), 0, self.end)),
            bits(reference),
            "`{canonical}` (canonical form of `{spec}`) gives different factors"
        );
    }

    /// Save at `cut`, through JSON, restore into a fresh schedule, continue: same factors;
    /// restoring its own state into the schedule that saved it changes nothing either.
    fn check_resume(&self, cut: u64, reference: &[f64]) {
        let spec = self.spec;
        let mut first = self.build(spec);
        let mut resumed_factors = self.factors(&*first, 0, cut);
        let saved = first.state();
        assert!(
            saved.values.values().all(|v| v.is_finite()),
            "`{spec}`: state {saved:?} has a value JSON cannot hold"
        );
        let json = serde_json::to_string(&saved)
            .unwrap_or_else(|e| panic!("`{spec}`: state does not serialise: {e}"));
        let decoded: LrState = serde_json::from_str(&json)
            .unwrap_or_else(|e| panic!("`{spec}`: state JSON `{json}` does not read back: {e}"));
        assert_eq!(decoded, saved, "`{spec}`: state changes through JSON");
        let mut resumed = self.build(spec);
        resumed
            .restore(&decoded)
            .unwrap_or_else(|e| panic!("`{spec}` cannot restore its own state: {e}"));
        assert_eq!(resumed.state(), saved, "`{spec}`: restored state differs");
        resumed_factors.extend(self.factors(&*resumed, cut, self.end));
        assert_eq!(
            bits(&resumed_factors),
            bits(reference),
            "`{spec}`: resuming at iteration {cut} changes later factors"
        );
        first
            .restore(&saved)
            .unwrap_or_else(|e| panic!("`{spec}` cannot restore its own state in place: {e}"));
        assert_eq!(
            bits(&self.factors(&*first, cut, self.end)),
            bits(&reference[cut as usize..]),
            "`{spec}`: restoring in place changes later factors"
        );
    }

    /// A clone of `schedule` gives the same spec (`canonical`), state and factors.
    fn check_clone(&self, schedule: &dyn LrSchedule, canonical: &str, reference: &[f64]) {
        let spec = self.spec;
        let copy = schedule.clone_box();
        assert_eq!(copy.spec(), canonical, "`{spec}`: a clone has another spec");
        assert_eq!(
            copy.state(),
            schedule.state(),
            "`{spec}`: a clone has another state"
        );
        assert_eq!(
            bits(&self.factors(&*copy, 0, self.end)),
            bits(reference),
            "`{spec}`: a clone gives different factors"
        );
    }
}

/// Asserts every conformance property of the LR schedule built from `spec`, over a run of
/// `total_epochs` epochs of `iterations_per_epoch` iterations (and two epochs past its end),
/// cutting the run at iteration `cut` for the resume and clone checks.
///
/// # Panics
/// When a property fails (this is a test helper), with a message naming the spec and what
/// failed.
pub fn check_lr_schedule(
    registry: &LrScheduleRegistry,
    spec: &str,
    iterations_per_epoch: u64,
    total_epochs: u64,
    cut: u64,
) {
    let per_epoch = iterations_per_epoch.max(1);
    let kit = Kit {
        registry,
        spec,
        per_epoch,
        total_epochs,
        end: (total_epochs + 2) * per_epoch,
    };
    let cut = cut.min(kit.end);
    let schedule = kit.build(spec);
    let reference = kit.factors(&*schedule, 0, kit.end);
    kit.check_finite(&*schedule, &reference);
    kit.check_pure(&*schedule, &reference);
    let canonical = schedule.spec();
    kit.check_canonical(&canonical, &reference);
    kit.check_resume(cut, &reference);
    kit.check_clone(&*schedule, &canonical, &reference);
}
