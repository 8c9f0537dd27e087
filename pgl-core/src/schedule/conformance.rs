//! A conformance kit every schedule's tests call (like burn's `check_lr_sequence`).
//!
//! [`check_schedule`] runs the properties every [`GuidanceSchedule`] must have: it is
//! deterministic, its spec round-trips through the registry, a clone continues exactly like the
//! original, its state at every step survives the checkpoint manifest's JSON encoding exactly,
//! and saving its state mid-run (through that JSON) then restoring it into a freshly built
//! schedule reproduces every later decision. Use it for your own schedules too.

use super::{GuidanceSchedule, ScheduleRegistry, ScheduleState};
use crate::step::{StepContext, StepKind};

/// `state` written and read back the way a checkpoint manifest does it (`serde_json`), or the
/// error a resume would meet.
pub fn through_json(state: &ScheduleState) -> Result<ScheduleState, serde_json::Error> {
    serde_json::from_str(&serde_json::to_string(state)?)
}

/// True when `a` and `b` hold the same keys with bit-identical values (any NaN equals any NaN:
/// JSON keeps a NaN, not its payload).
pub fn same_state(a: &ScheduleState, b: &ScheduleState) -> bool {
    a.values.len() == b.values.len()
        && a.values.iter().zip(&b.values).all(|((ka, va), (kb, vb))| {
            ka == kb && (va.to_bits() == vb.to_bits() || (va.is_nan() && vb.is_nan()))
        })
}

/// `state` through JSON, panicking (naming `spec` and `step`) unless it comes back the same.
fn json_checked(state: &ScheduleState, spec: &str, step: u64) -> ScheduleState {
    let text = serde_json::to_string(state)
        .unwrap_or_else(|e| panic!("`{spec}`: state at step {step} cannot be written: {e}"));
    let back: ScheduleState = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("`{spec}`: state at step {step} does not read back from its JSON {text}: {e}")
    });
    assert!(
        same_state(&back, state),
        "`{spec}`: state at step {step} changes through JSON: {state:?} -> {text} -> {back:?}"
    );
    back
}

/// How many recent losses [`drive`] hands to the schedule.
pub const LOSS_WINDOW: usize = 16;

/// A deterministic, noisy, slowly decreasing loss curve with plateaus, so that adaptive
/// schedules fire now and then. `loss_at(i)` is the loss observed after step `i`.
pub fn loss_at(i: u64) -> f32 {
    let plateau = (i / 37) as f32;
    let noise = ((i.wrapping_mul(2_654_435_761) % 1000) as f32) / 5000.0;
    2.0 / (1.0 + 0.3 * plateau) + noise
}

/// The module losses observed in step `i` of a network of four modules (the last one the
/// classifier): each module's is [`loss_at`] at a shifted step, so the classifier is sometimes
/// behind its best aux head and sometimes ahead.
pub fn module_losses_at(i: u64) -> Vec<Option<f32>> {
    (0..4u64)
        .map(|k| Some(loss_at(i.wrapping_add(13 * (3 - k)))))
        .collect()
}

/// Runs `schedule` for steps `start..end` with `per_epoch` iterations per epoch, the loss
/// history of [`loss_at`] and the previous step's [`module_losses_at`], returning its
/// decisions.
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
            let modules = i.checked_sub(1).map(module_losses_at).unwrap_or_default();
            let ctx = StepContext::at_iteration(i, per_epoch)
                .with_losses(&losses)
                .with_module_losses(&modules);
            schedule.decide(&ctx)
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

    // At every step, the state survives the manifest's JSON and restores into a fresh build.
    let mut walker = build(spec);
    for step in 0..=total {
        let back = json_checked(&walker.state(), spec, step);
        let mut fresh = build(spec);
        fresh.restore(&back).unwrap_or_else(|e| {
            panic!("`{spec}` cannot restore its own state of step {step} read from JSON: {e}")
        });
        assert!(
            same_state(&fresh.state(), &back),
            "`{spec}`: state of step {step} differs after restoring it"
        );
        if step < total {
            drive(&mut *walker, step, step + 1, per_epoch);
        }
    }

    // Save at `cut` through JSON, restore into a fresh schedule, continue: same decisions.
    let mut first = build(spec);
    let mut decisions = drive(&mut *first, 0, cut, per_epoch);
    let saved = json_checked(&first.state(), spec, cut);
    let mut resumed = build(spec);
    resumed
        .restore(&saved)
        .unwrap_or_else(|e| panic!("`{spec}` cannot restore its own state: {e}"));
    assert!(
        same_state(&resumed.state(), &saved),
        "`{spec}`: restored state differs"
    );
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
