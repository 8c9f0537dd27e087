//! Schedule behaviour: conformance kit on every built-in, exact counts, spec errors.

use pgl_core::schedule::conformance::{check_schedule, count_global, drive, through_json};
use pgl_core::schedule::{BUILTINS, EndToEnd, GuidanceSchedule, SpecArgs};
use pgl_core::{CoreError, ScheduleRegistry, ScheduleState, StepContext, StepKind};
use proptest::prelude::*;

fn registry() -> ScheduleRegistry {
    ScheduleRegistry::with_builtins()
}

const EXAMPLE_SPECS: &[&str] = &[
    "local-only",
    "end-to-end",
    "periodic:every=10",
    "periodic:every=7,len=3",
    "periodic:every=2,len=1,unit=epochs",
    "warmup:epochs=1,then=periodic:every=10",
    "warmup:epochs=2",
    "plateau:patience=5,len=2,min_delta=0.01",
    "any(periodic:every=50,plateau:patience=20)",
    "all(periodic:every=3,warmup:epochs=1,then=local-only)",
    "warmup:epochs=1,then=any(periodic:every=4,plateau:patience=3,len=2)",
    "warmup:epochs=2,then=plateau:patience=5",
    "warmup:epochs=1,clock=switch,then=periodic:every=7,len=2",
    "warmup:epochs=2,clock=switch,then=any(periodic:every=5,plateau:patience=3)",
    "lagging",
    "lagging:margin=0.05,min_gap=1,max_gap=6,smooth=0.5",
    "warmup:epochs=1,then=lagging:max_gap=4",
];

#[test]
fn every_builtin_example_passes_the_conformance_kit() {
    let r = registry();
    for spec in EXAMPLE_SPECS {
        check_schedule(&r, spec, 13, 300, 117);
    }
}

#[test]
fn the_registry_knows_every_builtin() {
    assert_eq!(
        registry().names(),
        [
            "all",
            "any",
            "end-to-end",
            "lagging",
            "local-only",
            "periodic",
            "plateau",
            "warmup"
        ]
    );
}

#[test]
fn the_builtin_table_is_what_the_registry_knows() {
    let described = registry().describe();
    assert_eq!(described.len(), BUILTINS.len());
    for entry in BUILTINS {
        assert!(
            described
                .iter()
                .any(|(n, s)| n == entry.name && s == entry.summary),
            "`{}` is in BUILTINS but not registered with its summary",
            entry.name
        );
        assert!(!entry.summary.contains('\n'), "`{}`: one line", entry.name);
    }
}

#[test]
fn canonical_specs_are_explicit() {
    let r = registry();
    let canonical = |s: &str| r.build(s).unwrap().spec();
    assert_eq!(
        canonical("periodic:every=10"),
        "periodic:every=10,len=1,unit=iters"
    );
    assert_eq!(
        canonical("warmup:epochs=1,then=periodic:every=10,len=2"),
        "warmup:epochs=1,then=periodic:every=10,len=2,unit=iters"
    );
    assert_eq!(
        canonical("any( local-only , periodic:every=3 )"),
        "any(local-only,periodic:every=3,len=1,unit=iters)"
    );
    assert_eq!(
        canonical("warmup:then=(periodic:every=4),epochs=3"),
        "warmup:epochs=3,then=periodic:every=4,len=1,unit=iters"
    );
    // The default clock is left out, so specs (and checkpoints) from before `clock` match.
    assert_eq!(
        canonical("warmup:epochs=1,clock=run"),
        "warmup:epochs=1,then=local-only"
    );
    assert_eq!(
        canonical("warmup:then=(periodic:every=4),clock=switch,epochs=3"),
        "warmup:epochs=3,clock=switch,then=periodic:every=4,len=1,unit=iters"
    );
}

#[test]
fn periodic_in_epochs_makes_whole_epochs_global() {
    let mut s = registry()
        .build("periodic:every=2,len=1,unit=epochs")
        .unwrap();
    let kinds = drive(&mut *s, 0, 40, 10);
    assert!(kinds[..10].iter().all(|k| *k == StepKind::Local));
    assert!(kinds[10..20].iter().all(|k| *k == StepKind::Global));
    assert!(kinds[20..30].iter().all(|k| *k == StepKind::Local));
    assert!(kinds[30..40].iter().all(|k| *k == StepKind::Global));
}

