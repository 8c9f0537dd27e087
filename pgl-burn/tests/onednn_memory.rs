//! The memory of oneDNN's reordered copies is pgl's allocator's, so a step's peak memory
//! (`pgl_burn::memory::CountingAllocator`) counts it: a convolution whose operands oneDNN
//! wants in its blocked layout shows a transient peak of those copies. One test in its own
//! binary: the counting allocator sees the whole process. Needs oneDNN 2.6 (see
//! `onednn_conv.rs`) and an x86-64 CPU with AVX2 (where oneDNN's kernels want blocked
//! layouts); elsewhere it checks nothing beyond the library's absence.

use pgl_burn::kernels::conv_cpu::ConvGeometry;
use pgl_burn::kernels::onednn;
use pgl_burn::memory::{CountingAllocator, MemoryProbe};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::new();

#[test]
fn reordered_copies_are_counted_by_pgls_allocator() {
    if let Err(why) = onednn::select("onednn") {
        assert!(
            std::env::var_os("PGL_REQUIRE_ONEDNN").is_none(),
            "PGL_REQUIRE_ONEDNN is set (CI) but oneDNN cannot be loaded: {why}"
        );
        eprintln!("oneDNN not available here ({why}); nothing to measure");
        return;
    }
    // oneDNN's blocked layouts (and so the reordered copies) are those of its x86-64 JIT
    // kernels; elsewhere it may keep the plain layout and copy nothing.
    #[cfg(target_arch = "x86_64")]
    let blocked = std::arch::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    let blocked = false;
    if !blocked {
        eprintln!("no AVX2 here: oneDNN may keep the plain layout; nothing to measure");
        return;
    }
    // ResNet-32's first stage at batch 8: 16 channels of 32×32, whose blocked layout
    // (16 channels per block) holds as many values as the plain one.
    let g = ConvGeometry {
        batch: 8,
        in_channels: 16,
        in_size: [32, 32],
        out_channels: 16,
        kernel: [3, 3],
        stride: [1, 1],
        padding_begin: [1, 1],
        padding_end: [1, 1],
        dilation: [1, 1],
    };
    let x = vec![0.5f32; g.input_len()];
    let weight = vec![0.25f32; g.weight_len()];
    let calls = onednn::calls();
    // The first call builds and caches the primitive; the second one is a step's call.
    let first = onednn::forward(&g, &x, &weight).expect("oneDNN runs this layer");
    ALLOC.begin();
    let output = onednn::forward(&g, &x, &weight).expect("oneDNN runs this layer");
    let peak = ALLOC.peak();
    assert_eq!(onednn::calls(), calls + 2);
    assert_eq!(output, first);
    // The blocked copies of the input and of the output, beyond the output itself.
    let copies = 4 * (g.input_len() + g.output_len()) as u64;
    assert!(
        peak >= copies,
        "peak {peak} B, expected the {copies} B of the two reordered copies"
    );
    assert!(peak < 2 * copies, "peak {peak} B for {copies} B of copies");
}
