//! `linear-warmup:iters=N,then=SPEC`: a linear ramp over the first `N` iterations, then `SPEC`.
//!
//! For iteration `i < N` the factor is `(i + 1) / N` times `SPEC`'s factor; from iteration `N − 1`
//! on it is exactly `SPEC`'s factor (the ramp has reached 1). `SPEC` (default `constant`) sees
//! the run's own clock, not one restarted after the warm-up: `linear-warmup:iters=500,then=cosine`
//! warms up into the cosine curve of the whole run (as in Goyal et al.'s large-batch recipe).

use super::registry::LrScheduleEntry;
use super::{LrContext, LrSchedule, LrScheduleRegistry, LrState};
use crate::error::CoreError;
use crate::schedule::{SpecArgs, SpecNode};

/// `linear-warmup` in the LR schedule table.
pub const ENTRY: LrScheduleEntry = LrScheduleEntry {
    name: "linear-warmup",
    summary: "iters=N[,then=SPEC]: ramp (i+1)/N over N iterations into SPEC (default constant)",
    build: from_spec,
};

/// Ramps the factor of `then` linearly over the first `iters` iterations.
#[derive(Debug)]
pub struct LinearWarmup {
    iters: u64,
    then: Box<dyn LrSchedule>,
}

impl LinearWarmup {
    /// Warm up over `iters` iterations (at least 1; else an error), then follow `then`.
    pub fn new(iters: u64, then: Box<dyn LrSchedule>) -> Result<Self, CoreError> {
        if iters == 0 {
            return Err(CoreError::BadValue {
                schedule: "linear-warmup".to_string(),
                key: "iters".to_string(),
                value: "0".to_string(),
                expected: "an integer >= 1 (warm-up iterations)".to_string(),
            });
        }
        Ok(Self { iters, then })
    }

    /// Number of warm-up iterations.
    pub fn iters(&self) -> u64 {
        self.iters
    }
}

impl LrSchedule for LinearWarmup {
    fn factor(&self, ctx: &LrContext) -> f64 {
        let then = self.then.factor(ctx);
        if ctx.iteration < self.iters {
            (ctx.iteration + 1) as f64 / self.iters as f64 * then
        } else {
            then
        }
    }
    fn spec(&self) -> String {
        format!(
            "linear-warmup:iters={},then={}",
            self.iters,
            self.then.spec()
        )
    }
    fn state(&self) -> LrState {
        let mut state = LrState::default();
        state.nest("then", self.then.state());
        state
    }
    fn restore(&mut self, state: &LrState) -> Result<(), CoreError> {
        if let Some(key) = state.values.keys().find(|k| !k.starts_with("then.")) {
            return Err(CoreError::StateMismatch {
                schedule: self.spec(),
                reason: format!("unexpected value `{key}` (only `then.*` is saved)"),
            });
        }
        self.then.restore(&state.child("then"))
    }
    fn clone_box(&self) -> Box<dyn LrSchedule> {
        Box::new(LinearWarmup {
            iters: self.iters,
            then: self.then.clone_box(),
        })
    }
}

/// Builds `linear-warmup:iters=N[,then=SPEC]`, building `SPEC` through `registry`.
fn from_spec(
    node: &SpecNode,
    registry: &LrScheduleRegistry,
) -> Result<Box<dyn LrSchedule>, CoreError> {
    let args = SpecArgs::new(node, &["iters", "then"])?;
    let iters = args.u64("iters", None, 1)?;
    let then = registry.build(args.raw("then").unwrap_or("constant"))?;
    Ok(Box::new(LinearWarmup::new(iters, then)?))
}

#[cfg(test)]
mod tests {
    use super::super::conformance::check_lr_schedule;
    use super::*;

    #[test]
    fn linear_warmup_passes_the_conformance_kit() {
        let registry = LrScheduleRegistry::with_builtins();
        for spec in [
            "linear-warmup:iters=5",
            "linear-warmup:iters=7,then=cosine:min=0.1",
            "linear-warmup:then=(multistep:at=(1,3),gamma=0.5),iters=40",
            "linear-warmup:iters=3,then=linear-warmup:iters=9,then=cosine",
        ] {
            check_lr_schedule(&registry, spec, 8, 5, 11);
        }
    }

    #[test]
    fn linear_warmup_ramps_then_follows_the_run_clock() {
        let registry = LrScheduleRegistry::with_builtins();
        let warm = registry.build("linear-warmup:iters=4,then=cosine").unwrap();
        let cosine = registry.build("cosine").unwrap();
        let ctx = |i| LrContext::at_iteration(i, 5, 4);
        for i in 0..4 {
            let expected = (i + 1) as f64 / 4.0 * cosine.factor(&ctx(i));
            assert_eq!(warm.factor(&ctx(i)), expected);
        }
        for i in 3..25 {
            assert_eq!(warm.factor(&ctx(i)), cosine.factor(&ctx(i)));
        }
        assert_eq!(warm.factor(&ctx(0)), 0.25);
    }

    #[test]
    fn linear_warmup_errors_name_the_key() {
        let registry = LrScheduleRegistry::with_builtins();
        let err = registry.build("linear-warmup").unwrap_err();
        assert!(
            matches!(err, CoreError::MissingKey { ref key, .. } if key == "iters"),
            "{err}"
        );
        let err = registry.build("linear-warmup:iters=0").unwrap_err();
        assert!(
            matches!(err, CoreError::BadValue { ref key, .. } if key == "iters"),
            "{err}"
        );
        let err = registry
            .build("linear-warmup:iters=2,then=cosine:min=3")
            .unwrap_err();
        assert!(
            matches!(err, CoreError::BadValue { ref key, .. } if key == "min"),
            "{err}"
        );
        let err = registry
            .build("linear-warmup:iters=2,then=nope")
            .unwrap_err();
        assert!(matches!(err, CoreError::UnknownSchedule { .. }), "{err}");
    }

    #[test]
    fn linear_warmup_rejects_state_it_did_not_save() {
        let mut s = LrScheduleRegistry::with_builtins()
            .build("linear-warmup:iters=2")
            .unwrap();
        let err = s
            .restore(&LrState::default().with("step", 3.0))
            .unwrap_err();
        assert!(matches!(err, CoreError::StateMismatch { .. }), "{err}");
        let err = s
            .restore(&LrState::default().with("then.step", 3.0))
            .unwrap_err();
        assert!(matches!(err, CoreError::StateMismatch { .. }), "{err}");
    }
}
