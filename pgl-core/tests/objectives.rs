//! Local objectives: the conformance kit on every built-in and on an objective registered from
//! outside the crate, property tests of spec round trips and of InfoPro's weights, and the
//! config field.

use pgl_core::ObjectiveConfig;
use pgl_core::objective::conformance::{check_objective, term_table};
use pgl_core::objective::infopro::preset;
use pgl_core::objective::{
    CrossEntropyTerm, LocalObjective, ModuleTerms, ObjectiveEntry, ObjectiveRegistry,
    Reconstruction, ReconstructionTerm, TermDescription, check_modules,
};
use pgl_core::schedule::SpecArgs;
use pgl_core::{CoreError, RunConfig};
use proptest::prelude::*;

fn registry() -> ObjectiveRegistry {
    ObjectiveRegistry::with_builtins()
}

#[test]
fn every_builtin_passes_the_conformance_kit() {
    let r = registry();
    for spec in [
        "ce",
        "infopro",
        "infopro:class=supcon",
        "infopro:ixx_1=1,ixy_2=0.5",
        "supcon",
        "supcon:temperature=0.07",
        "supcon:temperature=0.2,dim=32",
    ] {
        check_objective(&r, spec, 24);
    }
}

/// An objective defined here, outside pgl-core: reconstruction at every aux module, with a
/// classification weight that halves with depth.
#[derive(Debug, Clone)]
struct Halving {
    first: f64,
}

impl LocalObjective for Halving {
    fn spec(&self) -> String {
        format!("halving:first={}", self.first)
    }
    fn terms(&self, module: usize, modules: usize) -> ModuleTerms {
        if module + 1 == modules {
            return ModuleTerms::ce();
        }
        let reconstruction = ReconstructionTerm {
            kind: Reconstruction::Mse,
        };
        ModuleTerms::new().with(reconstruction.spec(), 1.0).with(
            CrossEntropyTerm.spec(),
            self.first / 2f64.powi(module as i32),
        )
    }
    fn clone_box(&self) -> Box<dyn LocalObjective> {
        Box::new(self.clone())
    }
}

const HALVING: ObjectiveEntry = ObjectiveEntry {
    name: "halving",
    summary: "[first=F]: reconstruction plus a classification weight halving with depth",
    build: |node, _| {
        let args = SpecArgs::new(node, &["first"])?;
        let first = args.non_negative_f64("first", 1.0)?;
        Ok(Box::new(Halving { first }))
    },
};

#[test]
fn an_objective_registered_from_outside_passes_the_kit_and_lists() {
    let mut r = registry();
    r.register_entry(HALVING).unwrap();
    check_objective(&r, "halving:first=4", 12);
    assert_eq!(r.names(), ["ce", "halving", "infopro", "supcon"]);
    assert!(matches!(
        r.register_entry(HALVING),
        Err(CoreError::DuplicateSchedule { .. })
    ));
}

#[test]
fn a_last_module_without_cross_entropy_is_refused() {
    #[derive(Debug, Clone)]
    struct Wrong;
    impl LocalObjective for Wrong {
        fn spec(&self) -> String {
            "wrong".into()
        }
        fn terms(&self, _: usize, _: usize) -> ModuleTerms {
            ModuleTerms::new().with(CrossEntropyTerm.spec(), 2.0)
        }
        fn clone_box(&self) -> Box<dyn LocalObjective> {
            Box::new(Wrong)
        }
    }
    let err = check_modules(&Wrong, 3).unwrap_err();
    assert!(
        err.to_string()
            .contains("cross-entropy alone for the last module"),
        "{err}"
    );
}

#[test]
fn an_aux_module_without_a_term_or_with_a_negative_weight_is_refused() {
    #[derive(Debug, Clone)]
    struct Weighted(f64);
    impl LocalObjective for Weighted {
        fn spec(&self) -> String {
            format!("weighted:{}", self.0)
        }
        fn terms(&self, module: usize, modules: usize) -> ModuleTerms {
            if module + 1 == modules {
                ModuleTerms::ce()
            } else {
                ModuleTerms::new().with(CrossEntropyTerm.spec(), self.0)
            }
        }
        fn clone_box(&self) -> Box<dyn LocalObjective> {
            Box::new(self.clone())
        }
    }
    for weight in [0.0, -1.0, f64::INFINITY] {
        let err = check_modules(&Weighted(weight), 2).unwrap_err();
        assert!(err.to_string().contains("module 1 of K=2"), "{err}");
        assert!(check_modules(&Weighted(weight), 1).is_ok());
    }
    assert!(check_modules(&Weighted(0.5), 3).is_ok());
}

