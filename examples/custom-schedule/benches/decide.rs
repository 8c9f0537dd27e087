//! `decide` of the `growing` schedule: `cargo bench -p pgl-example-custom-schedule`.

use criterion::{Criterion, criterion_group, criterion_main};
use pgl_core::{GuidanceSchedule, StepContext};
use pgl_example_custom_schedule::Growing;

fn decide(c: &mut Criterion) {
    let mut schedule = Growing::new(4).unwrap();
    let mut iteration = 0u64;
    c.bench_function("growing decide", |b| {
        b.iter(|| {
            iteration = iteration.wrapping_add(1);
            schedule.decide(std::hint::black_box(&StepContext::at_iteration(
                iteration, 469,
            )))
        })
    });
}

criterion_group!(benches, decide);
criterion_main!(benches);
