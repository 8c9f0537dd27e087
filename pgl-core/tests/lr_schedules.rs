//! Learning-rate schedules: the conformance kit on every built-in and on a schedule registered
//! from outside the crate, property tests of each built-in's curve, spec errors, config field.

use pgl_core::lr::conformance::{check_lr_schedule, factors};
use pgl_core::lr::{Cosine, CosineUnit, LrSchedule, LrState, MultiStep};
use pgl_core::schedule::SpecArgs;
use pgl_core::{CoreError, LrContext, LrScheduleRegistry, RunConfig};
use proptest::prelude::*;

fn registry() -> LrScheduleRegistry {
    LrScheduleRegistry::with_builtins()
}

const EXAMPLE_SPECS: &[&str] = &[
    "constant",
    "cosine",
    "cosine:min=0.05",
    "cosine:min=0.001,unit=epochs",
    "multistep:at=(3,5),gamma=0.2",
    "multistep:at=4",
    "linear-warmup:iters=10",
    "linear-warmup:iters=25,then=cosine:min=0.1",
    "linear-warmup:iters=3,then=multistep:at=(2,6),gamma=0.5",
    "linear-warmup:then=(cosine),iters=100000",
];

#[test]
fn every_builtin_example_passes_the_conformance_kit() {
    let r = registry();
    for spec in EXAMPLE_SPECS {
        check_lr_schedule(&r, spec, 13, 7, 40);
        check_lr_schedule(&r, spec, 1, 1, 0);
    }
}

#[test]
fn canonical_specs_are_explicit() {
    let r = registry();
    let canonical = |s: &str| r.build(s).unwrap().spec();
    assert_eq!(canonical("constant"), "constant");
    assert_eq!(canonical("cosine"), "cosine:min=0,unit=iters");
    assert_eq!(canonical("multistep:at=80"), "multistep:at=(80),gamma=0.1");
    assert_eq!(
        canonical("multistep:gamma=0.5,at=( 80 , 120 )"),
        "multistep:at=(80,120),gamma=0.5"
    );
    assert_eq!(
        canonical("linear-warmup:iters=5"),
        "linear-warmup:iters=5,then=constant"
    );
    assert_eq!(
        canonical("linear-warmup:then=(multistep:at=(1,2)),iters=5"),
        "linear-warmup:iters=5,then=multistep:at=(1,2),gamma=0.1"
    );
}

/// A schedule defined here, outside pgl-core, with state: proves the kit and the registry work
/// for plugins the crate does not know.
#[derive(Debug, Clone)]
struct StepDown {
    every: u64,
    /// A persisted scale, to exercise the state hooks.
    scale: f64,
}

impl LrSchedule for StepDown {
    fn factor(&self, ctx: &LrContext) -> f64 {
        self.scale * 0.5f64.powi((ctx.iteration / self.every).min(60) as i32)
    }
    fn spec(&self) -> String {
        format!("step-down:every={}", self.every)
    }
    fn state(&self) -> LrState {
        LrState::default().with("scale", self.scale)
    }
    fn restore(&mut self, state: &LrState) -> Result<(), CoreError> {
        self.scale = state.require(&self.spec(), "scale")?;
        Ok(())
    }
    fn clone_box(&self) -> Box<dyn LrSchedule> {
        Box::new(self.clone())
    }
}

fn with_step_down() -> LrScheduleRegistry {
    let mut r = registry();
    r.register(
        "step-down",
        "every=N: halve every N iterations",
        |node, _| {
            let args = SpecArgs::new(node, &["every"])?;
            Ok(Box::new(StepDown {
                every: args.u64("every", None, 1)?,
                scale: 1.0,
            }))
        },
    )
    .unwrap();
    r
}

#[test]
fn a_schedule_registered_outside_the_crate_passes_the_kit_and_nests() {
    let r = with_step_down();
    check_lr_schedule(&r, "step-down:every=7", 10, 3, 15);
    check_lr_schedule(&r, "linear-warmup:iters=4,then=step-down:every=3", 10, 3, 2);
    assert!(r.entries().contains(&(
        "step-down".to_string(),
        "every=N: halve every N iterations".to_string()
    )));
    // Nested state is saved under `then.` and restored into the inner schedule.
    let mut warm = r
        .build("linear-warmup:iters=4,then=step-down:every=3")
        .unwrap();
    assert_eq!(warm.state(), LrState::default().with("then.scale", 1.0));
    warm.restore(&LrState::default().with("then.scale", 0.25))
        .unwrap();
    assert_eq!(warm.factor(&LrContext::at_iteration(5, 10, 3)), 0.25 * 0.5);
}

/// A schedule with deliberate defects, to show the kit catches each of them.
#[derive(Debug, Clone)]
struct Broken {
    defect: &'static str,
    scale: f64,
    restored: bool,
}