/// The spec of every term of the second module of K = 4, in order.
fn term_names(objective: &dyn LocalObjective) -> Vec<String> {
    let terms = objective.terms(1, 4);
    terms.terms().iter().map(|t| t.term.to_string()).collect()
}

#[test]
fn old_config_files_read_as_ce_and_new_ones_default_to_supcon() {
    let config: RunConfig = serde_json::from_str(r#"{"dataset": "digits"}"#).unwrap();
    assert_eq!(config.objective.local_objective, "ce");
    let default = RunConfig::default().objective.local_objective;
    assert_eq!(default, "supcon:temperature=0.07,dim=128,proj=auto");
    assert!(pgl_core::objective::is_default_objective(&default));
    assert!(pgl_core::objective::is_default_objective("supcon"));
    assert!(!pgl_core::objective::is_default_objective("ce"));
    assert!(!pgl_core::objective::is_default_objective(
        "supcon:temperature=0.5"
    ));
    let back: RunConfig =
        serde_json::from_str(&serde_json::to_string(&RunConfig::default()).unwrap()).unwrap();
    assert_eq!(back, RunConfig::default());
}

/// A run's record written before issue 22 (InfoPro's spec without `recon` and `proj`) keeps
/// its meaning: MSE reconstruction, MLP projection. Records written now name both, and a
/// RunConfig written and read back is unchanged.
#[test]
fn run_records_keep_the_objective_they_were_written_with() {
    let old = r#"{"dataset": "cifar10", "local_objective": "infopro:ixx_1=5,class=supcon,temperature=0.07"}"#;
    let config: RunConfig = serde_json::from_str(old).unwrap();
    let objective = registry().build(&config.objective.local_objective).unwrap();
    assert_eq!(
        term_names(&*objective),
        [
            "reconstruction:recon=mse",
            "supcon:temperature=0.07,dim=128,proj=mlp"
        ]
    );
    let supcon: RunConfig = serde_json::from_str(r#"{"local_objective": "supcon"}"#).unwrap();
    let objective = registry().build(&supcon.objective.local_objective).unwrap();
    assert_eq!(
        term_names(&*objective),
        ["supcon:temperature=0.07,dim=128,proj=mlp"]
    );
    // Written now: the canonical spec, today's defaults named, read back as they are.
    let config = RunConfig {
        objective: ObjectiveConfig {
            local_objective: "infopro:class=supcon".to_string(),
        },
        ..RunConfig::default()
    };
    let text = serde_json::to_string(&config).unwrap();
    assert!(
        text.contains("infopro:class=supcon,temperature=0.07,proj=auto,recon=bce"),
        "{text}"
    );
    let back: RunConfig = serde_json::from_str(&text).unwrap();
    let objective = registry().build(&back.objective.local_objective).unwrap();
    assert_eq!(
        term_names(&*objective),
        [
            "reconstruction:recon=bce",
            "supcon:temperature=0.07,dim=128,proj=auto"
        ]
    );
    assert_eq!(serde_json::to_string(&back).unwrap(), text);
}

fn weight() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        Just(None),
        (0u32..400).prop_map(|v| Some(f64::from(v) / 40.0))
    ]
}

