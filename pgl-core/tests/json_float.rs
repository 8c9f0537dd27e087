//! Non-finite floats in the JSON pgl writes (metrics, checkpoint manifests) read back exactly;
//! finite ones are written as plain numbers, as before.

use pgl_core::EpochMetrics;
use pgl_core::json_float::{JsonF32, JsonF64};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

fn metrics(loss: f64) -> EpochMetrics {
    EpochMetrics {
        epoch: 3,
        steps_local: 10,
        steps_global: 2,
        train_loss: loss,
        module_train_loss: vec![Some(loss), None, Some(f64::NEG_INFINITY), Some(0.25)],
        test_loss: loss,
        test_accuracy: 0.5,
        module_accuracy: vec![0.1, f64::NAN, 0.5],
        train_seconds: 0.0,
        data_wait_seconds: 0.0,
        peak_memory_bytes_local: Some(7),
        peak_memory_bytes_global: None,
        eval_seconds: 1.5,
        images_per_second: f64::INFINITY,
    }
}

/// Equal, with any NaN equal to any NaN.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Issue 11 item 1: a NaN loss was written as `null` and the line could not be read back.
#[test]
fn epoch_metrics_with_a_nan_loss_read_back() {
    let m = metrics(f64::NAN);
    let text = serde_json::to_string(&m).unwrap();
    assert!(text.contains(r#""train_loss":"NaN""#), "{text}");
    assert!(text.contains(r#""images_per_second":"inf""#), "{text}");
    let back: EpochMetrics =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text} does not read back: {e}"));
    assert!(back.train_loss.is_nan() && back.test_loss.is_nan());
    assert!(back.module_train_loss[0].unwrap().is_nan());
    assert_eq!(back.module_train_loss[1], None);
    assert_eq!(back.module_train_loss[2], Some(f64::NEG_INFINITY));
    assert!(back.module_accuracy[1].is_nan());
    assert_eq!(back.images_per_second, f64::INFINITY);
    // Everything else is unchanged.
    let finite = metrics(0.75);
    let again: EpochMetrics =
        serde_json::from_str(&serde_json::to_string(&finite).unwrap()).unwrap();
    assert_eq!(again.module_train_loss[..2], finite.module_train_loss[..2]);
    assert_eq!(again.epoch, 3);
    assert_eq!(again.eval_seconds, 1.5);
}

#[test]
fn finite_metrics_are_written_and_read_as_before() {
    // A metrics.jsonl line as written before non-finite values had an encoding.
    let old = r#"{"epoch":1,"steps_local":9,"steps_global":1,"train_loss":0.6931471805599453,"module_train_loss":[0.7,null,0.6931471805599453],"test_loss":0.5,"test_accuracy":0.875,"module_accuracy":[0.5,0.625,0.875],"train_seconds":1.25,"data_wait_seconds":0.0,"peak_memory_bytes_local":123,"peak_memory_bytes_global":null,"eval_seconds":0.5,"images_per_second":1000.0}"#;
    let m: EpochMetrics = serde_json::from_str(old).unwrap();
    assert_eq!(m.train_loss, std::f64::consts::LN_2);
    assert_eq!(
        m.module_train_loss,
        [Some(0.7), None, Some(std::f64::consts::LN_2)]
    );
    assert_eq!(serde_json::to_string(&m).unwrap(), old);
    // Integers written by hand read as numbers too.
    let hand = old.replace(r#""test_loss":0.5"#, r#""test_loss":2"#);
    assert_eq!(
        serde_json::from_str::<EpochMetrics>(&hand)
            .unwrap()
            .test_loss,
        2.0
    );
}

#[test]
fn only_non_finite_values_may_be_strings() {
    for bad in [r#""1.5""#, r#""""#, r#""loss""#, "null", "true", "[1]"] {
        let e = serde_json::from_str::<JsonF64>(bad)
            .unwrap_err()
            .to_string();
        assert!(e.contains("NaN"), "`{bad}`: {e}");
    }
    for (text, value) in [
        (r#""NaN""#, f64::NAN),
        (r#""nan""#, f64::NAN),
        (r#""inf""#, f64::INFINITY),
        (r#""+inf""#, f64::INFINITY),
        (r#""Infinity""#, f64::INFINITY),
        (r#""-inf""#, f64::NEG_INFINITY),
        ("-0.0", -0.0),
        ("3", 3.0),
        ("-3", -3.0),
    ] {
        let read = serde_json::from_str::<JsonF64>(text).unwrap().0;
        assert!(same(read, value), "`{text}` read as {read}");
    }
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Every {
    #[serde(with = "pgl_core::json_float")]
    a: f64,
    #[serde(with = "pgl_core::json_float::f32")]
    b: f32,
    #[serde(default, with = "pgl_core::json_float::option")]
    c: Option<f64>,
    #[serde(default, with = "pgl_core::json_float::option_f32")]
    d: Option<f32>,
    #[serde(with = "pgl_core::json_float::vec")]
    e: Vec<f64>,
    #[serde(with = "pgl_core::json_float::vec_f32")]
    f: Vec<f32>,
    #[serde(with = "pgl_core::json_float::vec_option")]
    g: Vec<Option<f64>>,
}

fn special_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(f64::MIN_POSITIVE),
        Just(f64::MAX),
        any::<f64>(),
    ]
}

fn special_f32() -> impl Strategy<Value = f32> {
    prop_oneof![
        Just(f32::NAN),
        Just(f32::INFINITY),
        Just(f32::NEG_INFINITY),
        Just(f32::MIN_POSITIVE),
        any::<f32>(),
    ]
}

proptest! {
    #[test]
    fn every_helper_round_trips_every_value(
        a in special_f64(), b in special_f32(), c in proptest::option::of(special_f64()),
        d in proptest::option::of(special_f32()), e in proptest::collection::vec(special_f64(), 0..4),
        f in proptest::collection::vec(special_f32(), 0..4),
        g in proptest::collection::vec(proptest::option::of(special_f64()), 0..4),
    ) {
        let value = Every { a, b, c, d, e: e.clone(), f: f.clone(), g: g.clone() };
        let text = serde_json::to_string(&value).unwrap();
        let back: Every = serde_json::from_str(&text).unwrap();
        prop_assert!(same(back.a, a), "{}", text);
        prop_assert!(same(f64::from(back.b), f64::from(b)), "{}", text);
        prop_assert_eq!(back.c.is_some(), c.is_some());
        prop_assert!(back.c.zip(c).is_none_or(|(x, y)| same(x, y)));
        prop_assert!(back.d.zip(d).is_none_or(|(x, y)| same(f64::from(x), f64::from(y))));
        prop_assert!(back.e.iter().zip(&e).all(|(x, y)| same(*x, *y)) && back.e.len() == e.len());
        prop_assert!(back.f.len() == f.len() && back.f.iter().zip(&f).all(|(x, y)| same(f64::from(*x), f64::from(*y))));
        let same_entry = |x: &Option<f64>, y: &Option<f64>| match (x, y) {
            (Some(x), Some(y)) => same(*x, *y),
            (None, None) => true,
            _ => false,
        };
        prop_assert!(back.g.len() == g.len() && back.g.iter().zip(&g).all(|(x, y)| same_entry(x, y)));
        // Finite values are written exactly as serde writes plain floats.
        if a.is_finite() {
            prop_assert_eq!(serde_json::to_string(&JsonF64(a)).unwrap(), serde_json::to_string(&a).unwrap());
        }
        if b.is_finite() {
            prop_assert_eq!(serde_json::to_string(&JsonF32(b)).unwrap(), serde_json::to_string(&b).unwrap());
            prop_assert_eq!(serde_json::from_str::<JsonF32>(&serde_json::to_string(&b).unwrap()).unwrap().0.to_bits(), b.to_bits());
        }
    }
}
