//! `cosine:min=F,unit=iters|epochs`: cosine decay of the factor from 1 to `min` over the run.
//!
//! With `t` the current iteration (or epoch, `unit=epochs`) and `T` the run's total iterations
//! (or epochs), the factor is
//!
//! ```text
//! min + (1 − min) · (1 + cos(π · t / T)) / 2     for t < T,   min for t ≥ T
//! ```
//!
//! the curve of PyTorch's `CosineAnnealingLR` with `T_max = T` (stepped every iteration by
//! default; `unit=epochs` steps it once per epoch, as InfoPro's recipes do). It starts at exactly
//! 1, never increases and reaches `min` exactly at `t = T`, i.e. just after the last iteration.

use std::f64::consts::PI;

use super::registry::LrScheduleEntry;
use super::{LrContext, LrSchedule, LrScheduleRegistry};
use crate::error::CoreError;
use crate::schedule::{SpecArgs, SpecNode};

/// `cosine` in the LR schedule table.
pub const ENTRY: LrScheduleEntry = LrScheduleEntry {
    name: "cosine",
    summary: "[min=F][,unit=iters|epochs]: cosine decay from 1 to min (default 0) over the run",
    build: from_spec,
};

/// What a [`Cosine`] schedule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CosineUnit {
    /// Iterations: the factor changes every mini-batch.
    Iterations,
    /// Epochs: the factor changes once per epoch.
    Epochs,
}

impl CosineUnit {
    /// The spelling used in specs: `iters` or `epochs`.
    pub fn as_str(self) -> &'static str {
        match self {
            CosineUnit::Iterations => "iters",
            CosineUnit::Epochs => "epochs",
        }
    }
}

/// Cosine decay from 1 to `min` over the whole run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cosine {
    min: f64,
    unit: CosineUnit,
}

impl Cosine {
    /// Decays to the factor `min`, which must be in `[0, 1]`; else an error quoting the value.
    pub fn new(min: f64, unit: CosineUnit) -> Result<Self, CoreError> {
        if !(0.0..=1.0).contains(&min) {
            return Err(CoreError::BadValue {
                schedule: "cosine".to_string(),
                key: "min".to_string(),
                value: min.to_string(),
                expected: "a number in [0, 1] (the final factor)".to_string(),
            });
        }
        Ok(Self { min, unit })
    }

    /// The final factor.
    pub fn min(&self) -> f64 {
        self.min
    }

    /// What is counted.
    pub fn unit(&self) -> CosineUnit {
        self.unit
    }
}

impl LrSchedule for Cosine {
    fn factor(&self, ctx: &LrContext) -> f64 {
        let (t, total) = match self.unit {
            CosineUnit::Iterations => (ctx.iteration, ctx.total_iterations()),
            CosineUnit::Epochs => (ctx.epoch, ctx.total_epochs),
        };
        if t >= total {
            return self.min;
        }
        let progress = t as f64 / total as f64;
        self.min + (1.0 - self.min) * (0.5 * (1.0 + (PI * progress).cos()))
    }
    fn spec(&self) -> String {
        format!("cosine:min={},unit={}", self.min, self.unit.as_str())
    }
    fn clone_box(&self) -> Box<dyn LrSchedule> {
        Box::new(*self)
    }
}

/// Builds `cosine[:min=F][,unit=iters|epochs]`.
fn from_spec(
    node: &SpecNode,
    _registry: &LrScheduleRegistry,
) -> Result<Box<dyn LrSchedule>, CoreError> {
    let args = SpecArgs::new(node, &["min", "unit"])?;
    let min = match args.raw("min") {
        None => 0.0,
        Some(raw) => raw.parse::<f64>().map_err(|_| CoreError::BadValue {
            schedule: "cosine".to_string(),
            key: "min".to_string(),
            value: raw.to_string(),
            expected: "a number in [0, 1] (the final factor)".to_string(),
        })?,
    };
    let unit = match args.choice("unit", &["iters", "epochs"], "iters")? {
        "epochs" => CosineUnit::Epochs,
        _ => CosineUnit::Iterations,
    };
    Ok(Box::new(Cosine::new(min, unit)?))
}

#[cfg(test)]
mod tests {
    use super::super::conformance::check_lr_schedule;
    use super::*;

    #[test]
    fn cosine_passes_the_conformance_kit() {
        let registry = LrScheduleRegistry::with_builtins();
        for spec in ["cosine", "cosine:min=0.01", "cosine:unit=epochs,min=0.5"] {
            check_lr_schedule(&registry, spec, 9, 4, 20);
        }
    }

    #[test]
    fn cosine_matches_the_closed_form_at_quarter_points() {
        // 4 epochs of 10 iterations: T = 40; at t = 20 the cosine is 0, at t = 10 it is 1/√2.
        let s = Cosine::new(0.2, CosineUnit::Iterations).unwrap();
        let at = |i| s.factor(&LrContext::at_iteration(i, 10, 4));
        assert_eq!(at(0), 1.0);
        assert!((at(20) - 0.6).abs() < 1e-15);
        assert!((at(10) - (0.2 + 0.8 * (0.5 + 0.5 * 0.5f64.sqrt()))).abs() < 1e-15);
        assert_eq!(at(40), 0.2);
        assert_eq!(at(1000), 0.2);
    }

    #[test]
    fn cosine_by_epochs_is_constant_within_an_epoch() {
        let s = Cosine::new(0.0, CosineUnit::Epochs).unwrap();
        let at = |i| s.factor(&LrContext::at_iteration(i, 10, 4));
        assert!((0..10).all(|i| at(i) == 1.0));
        assert!((20..30).all(|i| (at(i) - 0.5).abs() < 1e-15));
    }

    #[test]
    fn cosine_rejects_a_min_outside_zero_one() {
        let registry = LrScheduleRegistry::with_builtins();
        for spec in [
            "cosine:min=1.5",
            "cosine:min=-0.1",
            "cosine:min=NaN",
            "cosine:min=x",
        ] {
            let err = registry.build(spec).unwrap_err();
            assert!(
                matches!(err, CoreError::BadValue { ref key, ref expected, .. }
                    if key == "min" && expected.contains("[0, 1]")),
                "{spec}: {err}"
            );
        }
    }
}
