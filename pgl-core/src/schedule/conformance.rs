//! A conformance kit every schedule's tests call (like burn's `check_lr_sequence`).
//!
//! [`check_schedule`] runs the properties every [`GuidanceSchedule`] must have: it is
//! deterministic, its spec round-trips through the registry, a clone continues exactly like the
//! original, and saving its state mid-run then restoring it into a freshly built schedule
//! reproduces every later decision. Use it for your own schedules too.

use super::{GuidanceSchedule, ScheduleRegistry};
use crate::step::{StepContext, StepKind};

/// How many recent losses [`drive`] hands to the schedule.
pub const LOSS_WINDOW: usize = 16;

/// A deterministic, noisy, slowly decreasing loss curve with plateaus, so that adaptive
/// schedules fire now and then. `loss_at(i)` is the loss observed after step `i`.
pub fn loss_at(i: u64) -> f32 {
    let plateau = (i / 37) as f32;
    let noise = ((i.wrapping_mul(2_654_435_761) % 1000) as f32) / 5000.0;
    2.0 / (1.0 + 0.3 * plateau) + noise
}

/// Runs `schedule` for steps `start..end` with `per_epoch` iterations per epoch and the loss
/// history of [`loss_at`], returning its decisions.
pub fn drive(
    schedule: &mut dyn GuidanceSchedule,
    start: u64,
    end: u64,
    per_epoch: u64,
) -> Vec<StepKind> {
    (start..end)
        .map(|i| {
            let from = i.saturating_sub(LOSS_WINDOW as u64);
            let losses: Vec<f32> = (from..i).map(loss_at).collect();
            schedule.decide(&StepContext::at_iteration(i, per_epoch).with_losses(&losses))
        })
        .collect()
}

/// Asserts every conformance property of the schedule built from `spec`, over `total` steps
/// of `per_epoch` iterations, cutting the run at step `cut` for the resume and clone checks.
///
/// # Panics
/// When a property fails (this is a test helper), with a message naming the spec and step.
pub fn check_schedule(
    registry: &ScheduleRegistry,
    spec: &str,
    per_epoch: u64,
    total: u64,
    cut: u64,
) {
    let build = |s: &str| {
        registry
            .build(s)
            .unwrap_or_else(|e| panic!("spec `{s}` does not build: {e}"))
    };
    let cut = cut.min(total);
    let reference = drive(&mut *build(spec), 0, total, per_epoch);

    // Deterministic: a second fresh build decides the same.
    assert_eq!(
        drive(&mut *build(spec), 0, total, per_epoch),
        reference,
        "`{spec}` is not deterministic"
    );

    // The canonical spec rebuilds an identical schedule, and is a fixed point.
    let canonical = build(spec).spec();
    assert_eq!(
        build(&canonical).spec(),
        canonical,
        "canonical spec of `{spec}` does not round-trip"
    );
    assert_eq!(
        drive(&mut *build(&canonical), 0, total, per_epoch),
        reference,
        "`{canonical}` (canonical form of `{spec}`) decides differently"
    );

    // Save at `cut`, restore into a fresh schedule, continue: same decisions.
    let mut first = build(spec);
    let mut decisions = drive(&mut *first, 0, cut, per_epoch);
    let saved = first.state();
    let mut resumed = build(spec);
    resumed
        .restore(&saved)
        .unwrap_or_else(|e| panic!("`{spec}` cannot restore its own state: {e}"));
    assert_eq!(resumed.state(), saved, "`{spec}`: restored state differs");
    decisions.extend(drive(&mut *resumed, cut, total, per_epoch));
    assert_eq!(
        decisions, reference,
        "`{spec}`: resuming at step {cut} changes later decisions"
    );

    // A clone taken mid-run continues like the original.
    let mut original = build(spec);
    drive(&mut *original, 0, cut, per_epoch);
    let mut copy = original.clone_box();
    assert_eq!(
        drive(&mut *copy, cut, total, per_epoch),
        drive(&mut *original, cut, total, per_epoch),
        "`{spec}`: a clone diverges from its original"
    );
}

/// Number of global decisions in `kinds`.
pub fn count_global(kinds: &[StepKind]) -> usize {
    kinds.iter().filter(|k| **k == StepKind::Global).count()
}
