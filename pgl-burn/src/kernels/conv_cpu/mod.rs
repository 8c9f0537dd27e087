//! 2-D convolution on plain `f32` slices in NCHW layout: forward, input gradient and weight
//! gradient as im2col + gemm per sample, with no re-layout of activations or weights.
//!
//! Per sample `n`, with `cols_n = im2col(x_n)` of shape `[C·KH·KW, OH·OW]`:
//! - forward: `y_n = W · cols_n` (`W` seen as `[C_out, C·KH·KW]`);
//! - input gradient: `dx_n = col2im(Wᵀ · dy_n)`;
//! - weight gradient: `dW = Σ_n dy_n · cols_nᵀ`.
//!
//! Samples run in parallel on the current rayon pool; every gemm is single-threaded, and the
//! weight gradient sums fixed groups of [`WEIGHT_GRAD_GROUP`] samples in a fixed order, so every
//! result is bit-identical for any number of threads.

use rayon::prelude::*;

mod lowering;
mod matmul;

use lowering::{col2im, im2col};
use matmul::{MatrixView, gemm_into};

/// Samples whose weight-gradient contributions are accumulated together before the groups are
/// summed in order (fixed, so that the sum does not depend on the thread count).
pub const WEIGHT_GRAD_GROUP: usize = 8;

/// The sizes of one grouped-free 2-D convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvGeometry {
    /// Samples in the batch.
    pub batch: usize,
    /// Input channels.
    pub in_channels: usize,
    /// Input height and width.
    pub in_size: [usize; 2],
    /// Output channels.
    pub out_channels: usize,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride along height and width.
    pub stride: [usize; 2],
    /// Zero padding before the first row and column.
    pub padding_begin: [usize; 2],
    /// Zero padding after the last row and column.
    pub padding_end: [usize; 2],
    /// Dilation along height and width.
    pub dilation: [usize; 2],
}

impl ConvGeometry {
    /// Output height and width, or `None` when the (dilated) kernel does not fit the padded
    /// input or a size is zero.
    pub fn out_size(&self) -> Option<[usize; 2]> {
        let mut out = [0; 2];
        for (axis, size) in out.iter_mut().enumerate() {
            if self.stride[axis] == 0 || self.dilation[axis] == 0 || self.kernel[axis] == 0 {
                return None;
            }
            let padded = self.in_size[axis] + self.padding_begin[axis] + self.padding_end[axis];
            let span = self.dilation[axis] * (self.kernel[axis] - 1) + 1;
            if padded < span {
                return None;
            }
            *size = (padded - span) / self.stride[axis] + 1;
        }
        Some(out)
    }

    fn out_pixels(&self) -> usize {
        let [oh, ow] = self.out_size().expect("valid convolution geometry");
        oh * ow
    }

    fn in_pixels(&self) -> usize {
        self.in_size[0] * self.in_size[1]
    }

    /// Rows of the im2col matrix: `C·KH·KW`.
    fn patch_len(&self) -> usize {
        self.in_channels * self.kernel[0] * self.kernel[1]
    }

    /// Elements of the input, output and weight tensors.
    pub fn input_len(&self) -> usize {
        self.batch * self.in_channels * self.in_pixels()
    }

    /// Elements of the output tensor `[N, C_out, OH, OW]`.
    pub fn output_len(&self) -> usize {
        self.batch * self.out_channels * self.out_pixels()
    }

    /// Elements of the weight tensor `[C_out, C, KH, KW]`.
    pub fn weight_len(&self) -> usize {
        self.out_channels * self.patch_len()
    }

    /// A 1×1 kernel with stride 1 and no padding reads the input as its own im2col matrix.
    fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1]
            && self.stride == [1, 1]
            && self.padding_begin == [0, 0]
            && self.padding_end == [0, 0]
    }
}

fn check_lengths(geometry: &ConvGeometry, input: usize, weight: usize, output: usize) {
    assert!(
        geometry.out_size().is_some(),
        "conv2d: invalid geometry {geometry:?}"
    );
    assert_eq!(input, geometry.input_len(), "conv2d: input length");
    assert_eq!(weight, geometry.weight_len(), "conv2d: weight length");
    assert_eq!(output, geometry.output_len(), "conv2d: output length");
}

