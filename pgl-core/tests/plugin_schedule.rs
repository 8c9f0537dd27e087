//! Adding a schedule from outside pgl-core is one file plus one line: this file is the "one
//! file" (a schedule and its [`ScheduleEntry`]), and `registry.register_entry(LOSS_SPIKE)` is
//! the line. The conformance kit then checks it like any built-in, state through JSON included.

use pgl_core::schedule::conformance::{check_schedule, count_global, drive};
use pgl_core::schedule::{GuidanceSchedule, ScheduleEntry, SpecArgs};
use pgl_core::{CoreError, ScheduleRegistry, ScheduleState, StepContext, StepKind};

/// Global for one step whenever the latest loss is more than `factor` times the lowest loss
/// seen so far. Its state starts at `lowest = +inf`, a value JSON has no number for.
#[derive(Debug, Clone)]
struct LossSpike {
    factor: f64,
    lowest: f64,
}

impl GuidanceSchedule for LossSpike {
    fn decide(&mut self, ctx: &StepContext<'_>) -> StepKind {
        let Some(&latest) = ctx.recent_losses.last() else {
            return StepKind::Local;
        };
        let latest = f64::from(latest);
        let spike = latest > self.factor * self.lowest;
        self.lowest = self.lowest.min(latest);
        if spike {
            StepKind::Global
        } else {
            StepKind::Local
        }
    }
    fn spec(&self) -> String {
        format!("{}:factor={}", LOSS_SPIKE.name, self.factor)
    }
    fn state(&self) -> ScheduleState {
        ScheduleState::default().with("lowest", self.lowest)
    }
    fn restore(&mut self, state: &ScheduleState) -> Result<(), CoreError> {
        self.lowest = state.require(&self.spec(), "lowest")?;
        Ok(())
    }
    fn clone_box(&self) -> Box<dyn GuidanceSchedule> {
        Box::new(self.clone())
    }
    fn uses_losses(&self) -> bool {
        true
    }
}

/// The schedule's row, exactly like a built-in's.
const LOSS_SPIKE: ScheduleEntry = ScheduleEntry {
    name: "loss-spike",
    summary: "factor=F: one global step when the loss jumps above F times its lowest value",
    build: |node, _| {
        let args = SpecArgs::new(node, &["factor"])?;
        Ok(Box::new(LossSpike {
            factor: args.non_negative_f64("factor", 1.1)?,
            lowest: f64::INFINITY,
        }))
    },
};

fn registry() -> ScheduleRegistry {
    let mut registry = ScheduleRegistry::with_builtins();
    registry.register_entry(LOSS_SPIKE).unwrap();
    registry
}

#[test]
fn an_entry_registered_from_outside_passes_the_conformance_kit() {
    let r = registry();
    for spec in [
        "loss-spike",
        "loss-spike:factor=1.05",
        "warmup:epochs=2,then=loss-spike",
        "warmup:epochs=1,clock=switch,then=any(loss-spike,periodic:every=9)",
    ] {
        check_schedule(&r, spec, 13, 300, 20);
        check_schedule(&r, spec, 13, 300, 117);
    }
    // It is listed with its summary, and it does fire on the kit's noisy loss curve.
    assert!(
        r.describe()
            .contains(&(LOSS_SPIKE.name.into(), LOSS_SPIKE.summary.into()))
    );
    let kinds = drive(&mut *r.build("loss-spike:factor=1.05").unwrap(), 0, 300, 13);
    assert!(count_global(&kinds) > 0);
}

#[test]
fn an_entry_cannot_take_a_builtin_name() {
    let mut r = ScheduleRegistry::with_builtins();
    let clash = ScheduleEntry {
        name: "plateau",
        ..LOSS_SPIKE
    };
    assert!(matches!(
        r.register_entry(clash),
        Err(CoreError::DuplicateSchedule { name }) if name == "plateau"
    ));
}
