//! Schedule behaviour: conformance kit on every built-in, exact counts, spec errors.

use pgl_core::schedule::conformance::{check_schedule, count_global, drive};
use pgl_core::schedule::{EndToEnd, GuidanceSchedule, SpecArgs};
use pgl_core::{CoreError, ScheduleRegistry, StepContext, StepKind};
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
            "local-only",
            "periodic",
            "plateau",
            "warmup"
        ]
    );
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