impl LrSchedule for Broken {
    fn factor(&self, ctx: &LrContext) -> f64 {
        match self.defect {
            "negative" if ctx.iteration == 5 => -0.5,
            "order" => {
                // Remembers the last iteration asked for: not a pure function of the context
                // (a forward pass gives 1 everywhere, a backward one 0.5).
                let last = LAST.with(|l| l.replace(ctx.iteration));
                if Some(last) == ctx.iteration.checked_add(1) {
                    0.5
                } else {
                    1.0
                }
            }
            // "bad-resume" restores its state faithfully but behaves differently afterwards.
            "bad-resume" if self.restored => self.scale / 2.0,
            _ => self.scale,
        }
    }
    fn spec(&self) -> String {
        format!("broken:defect={}", self.defect)
    }
    fn state(&self) -> LrState {
        match self.defect {
            "nan-state" => LrState::default().with("scale", f64::NAN),
            _ => LrState::default().with("scale", self.scale),
        }
    }
    fn restore(&mut self, state: &LrState) -> Result<(), CoreError> {
        let scale = state.require(&self.spec(), "scale")?;
        // "bad-restore" reads its state back wrong.
        self.restored = true;
        self.scale = if self.defect == "bad-restore" {
            scale * 2.0
        } else {
            scale
        };
        Ok(())
    }
    fn clone_box(&self) -> Box<dyn LrSchedule> {
        Box::new(self.clone())
    }
}

thread_local! {
    static LAST: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[test]
fn the_kit_catches_broken_schedules() {
    let mut r = registry();
    r.register("broken", "deliberately wrong", |node, _| {
        let args = SpecArgs::new(node, &["defect"])?;
        let defect = args.choice(
            "defect",
            &[
                "none",
                "negative",
                "order",
                "nan-state",
                "bad-restore",
                "bad-resume",
            ],
            "none",
        )?;
        Ok(Box::new(Broken {
            defect,
            scale: 0.75,
            restored: false,
        }))
    })
    .unwrap();
    check_lr_schedule(&r, "broken:defect=none", 4, 3, 5);
    for (defect, expected) in [
        ("negative", "not a finite number >= 0"),
        ("order", "depends on the order"),
        ("nan-state", "JSON cannot hold"),
        ("bad-restore", "restored state differs"),
        ("bad-resume", "resuming at iteration 5"),
    ] {
        let spec = format!("broken:defect={defect}");
        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check_lr_schedule(&r, &spec, 4, 3, 5)
        }))
        .expect_err(&format!("the kit accepted `{spec}`"));
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(message.contains(expected), "`{spec}`: {message}");
    }
}

#[test]
fn spec_errors_name_the_parameter_and_what_is_expected() {
    let r = registry();
    let message = |spec: &str| r.build(spec).unwrap_err().to_string();
    assert!(message("cosine:min=2").contains("`min=2`"));
    assert!(message("cosine:min=2").contains("[0, 1]"));
    assert!(message("cosine:unit=steps").contains("iters, epochs"));
    assert!(message("cosine:max=1").contains("min, unit"));
    assert!(message("multistep:at=(5,4)").contains("strictly increasing"));
    assert!(message("multistep:at=(1,2),gamma=0").contains("(0, 1]"));
    assert!(message("multistep:at=80,120,gamma=0.1").contains("brackets"));
    assert!(message("linear-warmup:iters=0").contains("`iters=0`"));
    assert!(message("linear-warmup:iters=2,then=step").contains("constant, cosine"));
    assert!(message("cosine(constant)").contains("takes no inner schedules"));
}