#[test]
fn warmup_is_global_for_its_epochs_then_delegates() {
    let mut s = registry()
        .build("warmup:epochs=1,then=periodic:every=10")
        .unwrap();
    let kinds = drive(&mut *s, 0, 100, 50);
    assert_eq!(count_global(&kinds[..50]), 50);
    assert_eq!(count_global(&kinds[50..]), 5);
    assert_eq!(kinds[59], StepKind::Global);
}

/// Issue 11 item 1: `plateau` starts with `best = +inf`, which serde_json used to write as
/// `null` and then refuse to read, so a checkpoint taken before `plateau`'s first step (here:
/// during the warm-up) could not be resumed.
#[test]
fn plateau_state_survives_the_manifest_json() {
    let spec = "warmup:epochs=2,then=plateau:patience=5";
    let r = registry();
    let mut first = r.build(spec).unwrap();
    let mut decisions = drive(&mut *first, 0, 13, 13);
    let text = serde_json::to_string(&first.state()).unwrap();
    let state: ScheduleState = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("the state {text} does not read back: {e}"));
    assert_eq!(state.values["then.best"], f64::INFINITY);
    let mut resumed = r.build(spec).unwrap();
    resumed.restore(&state).unwrap();
    decisions.extend(drive(&mut *resumed, 13, 200, 13));
    assert_eq!(decisions, drive(&mut *r.build(spec).unwrap(), 0, 200, 13));
    // Finite numbers are written as before.
    let finite = ScheduleState::default().with("since_best", 3.0);
    assert_eq!(
        serde_json::to_string(&finite).unwrap(),
        r#"{"values":{"since_best":3.0}}"#
    );
}

#[test]
fn the_conformance_kit_round_trips_state_through_json() {
    // The same property, through the kit every schedule's tests call.
    check_schedule(
        &registry(),
        "warmup:epochs=2,then=plateau:patience=5",
        13,
        60,
        5,
    );
    assert_eq!(
        through_json(&ScheduleState::default().with("x", f64::NEG_INFINITY))
            .unwrap()
            .values["x"],
        f64::NEG_INFINITY
    );
}

/// Issue 11 item 5: which clock `then` reads after the warm-up.
#[test]
fn warmup_clocks_run_and_switch() {
    let r = registry();
    let global_after_warmup = |spec: &str| -> Vec<u64> {
        let kinds = drive(&mut *r.build(spec).unwrap(), 0, 200, 50);
        (100..200)
            .filter(|&i| kinds[i as usize] == StepKind::Global)
            .collect()
    };
    // Warm-up = iterations 0..100. The run's clock: periodic counted from iteration 0.
    assert_eq!(
        global_after_warmup("warmup:epochs=2,then=periodic:every=30"),
        [119, 149, 179]
    );
    assert_eq!(
        global_after_warmup("warmup:epochs=2,clock=run,then=periodic:every=30"),
        [119, 149, 179]
    );
    // The switch's clock: periodic counted from the first step after the warm-up.
    assert_eq!(
        global_after_warmup("warmup:epochs=2,clock=switch,then=periodic:every=30"),
        [129, 159, 189]
    );
    // Epoch units: the switch's clock makes epoch 2 of the run epoch 0 of `then`.
    let epochs = |spec: &str| -> Vec<bool> {
        let kinds = drive(&mut *r.build(spec).unwrap(), 0, 60, 10);
        kinds.chunks(10).map(|c| c[0] == StepKind::Global).collect()
    };
    let then = "then=periodic:every=3,unit=epochs";
    assert_eq!(
        epochs(&format!("warmup:epochs=1,{then}")),
        [true, false, true, false, false, true]
    );
    assert_eq!(
        epochs(&format!("warmup:epochs=1,clock=switch,{then}")),
        [true, false, false, true, false, false]
    );
}

