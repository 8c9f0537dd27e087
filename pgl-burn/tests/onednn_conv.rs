//! The oneDNN convolutions (`pgl_burn::kernels::onednn`) agree with pgl's own kernels on
//! the forward pass and both gradients, over strides, paddings, kernel sizes and odd shapes,
//! and repeat their results exactly; they leave small layers, unselected runs and slices of
//! the wrong length to pgl's kernels. One test, run in its own binary: the kernel choice is
//! process-wide.
//!
//! Needs oneDNN 2.6 (`libdnnl2`, which `.ci/run` installs, setting `PGL_REQUIRE_ONEDNN` so that
//! its absence fails); elsewhere, where it cannot be loaded, the test checks that the refusal
//! says why.

use pgl_burn::kernels::conv_cpu::{
    ConvGeometry, conv2d_forward, conv2d_input_grad, conv2d_weight_grad,
};
use pgl_burn::kernels::onednn;

fn values(len: usize, salt: u64) -> Vec<f32> {
    (0..len as u64)
        .map(|i| {
            ((i.wrapping_mul(2_654_435_761).wrapping_add(salt * 97)) % 1000) as f32 / 500.0 - 1.0
        })
        .collect()
}

fn geometry(
    batch: usize,
    c: usize,
    side: [usize; 2],
    o: usize,
    k: usize,
    s: usize,
    p: usize,
) -> ConvGeometry {
    ConvGeometry {
        batch,
        in_channels: c,
        in_size: side,
        out_channels: o,
        kernel: [k, k],
        stride: [s, s],
        padding_begin: [p, p],
        padding_end: [p, p],
        dilation: [1, 1],
    }
}

/// The inputs of `g`'s three computations: x, weight, output gradient.
fn inputs(g: &ConvGeometry) -> [Vec<f32>; 3] {
    [
        values(g.input_len(), 1),
        values(g.weight_len(), 2),
        values(g.output_len(), 3),
    ]
}

/// The three results of `g` by pgl's kernels.
fn pgl(g: &ConvGeometry) -> [Vec<f32>; 3] {
    let [x, w, dy] = inputs(g);
    [
        conv2d_forward(g, &x, &w),
        conv2d_input_grad(g, &dy, &w),
        conv2d_weight_grad(g, &x, &dy),
    ]
}

/// The three results of `g` by oneDNN (`None` where it leaves them to pgl's kernels). Each
/// runs right after a freed buffer of NaNs of its output's size, which the allocator is likely
/// to hand out again: oneDNN's outputs are not zeroed first, so a value it failed to write
/// would show (e.g. input-gradient positions no stride-2 window reaches).
fn onednn_results(g: &ConvGeometry) -> [Option<Vec<f32>>; 3] {
    let [x, w, dy] = inputs(g);
    let litter = |len: usize| drop(std::hint::black_box(vec![f32::NAN; len]));
    litter(g.output_len());
    let forward = onednn::forward(g, &x, &w);
    litter(g.input_len());
    let input_grad = onednn::input_grad(g, &dy, &w);
    litter(g.weight_len());
    [forward, input_grad, onednn::weight_grad(g, &x, &dy)]
}

fn assert_close(ours: &[f32], theirs: &[f32], what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    let scale = ours.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!(
            (a - b).abs() <= 1e-4 * scale,
            "{what}[{i}]: pgl {a}, oneDNN {b} (scale {scale})"
        );
    }
}

#[test]
fn onednn_convolutions_agree_with_pgls_kernels_and_leave_small_layers_to_them() {
    if let Err(why) = onednn::available() {
        assert!(
            std::env::var_os("PGL_REQUIRE_ONEDNN").is_none(),
            "PGL_REQUIRE_ONEDNN is set (CI) but oneDNN cannot be loaded: {why}"
        );
        assert!(why.contains("libdnnl"), "{why}");
        assert!(onednn::select("onednn").is_err());
        eprintln!("oneDNN not available here ({why}); only its refusal was checked");
        return;
    }
    assert!(onednn::select("mkl").unwrap_err().contains("pgl, onednn"));
    let cases = [
        geometry(4, 16, [8, 8], 32, 3, 1, 1),
        geometry(3, 16, [9, 7], 8, 3, 2, 1),
        geometry(2, 32, [5, 5], 16, 1, 1, 0),
        geometry(2, 8, [6, 6], 8, 3, 1, 0),
        geometry(5, 4, [7, 7], 4, 5, 2, 2),
        // A ResNet option-b shortcut: 1×1, stride 2 (half the input gets no gradient).
        geometry(3, 16, [8, 8], 32, 1, 2, 0),
    ];
    onednn::select("pgl").unwrap();
    assert_eq!(
        onednn_results(&cases[0]),
        [None, None, None],
        "not selected: pgl's kernels"
    );
    onednn::select("onednn").unwrap();
    for g in &cases {
        let before = onednn::calls();
        let theirs = onednn_results(g).map(|r| r.expect("oneDNN runs this shape"));
        assert_eq!(onednn::calls() - before, 3);
        let ours = pgl(g);
        for ((a, b), what) in ours
            .iter()
            .zip(&theirs)
            .zip(["forward", "input grad", "weight grad"])
        {
            assert_close(a, b, &format!("{what} of {g:?}"));
        }
        let again = onednn_results(g).map(Option::unwrap);
        assert_eq!(again, theirs, "oneDNN repeats its results exactly");
    }
    // Fewer input channels than MIN_IN_CHANNELS: left to pgl's kernels.
    let small = geometry(4, onednn::MIN_IN_CHANNELS - 1, [8, 8], 16, 3, 1, 1);
    assert_eq!(onednn_results(&small), [None, None, None]);
    // Slices that do not hold the geometry's tensors are never handed to oneDNN (it would read
    // past them): pgl's kernels take them, and assert the lengths.
    let g = &cases[0];
    let [x, w, dy] = inputs(g);
    assert!(onednn::forward(g, &x[1..], &w).is_none());
    assert!(onednn::input_grad(g, &dy, &w[1..]).is_none());
    assert!(onednn::weight_grad(g, &x, &dy[1..]).is_none());
    onednn::select("pgl").unwrap();
}