/// Forward convolution without bias: `x` is `[N, C, H, W]`, `weight` `[C_out, C, KH, KW]`;
/// returns `[N, C_out, OH, OW]`.
pub fn conv2d_forward(geometry: &ConvGeometry, x: &[f32], weight: &[f32]) -> Vec<f32> {
    let mut out = vec![0.0; geometry.output_len()];
    check_lengths(geometry, x.len(), weight.len(), out.len());
    if out.is_empty() {
        return out;
    }
    let pixels = geometry.out_pixels();
    let patch = geometry.patch_len();
    let shape = [geometry.out_channels, pixels, patch];
    let weights = MatrixView::row_major(weight, patch);
    let per_sample_in = geometry.in_channels * geometry.in_pixels();
    out.par_chunks_mut(geometry.out_channels * pixels)
        .zip(x.par_chunks(per_sample_in.max(1)))
        .for_each_init(
            || {
                vec![
                    0.0f32;
                    if geometry.is_pointwise() {
                        0
                    } else {
                        patch * pixels
                    }
                ]
            },
            |cols, (y_n, x_n)| {
                let cols: &[f32] = if geometry.is_pointwise() {
                    x_n
                } else {
                    im2col(geometry, x_n, cols);
                    cols
                };
                gemm_into(
                    y_n,
                    weights,
                    MatrixView::row_major(cols, pixels),
                    shape,
                    false,
                );
            },
        );
    out
}

/// Gradient of the input: `output_grad` is `[N, C_out, OH, OW]`; returns `[N, C, H, W]`.
pub fn conv2d_input_grad(geometry: &ConvGeometry, output_grad: &[f32], weight: &[f32]) -> Vec<f32> {
    let mut input_grad = vec![0.0; geometry.input_len()];
    check_lengths(geometry, input_grad.len(), weight.len(), output_grad.len());
    if input_grad.is_empty() || output_grad.is_empty() {
        return input_grad;
    }
    let pixels = geometry.out_pixels();
    let patch = geometry.patch_len();
    let shape = [patch, pixels, geometry.out_channels];
    let weights_t = MatrixView::transposed(weight, geometry.out_channels, patch);
    let per_sample_in = geometry.in_channels * geometry.in_pixels();
    input_grad
        .par_chunks_mut(per_sample_in)
        .zip(output_grad.par_chunks(geometry.out_channels * pixels))
        .for_each_init(
            || {
                vec![
                    0.0f32;
                    if geometry.is_pointwise() {
                        0
                    } else {
                        patch * pixels
                    }
                ]
            },
            |cols, (dx_n, dy_n)| {
                let dy_n = MatrixView::row_major(dy_n, pixels);
                if geometry.is_pointwise() {
                    gemm_into(dx_n, weights_t, dy_n, shape, false);
                } else {
                    gemm_into(cols, weights_t, dy_n, shape, false);
                    // col2im writes the sample's gradient without reading it first: the
                    // buffer's pages are fresh from the allocator, and a first access that
                    // reads maps the shared zero page, which the next write must replace — a
                    // page-table change that a multi-threaded process pays for with a TLB
                    // shootdown on every core, once per 4 KiB page (a quarter of this
                    // kernel's time on a 2-core VM, docs/perf.md).
                    col2im(geometry, cols, dx_n);
                }
            },
        );
    input_grad
}

/// Gradient of the weight: `x` is `[N, C, H, W]`, `output_grad` `[N, C_out, OH, OW]`; returns
/// `[C_out, C, KH, KW]`.
pub fn conv2d_weight_grad(geometry: &ConvGeometry, x: &[f32], output_grad: &[f32]) -> Vec<f32> {
    let weight_len = geometry.weight_len();
    check_lengths(geometry, x.len(), weight_len, output_grad.len());
    let mut weight_grad = vec![0.0; weight_len];
    if weight_len == 0 || output_grad.is_empty() {
        return weight_grad;
    }
    let pixels = geometry.out_pixels();
    let patch = geometry.patch_len();
    let shape = [geometry.out_channels, patch, pixels];
    let per_sample_in = geometry.in_channels * geometry.in_pixels();
    let per_sample_out = geometry.out_channels * pixels;
    let group_sums: Vec<Vec<f32>> = x
        .par_chunks(per_sample_in * WEIGHT_GRAD_GROUP)
        .zip(output_grad.par_chunks(per_sample_out * WEIGHT_GRAD_GROUP))
        .map_init(
            || {
                vec![
                    0.0f32;
                    if geometry.is_pointwise() {
                        0
                    } else {
                        patch * pixels
                    }
                ]
            },
            |cols, (x_group, dy_group)| {
                let mut sum = vec![0.0f32; weight_len];
                for (index, (x_n, dy_n)) in x_group
                    .chunks_exact(per_sample_in)
                    .zip(dy_group.chunks_exact(per_sample_out))
                    .enumerate()
                {
                    let cols: &[f32] = if geometry.is_pointwise() {
                        x_n
                    } else {
                        im2col(geometry, x_n, cols);
                        cols
                    };
                    let cols_t = MatrixView::transposed(cols, patch, pixels);
                    let dy_n = MatrixView::row_major(dy_n, pixels);
                    gemm_into(&mut sum, dy_n, cols_t, shape, index > 0);
                }
                sum
            },
        )
        .collect();
    for sum in &group_sums {
        for (total, part) in weight_grad.iter_mut().zip(sum) {
            *total += part;
        }
    }
    weight_grad
}

#[cfg(test)]
mod tests;
