//! The slice kernels against the definition of convolution and its adjoints.
use super::*;

fn geometry(batch: usize, c: usize, hw: [usize; 2], co: usize, k: [usize; 2]) -> ConvGeometry {
    ConvGeometry {
        batch,
        in_channels: c,
        in_size: hw,
        out_channels: co,
        kernel: k,
        stride: [1, 1],
        padding_begin: [0, 0],
        padding_end: [0, 0],
        dilation: [1, 1],
    }
}

/// The definition, one multiply-add at a time.
fn naive_forward(g: &ConvGeometry, x: &[f32], w: &[f32]) -> Vec<f32> {
    let [oh, ow] = g.out_size().unwrap();
    let [h, wd] = g.in_size;
    let mut out = vec![0.0; g.output_len()];
    for n in 0..g.batch {
        for co in 0..g.out_channels {
            for y in 0..oh {
                for xo in 0..ow {
                    let mut acc = 0.0f64;
                    for c in 0..g.in_channels {
                        for ky in 0..g.kernel[0] {
                            for kx in 0..g.kernel[1] {
                                let iy = (y * g.stride[0] + ky * g.dilation[0]) as isize
                                    - g.padding_begin[0] as isize;
                                let ix = (xo * g.stride[1] + kx * g.dilation[1]) as isize
                                    - g.padding_begin[1] as isize;
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                    continue;
                                }
                                let xv = x[((n * g.in_channels + c) * h + iy as usize) * wd
                                    + ix as usize];
                                let wv = w[((co * g.in_channels + c) * g.kernel[0] + ky)
                                    * g.kernel[1]
                                    + kx];
                                acc += xv as f64 * wv as f64;
                            }
                        }
                    }
                    out[((n * g.out_channels + co) * oh + y) * ow + xo] = acc as f32;
                }
            }
        }
    }
    out
}

fn ramp(len: usize, scale: f32) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 7919 % 23) as f32 - 11.0) * scale)
        .collect()
}

#[test]
fn forward_matches_the_definition_with_padding_stride_and_dilation() {
    let mut uneven = geometry(3, 2, [7, 6], 4, [3, 2]);
    uneven.stride = [2, 1];
    uneven.padding_begin = [1, 2];
    uneven.padding_end = [2, 0];
    uneven.dilation = [1, 2];
    // A kernel wider than the input, fitting only thanks to the padding: some kernel
    // columns read nothing but padding (found by the proptest against Burn).
    let mut wide_kernel = geometry(1, 1, [2, 1], 1, [1, 3]);
    wide_kernel.padding_begin = [0, 2];
    let mut strided_wide = wide_kernel;
    strided_wide.stride = [1, 2];
    strided_wide.padding_end = [0, 2];
    for g in [uneven, wide_kernel, strided_wide] {
        let x = ramp(g.input_len(), 0.1);
        let w = ramp(g.weight_len(), 0.05);
        let fast = conv2d_forward(&g, &x, &w);
        let slow = naive_forward(&g, &x, &w);
        for (a, b) in fast.iter().zip(&slow) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b} for {g:?}");
        }
        // The gradients read the same taps.
        let dy = ramp(g.output_len(), 0.02);
        assert_eq!(conv2d_input_grad(&g, &dy, &w).len(), g.input_len());
    }
}

/// ⟨conv(x), dy⟩ is linear in x and in w, so its gradients are checked exactly by the
/// identities ⟨dx, x⟩ = ⟨dw, w⟩ = ⟨conv(x, w), dy⟩.
#[test]
fn gradients_satisfy_the_adjoint_identities() {
    let mut g = geometry(9, 3, [5, 8], 2, [3, 3]);
    g.stride = [1, 3];
    g.padding_begin = [1, 1];
    g.padding_end = [1, 1];
    let x = ramp(g.input_len(), 0.1);
    let w = ramp(g.weight_len(), 0.05);
    let dy = ramp(g.output_len(), 0.02);
    let dot = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(p, q)| *p as f64 * *q as f64)
            .sum::<f64>()
    };
    let forward = dot(&conv2d_forward(&g, &x, &w), &dy);
    let via_input = dot(&conv2d_input_grad(&g, &dy, &w), &x);
    let via_weight = dot(&conv2d_weight_grad(&g, &x, &dy), &w);
    assert!((forward - via_input).abs() < 1e-3 * forward.abs().max(1.0));
    assert!((forward - via_weight).abs() < 1e-3 * forward.abs().max(1.0));
}

#[test]
fn the_weight_gradient_does_not_depend_on_the_thread_count() {
    let g = geometry(37, 3, [9, 9], 5, [3, 3]);
    let x = ramp(g.input_len(), 0.3);
    let dy = ramp(g.output_len(), 0.7);
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| conv2d_weight_grad(&g, &x, &dy))
    };
    assert_eq!(run(1), run(3));
}

#[test]
fn a_kernel_larger_than_the_padded_input_has_no_geometry() {
    let g = geometry(1, 1, [2, 2], 1, [3, 3]);
    assert_eq!(g.out_size(), None);
}