/// An `infopro` spec with any subset of its parameters, in any order.
fn infopro_spec() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(weight(), 4),
        any::<bool>(),
        prop_oneof![
            Just(None),
            (1u32..200).prop_map(|t| Some(f64::from(t) / 100.0))
        ],
        any::<bool>(),
    )
        .prop_map(|(weights, supcon, temperature, reverse)| {
            let mse = temperature.is_some_and(|t| t < 0.5);
            let keys = ["ixx_1", "ixy_1", "ixx_2", "ixy_2"];
            let mut params: Vec<String> = keys
                .iter()
                .zip(&weights)
                .filter_map(|(k, w)| w.map(|w| format!("{k}={w}")))
                .collect();
            if supcon {
                params.push("class=supcon".into());
                if let Some(t) = temperature {
                    params.push(format!("temperature={t}"));
                    params.push(format!("proj={}", if mse { "mlp" } else { "aux" }));
                }
            }
            if mse {
                params.push("recon=mse".into());
            }
            if reverse {
                params.reverse();
            }
            if params.is_empty() {
                "infopro".to_string()
            } else {
                format!("infopro:{}", params.join(","))
            }
        })
}

proptest! {
    #[test]
    fn infopro_specs_round_trip(spec in infopro_spec()) {
        let r = registry();
        let objective = r.build(&spec).unwrap();
        let rebuilt = r.build(&objective.spec()).unwrap();
        prop_assert_eq!(rebuilt.spec(), objective.spec());
        prop_assert_eq!(term_table(&*rebuilt, 20), term_table(&*objective, 20));
    }

    #[test]
    fn supcon_specs_round_trip(t in 1u32..100_000, dim in 1usize..4096) {
        let r = registry();
        let spec = format!("supcon:dim={dim},temperature={}", f64::from(t) / 1000.0);
        let objective = r.build(&spec).unwrap();
        prop_assert_eq!(r.build(&objective.spec()).unwrap().spec(), objective.spec());
        let expected = format!("supcon:temperature={},dim={dim},proj=auto", f64::from(t) / 1000.0);
        prop_assert_eq!(term_names(&*objective), [expected]);
    }

    /// InfoPro's weights: each aux module's are between the two endpoints (a linear path from
    /// the first aux module's to module K − 1's), the endpoints are met exactly, the last
    /// module learns from cross-entropy alone, and the class term is the one asked for.
    #[test]
    fn infopro_weights_move_linearly_between_the_endpoints(
        spec in infopro_spec(),
        modules in 1usize..40,
    ) {
        let objective = registry().build(&spec).unwrap();
        let supcon = spec.contains("class=supcon");
        let given = |key: &str, i: usize| {
            spec.split([':', ','])
                .find_map(|p| p.strip_prefix(&format!("{key}=")).map(|v| v.parse::<f64>().unwrap()))
                .unwrap_or(preset(modules)[i])
        };
        let (a, b, c, d) = (given("ixx_1", 0), given("ixy_1", 1), given("ixx_2", 2), given("ixy_2", 3));
        let (class_term, other) = if supcon { ("supcon", "ce") } else { ("ce", "supcon") };
        let w = |k: usize| {
            let terms = objective.terms(k, modules);
            (terms.weight_of("reconstruction"), terms.weight_of(class_term), terms.weight_of(other))
        };
        for k in 0..modules.saturating_sub(1) {
            let (rec, class, unused) = w(k);
            prop_assert!(rec >= a.min(c) - 1e-12 && rec <= a.max(c) + 1e-12);
            prop_assert!(class >= b.min(d) - 1e-12 && class <= b.max(d) + 1e-12);
            prop_assert_eq!(unused, 0.0);
        }
        if modules >= 2 {
            let (rec, class, _) = w(0);
            prop_assert_eq!((rec, class), (a, b));
        }
        if modules >= 3 {
            let (rec, class, _) = w(modules - 2);
            prop_assert!((rec - c).abs() < 1e-12);
            prop_assert!((class - d).abs() < 1e-12);
        }
        prop_assert_eq!(objective.terms(modules - 1, modules), ModuleTerms::ce());
    }

    /// With InfoPro's own values for K, every network passes `check_modules`: no aux module is
    /// left without a loss.
    #[test]
    fn infopro_presets_train_every_module(modules in 1usize..64) {
        let objective = registry().build("infopro").unwrap();
        prop_assert!(check_modules(&*objective, modules).is_ok());
        let contrastive = registry().build("infopro:class=supcon").unwrap();
        prop_assert!(check_modules(&*contrastive, modules).is_ok());
    }
}