#[test]
fn the_config_field_defaults_to_cosine_and_old_run_configs_still_read_as_constant() {
    assert_eq!(RunConfig::default().optimizer.lr_schedule, "cosine");
    // A run configuration written before the field existed means what those runs did.
    let old: RunConfig = serde_json::from_str(r#"{"lr": 0.05, "epochs": 3}"#).unwrap();
    assert_eq!(old.optimizer.lr_schedule, "constant");
    for (key, value) in pgl_core::LEGACY_DEFAULTS {
        let written = serde_json::to_value(&old).unwrap()[key].to_string();
        assert_eq!(
            written.trim_matches('"').trim_end_matches(".0"),
            value,
            "{key}"
        );
    }
    let new: RunConfig =
        serde_json::from_str(r#"{"lr_schedule": "multistep:at=(80,120),gamma=0.1"}"#).unwrap();
    assert!(registry().build(&new.optimizer.lr_schedule).is_ok());
    assert!(
        registry()
            .build(&RunConfig::default().optimizer.lr_schedule)
            .is_ok()
    );
}

#[test]
fn lr_context_from_a_step_context_keeps_the_counters() {
    let step = pgl_core::StepContext::at_iteration(23, 10);
    assert_eq!(
        LrContext::from_step(&step, 5),
        LrContext::at_iteration(23, 10, 5)
    );
    assert_eq!(LrContext::at_iteration(23, 10, 5).total_iterations(), 50);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn constant_is_one(i in any::<u64>(), per in 0u64..1000, total in 0u64..1000) {
        let s = registry().build("constant").unwrap();
        prop_assert_eq!(s.factor(&LrContext::at_iteration(i, per, total)), 1.0);
    }

    #[test]
    fn cosine_never_increases_starts_at_one_and_ends_at_min(
        min in prop_oneof![Just(0.0), Just(1.0), 0.0f64..=1.0],
        per in 1u64..40,
        total in 1u64..30,
        by_epochs in any::<bool>(),
    ) {
        let unit = if by_epochs { CosineUnit::Epochs } else { CosineUnit::Iterations };
        let s = Cosine::new(min, unit).unwrap();
        let run = per * total;
        let f = factors(&s, per, total, 0, run + 2 * per);
        prop_assert_eq!(f[0], 1.0);
        for (i, pair) in f.windows(2).enumerate() {
            prop_assert!(pair[1] <= pair[0], "increases at {}: {} -> {}", i + 1, pair[0], pair[1]);
        }
        prop_assert!(f.iter().all(|v| *v >= min && *v <= 1.0));
        prop_assert!(f[run as usize..].iter().all(|v| *v == min), "does not end at min");
        if min <= 0.9 && run > 1 && !by_epochs {
            prop_assert!(f[run as usize - 1] > min, "reaches min before the run ends");
        }
    }

    #[test]
    fn multistep_is_gamma_to_the_number_of_passed_milestones(
        gaps in prop::collection::vec(1u64..6, 1..5),
        gamma in prop_oneof![Just(1.0), 0.001f64..=1.0],
        per in 1u64..6,
    ) {
        let milestones: Vec<u64> = gaps
            .iter()
            .scan(0, |at, gap| { *at += gap; Some(*at) })
            .collect();
        let list: Vec<String> = milestones.iter().map(u64::to_string).collect();
        let spec = format!("multistep:at=({}),gamma={gamma}", list.join(","));
        let s = registry().build(&spec).unwrap();
        prop_assert_eq!(s.spec(), spec);
        let direct = MultiStep::new(milestones.clone(), gamma).unwrap();
        let epochs = milestones.last().unwrap() + 3;
        for i in 0..epochs * per {
            let ctx = LrContext::at_iteration(i, per, epochs);
            let passed = milestones.iter().filter(|m| **m <= ctx.epoch).count();
            prop_assert_eq!(s.factor(&ctx), gamma.powi(passed as i32));
            prop_assert_eq!(direct.factor(&ctx), s.factor(&ctx));
            // Piecewise constant: the factor only changes at the first iteration of an epoch.
            if ctx.iteration_in_epoch > 0 {
                let before = LrContext::at_iteration(i - 1, per, epochs);
                prop_assert_eq!(s.factor(&ctx), s.factor(&before));
            }
        }
    }

    #[test]
    fn linear_warmup_ramps_into_then_and_reaches_it_at_n(
        n in 1u64..200,
        then in prop::sample::select(vec![
            "constant",
            "cosine:min=0.1",
            "cosine:unit=epochs",
            "multistep:at=(1,3),gamma=0.5",
        ]),
        per in 1u64..50,
        total in 1u64..8,
    ) {
        let r = registry();
        let warm = r.build(&format!("linear-warmup:iters={n},then={then}")).unwrap();
        let inner = r.build(then).unwrap();
        let end = (n + 2 * per).max(per * total);
        let mut previous_ratio = 0.0;
        for i in 0..end {
            let ctx = LrContext::at_iteration(i, per, total);
            let (w, t) = (warm.factor(&ctx), inner.factor(&ctx));
            if i + 1 >= n {
                prop_assert_eq!(w, t, "iteration {} of {}: not then's factor", i, n);
            } else {
                let ratio = (i + 1) as f64 / n as f64;
                prop_assert_eq!(w, ratio * t);
                prop_assert!(ratio > previous_ratio && w <= t);
                previous_ratio = ratio;
            }
        }
    }

    #[test]
    fn any_valid_builtin_spec_passes_the_kit(
        min in 0.0f64..=1.0,
        gamma in 0.01f64..=1.0,
        n in 1u64..50,
        per in 1u64..12,
        total in 0u64..5,
        cut in 0u64..80,
    ) {
        let r = registry();
        for spec in [
            format!("cosine:min={min}"),
            format!("multistep:at=(1,{}),gamma={gamma}", 2 + n % 3),
            format!("linear-warmup:iters={n},then=cosine:min={min},unit=epochs"),
        ] {
            check_lr_schedule(&r, &spec, per, total, cut);
        }
    }
}
