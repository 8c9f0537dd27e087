//! Adding a backend from outside pgl-burn: one `BackendEntry` plus one `register` line, and the
//! registry parses it, lists it and makes its device like a built-in's.

use pgl_burn::TrainError;
use pgl_burn::backend::{BackendEntry, BackendKind, BackendRegistry};
use pgl_burn::burn::prelude::*;

/// A second name for the CPU backend, as a crate adding its own backend would write it.
const ALIAS: BackendEntry = BackendEntry {
    name: "cpu-alias",
    summary: "the flex CPU backend under another name (test)",
    cargo_feature: None,
    compiled: true,
    device_indices: false,
    host_memory_is_step_memory: true,
    make_device: |_| Device::flex(),
};

/// A backend whose cargo feature this build lacks.
const MISSING: BackendEntry = BackendEntry {
    name: "npu",
    summary: "a backend this build does not have (test)",
    cargo_feature: Some("npu"),
    compiled: false,
    device_indices: true,
    host_memory_is_step_memory: false,
    make_device: |_| unreachable!("never made: not compiled in"),
};

#[test]
fn a_backend_registered_from_outside_is_parsed_listed_and_trains() {
    let mut registry = BackendRegistry::with_builtins();
    registry.register(&ALIAS).unwrap();
    registry.register(&MISSING).unwrap();
    assert_eq!(registry.names(), "cpu, wgpu, cuda, cpu-alias, npu");
    let alias = registry.parse("cpu-alias").unwrap();
    assert_eq!(alias, BackendKind::of(&ALIAS));
    let device = alias.training_device(None, false).unwrap();
    let x = Tensor::<1>::from_floats([1.0, 2.0, 3.0], &device).require_grad();
    let grads = (x.clone() * x.clone()).sum().backward();
    let grad: Vec<f32> = x.grad(&grads).unwrap().into_data().iter::<f32>().collect();
    assert_eq!(grad, vec![2.0, 4.0, 6.0]);
    match registry.parse("npu").unwrap().device(None) {
        Err(TrainError::BackendNotCompiled { backend, feature }) => {
            assert_eq!((backend.as_str(), feature.as_str()), ("npu", "npu"))
        }
        other => panic!("expected a missing-feature error, got {other:?}"),
    }
    assert!(matches!(
        registry.register(&ALIAS),
        Err(TrainError::DuplicateBackend { .. })
    ));
    let e = registry.parse("tpu").unwrap_err().to_string();
    assert!(e.contains("cpu-alias") && e.contains("npu"), "{e}");
}
