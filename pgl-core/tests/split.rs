//! Split plans: validation and coverage.

use pgl_core::{CoreError, SplitPlan};
use proptest::prelude::*;

fn assert_covers_every_layer_once_in_order(plan: &SplitPlan) {
    let modules = plan.modules();
    assert_eq!(modules.len(), plan.num_modules());
    let mut next = 0;
    for (k, range) in modules.iter().enumerate() {
        assert_eq!(
            range.start,
            next,
            "module {k} does not start where {} ended",
            k.max(1) - 1
        );
        assert!(range.end > range.start, "module {k} is empty");
        for layer in range.clone() {
            assert_eq!(plan.module_of(layer), k);
        }
        next = range.end;
    }
    assert_eq!(next, plan.layers());
}

#[test]
fn even_splits_balance_sizes() {
    let plan = SplitPlan::even(16, 16).unwrap();
    assert!(plan.modules().iter().all(|r| r.len() == 1));
    let plan = SplitPlan::even(7, 3).unwrap();
    assert_eq!(plan.modules(), vec![0..3, 3..5, 5..7]);
    assert_eq!(SplitPlan::even(5, 1).unwrap().modules(), vec![0..5]);
}

#[test]
fn invalid_splits_are_errors() {
    assert!(matches!(
        SplitPlan::even(4, 0),
        Err(CoreError::InvalidSplit { .. })
    ));
    let e = SplitPlan::even(3, 4).unwrap_err().to_string();
    assert!(e.contains("at most 3"), "{e}");
    assert!(SplitPlan::from_points(5, &[2, 2]).is_err());
    assert!(SplitPlan::from_points(5, &[3, 2]).is_err());
    assert!(SplitPlan::from_points(5, &[0]).is_err());
    let e = SplitPlan::from_points(5, &[5]).unwrap_err().to_string();
    assert!(e.contains("empty last module"), "{e}");
    assert!(SplitPlan::from_points(0, &[]).is_err());
    assert_eq!(
        SplitPlan::from_points(5, &[1, 4]).unwrap().modules(),
        vec![0..1, 1..4, 4..5]
    );
}

proptest! {
    #[test]
    fn every_layer_lands_in_exactly_one_module_in_order(layers in 1usize..200, k_frac in 0.0f64..1.0) {
        let k = 1 + ((layers - 1) as f64 * k_frac) as usize;
        let plan = SplitPlan::even(layers, k).unwrap();
        prop_assert_eq!(plan.num_modules(), k);
        let sizes: Vec<usize> = plan.modules().iter().map(|r| r.len()).collect();
        prop_assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
        assert_covers_every_layer_once_in_order(&plan);
    }

    #[test]
    fn explicit_points_cover_every_layer(layers in 1usize..100, raw in proptest::collection::vec(1usize..100, 0..20)) {
        match SplitPlan::from_points(layers, &raw) {
            Ok(plan) => {
                prop_assert!(raw.windows(2).all(|w| w[0] < w[1]));
                prop_assert!(raw.iter().all(|&p| p < layers));
                assert_covers_every_layer_once_in_order(&plan);
            }
            Err(_) => prop_assert!(
                !raw.windows(2).all(|w| w[0] < w[1]) || raw.iter().any(|&p| p >= layers)
            ),
        }
    }
}