#[test]
fn a_switch_clock_resumes_from_its_state() {
    let r = registry();
    let spec = "warmup:epochs=1,clock=switch,then=periodic:every=6";
    let mut s = r.build(spec).unwrap();
    assert!(s.state().is_empty(), "nothing to save before the switch");
    drive(&mut *s, 0, 15, 10);
    assert_eq!(s.state().values["switch_iteration"], 10.0);
    // A clock=run warm-up refuses a switch clock's state, and a bad value is refused.
    let mut run_clock = r.build("warmup:epochs=1,then=periodic:every=6").unwrap();
    assert!(run_clock.restore(&s.state()).is_err());
    let mut fresh = r.build(spec).unwrap();
    let bad = ScheduleState::default().with("switch_iteration", 2.5);
    assert!(
        fresh
            .restore(&bad)
            .unwrap_err()
            .to_string()
            .contains("switch_iteration")
    );
}

#[test]
fn plateau_fires_after_patience_steps_without_improvement() {
    let mut s = registry().build("plateau:patience=3,len=2").unwrap();
    let mut kinds = Vec::new();
    let losses = [1.0f32, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8];
    for i in 0..losses.len() {
        let history = &losses[..i];
        kinds.push(s.decide(&StepContext::at_iteration(i as u64, 100).with_losses(history)));
    }
    use StepKind::{Global as G, Local as L};
    // Best 0.9 seen at step 2; steps 3,4,5 see no improvement -> steps 5 and 6 global.
    assert_eq!(kinds, [L, L, L, L, L, G, G, L]);
}

#[test]
fn combinators_or_and_and() {
    let r = registry();
    let mut any = r.build("any(periodic:every=2,periodic:every=3)").unwrap();
    let mut all = r.build("all(periodic:every=2,periodic:every=3)").unwrap();
    assert_eq!(count_global(&drive(&mut *any, 0, 12, 100)), 6 + 4 - 2);
    assert_eq!(count_global(&drive(&mut *all, 0, 12, 100)), 2);
}

#[test]
fn a_user_schedule_registers_without_touching_the_builtins() {
    /// Global on the first step of every epoch.
    #[derive(Debug, Clone)]
    struct EpochStart;
    impl GuidanceSchedule for EpochStart {
        fn decide(&mut self, ctx: &StepContext<'_>) -> StepKind {
            if ctx.iteration_in_epoch == 0 {
                StepKind::Global
            } else {
                StepKind::Local
            }
        }
        fn spec(&self) -> String {
            "epoch-start".into()
        }
        fn clone_box(&self) -> Box<dyn GuidanceSchedule> {
            Box::new(self.clone())
        }
    }
    let mut r = registry();
    r.register(
        "epoch-start",
        "global at the start of each epoch",
        |node, _| {
            SpecArgs::new(node, &[])?;
            Ok(Box::new(EpochStart))
        },
    )
    .unwrap();
    check_schedule(&r, "epoch-start", 10, 100, 33);
    check_schedule(&r, "any(epoch-start,periodic:every=7)", 10, 100, 33);
    assert_eq!(
        count_global(&drive(&mut *r.build("epoch-start").unwrap(), 0, 100, 10)),
        10
    );
    // Names cannot be taken twice.
    let again = r.register("periodic", "x", |_, _| Ok(Box::new(EndToEnd)));
    assert!(matches!(again, Err(CoreError::DuplicateSchedule { .. })));
}

fn error_of(spec: &str) -> String {
    registry().build(spec).unwrap_err().to_string()
}

