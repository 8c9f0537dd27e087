//! Learning-rate schedule specs: parsing never panics or overflows the stack; a spec that
//! builds passes the conformance kit (finite factors >= 0 everywhere, deterministic and pure,
//! a canonical spec that rebuilds it, state that survives JSON and resumes exactly), on a
//! run shape taken from the first two bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgl_core::LrScheduleRegistry;
use pgl_core::lr::conformance::check_lr_schedule;

fuzz_target!(|data: &[u8]| {
    let [per_epoch, epochs, spec @ ..] = data else {
        return;
    };
    let Ok(spec) = std::str::from_utf8(spec) else {
        return;
    };
    let registry = LrScheduleRegistry::with_builtins();
    if registry.build(spec).is_ok() {
        let per_epoch = u64::from(per_epoch % 8) + 1;
        let epochs = u64::from(epochs % 6);
        check_lr_schedule(&registry, spec, per_epoch, epochs, per_epoch + 1);
    }
});