#[test]
fn bad_specs_are_errors_that_quote_the_offending_part() {
    let cases: &[(&str, &[&str])] = &[
        ("", &["empty"]),
        ("sometimes", &["unknown schedule `sometimes`", "periodic"]),
        ("periodic:every=0", &["every=0", ">= 1"]),
        // Checkpointed schedule state is f64: integers past 2^53 could not be restored.
        (
            "plateau:patience=2,len=9007199254740992",
            &["len=9007199254740992", "at most 9007199254740991"],
        ),
        (
            "periodic:every=3,len=4",
            &["len=4", "between 1 and every=3"],
        ),
        ("periodic:every=3,len=0", &["len=0"]),
        ("periodic:every=10,size=2", &["`size`", "every, len, unit"]),
        ("periodic:every=ten", &["every=ten", "integer"]),
        ("periodic:every=-1", &["every=-1"]),
        ("periodic:every=1.5", &["every=1.5"]),
        ("periodic", &["needs parameter `every`"]),
        (
            "periodic:every=2,unit=weeks",
            &["unit=weeks", "iters, epochs"],
        ),
        ("periodic:every=2,every=3", &["given twice"]),
        ("periodic:every", &["`every` is not of the form key=value"]),
        ("periodic:every=2,", &["trailing"]),
        ("periodic:", &["key=value"]),
        ("local-only:x=1", &["`x`", "(none)"]),
        ("warmup:epochs=1,then=bogus", &["unknown schedule `bogus`"]),
        ("warmup:epochs=1,then=periodic:every=0", &["every=0"]),
        ("any()", &["empty schedule"]),
        ("any", &["needs inner schedules"]),
        ("any(local-only", &["unbalanced"]),
        ("any(local-only))", &["unexpected"]),
        ("local-only(end-to-end)", &["takes no inner schedules"]),
        ("plateau:patience=3,min_delta=nan", &["min_delta=nan"]),
        ("periodic every=3", &["unexpected"]),
        ("warmup:epochs=1,clock=wall", &["clock=wall", "run, switch"]),
        // `then=` takes the rest of the list: `clock` after it belongs to the inner spec.
        (
            "warmup:epochs=1,then=periodic:every=3,clock=switch",
            &["`periodic` has no parameter `clock`"],
        ),
    ];
    for (spec, needles) in cases {
        let message = error_of(spec);
        for needle in *needles {
            assert!(
                message.contains(needle),
                "error for `{spec}` should contain `{needle}`, got: {message}"
            );
        }
    }
}

#[test]
fn restoring_a_foreign_state_is_an_error() {
    let r = registry();
    let plateau = r.build("plateau:patience=2").unwrap();
    let mut periodic = r.build("periodic:every=2").unwrap();
    let mut plateau_again = r.build("plateau:patience=2").unwrap();
    assert!(periodic.restore(&plateau.state()).is_err());
    assert!(plateau_again.restore(&Default::default()).is_err());
}

/// Number of global steps in `0..t` of `periodic:every=e,len=l` (closed form).
fn expected_periodic_count(t: u64, e: u64, l: u64) -> u64 {
    (t / e) * l + (t % e).saturating_sub(e - l)
}

proptest! {
    #[test]
    fn periodic_fires_exactly_as_often_as_its_period_says(
        t in 0u64..2000, every in 1u64..60, len_frac in 0.0f64..1.0, per_epoch in 1u64..100,
    ) {
        let len = 1 + ((every - 1) as f64 * len_frac) as u64;
        let mut s = registry().build(&format!("periodic:every={every},len={len}")).unwrap();
        let kinds = drive(&mut *s, 0, t, per_epoch);
        prop_assert_eq!(count_global(&kinds) as u64, expected_periodic_count(t, every, len));
        if len == 1 {
            prop_assert_eq!(count_global(&kinds) as u64, t / every);
        }
    }

    #[test]
    fn periodic_in_epochs_counts_whole_epochs(
        epochs in 1u64..40, every in 1u64..8, per_epoch in 1u64..20,
    ) {
        let mut s = registry().build(&format!("periodic:every={every},unit=epochs")).unwrap();
        let kinds = drive(&mut *s, 0, epochs * per_epoch, per_epoch);
        prop_assert_eq!(count_global(&kinds) as u64, (epochs / every) * per_epoch);
    }

    #[test]
    fn local_only_is_never_and_end_to_end_always_global(t in 0u64..500, per_epoch in 1u64..50) {
        let r = registry();
        prop_assert_eq!(count_global(&drive(&mut *r.build("local-only").unwrap(), 0, t, per_epoch)), 0);
        prop_assert_eq!(count_global(&drive(&mut *r.build("end-to-end").unwrap(), 0, t, per_epoch)) as u64, t);
    }

    #[test]
    fn saving_and_restoring_state_mid_run_reproduces_decisions(
        which in 0usize..EXAMPLE_SPECS.len(), cut in 0u64..400, per_epoch in 1u64..60,
    ) {
        check_schedule(&registry(), EXAMPLE_SPECS[which], per_epoch, 400, cut);
    }

    #[test]
    fn generated_specs_round_trip(
        every in 1u64..100, len_frac in 0.0f64..1.0, epochs_unit in any::<bool>(),
        warmup in proptest::option::of(0u64..5), patience in 1u64..30, combine in 0usize..3,
    ) {
        let len = 1 + ((every - 1) as f64 * len_frac) as u64;
        let unit = if epochs_unit { "epochs" } else { "iters" };
        let mut spec = format!("periodic:every={every},len={len},unit={unit}");
        spec = match combine {
            0 => spec,
            1 => format!("any({spec},plateau:patience={patience})"),
            _ => format!("all(plateau:patience={patience},len=2,{spec})"),
        };
        if let Some(e) = warmup {
            spec = format!("warmup:epochs={e},then={spec}");
        }
        let r = registry();
        let built = r.build(&spec).unwrap();
        prop_assert_eq!(r.build(&built.spec()).unwrap().spec(), built.spec());
        check_schedule(&r, &spec, 17, 200, 61);
    }

    /// With `clock=run`, the steps after the warm-up decide as the inner schedule alone does
    /// at the same run iterations; with `clock=switch`, as the inner schedule alone does from
    /// iteration 0. Both resume exactly from any step.
    #[test]
    fn warmup_clocks_hand_the_inner_schedule_the_right_time(
        warm in 0u64..4, every in 1u64..40, len_frac in 0.0f64..1.0, epochs_unit in any::<bool>(),
        per_epoch in 1u64..30, extra in 0u64..300, cut in 0u64..400,
    ) {
        let len = 1 + ((every - 1) as f64 * len_frac) as u64;
        let unit = if epochs_unit { "epochs" } else { "iters" };
        let inner = format!("periodic:every={every},len={len},unit={unit}");
        let switch = warm * per_epoch;
        let total = switch + extra;
        let r = registry();
        let alone = drive(&mut *r.build(&inner).unwrap(), 0, total, per_epoch);
        let run = drive(
            &mut *r.build(&format!("warmup:epochs={warm},then={inner}")).unwrap(),
            0, total, per_epoch,
        );
        let since = drive(
            &mut *r.build(&format!("warmup:epochs={warm},clock=switch,then={inner}")).unwrap(),
            0, total, per_epoch,
        );
        let s = switch as usize;
        prop_assert!(run[..s].iter().chain(&since[..s]).all(|k| *k == StepKind::Global));
        prop_assert_eq!(&run[s..], &alone[s..]);
        prop_assert_eq!(&since[s..], &alone[..total as usize - s]);
        if !epochs_unit {
            prop_assert_eq!(
                count_global(&since[s..]) as u64,
                expected_periodic_count(extra, every, len)
            );
        }
        for clock in ["run", "switch"] {
            check_schedule(
                &r,
                &format!("warmup:epochs={warm},clock={clock},then={inner}"),
                per_epoch,
                total.min(120),
                cut,
            );
        }
    }

    #[test]
    fn arbitrary_spec_strings_never_panic(spec in "[a-z:=,()0-9.-]{0,40}") {
        let _ = registry().build(&spec);
    }
}

#[test]
fn deeply_nested_specs_are_errors_not_stack_overflows() {
    let r = registry();
    let nested = |depth: usize| format!("{}local-only{}", "any(".repeat(depth), ")".repeat(depth));
    assert!(r.build(&nested(30)).is_ok());
    let e = r.build(&nested(5000)).unwrap_err().to_string();
    assert!(e.contains("nest more than 32"), "{e}");
    let warmups = "warmup:epochs=1,then=".repeat(5000) + "local-only";
    assert!(
        r.build(&warmups)
            .unwrap_err()
            .to_string()
            .contains("nest more than 32")
    );
    // The guard unwinds: a normal spec still builds afterwards on this thread.
    assert!(r.build(&nested(31)).is_ok());
}
