//! Lowering a convolution to a matrix product: im2col (one sample's receptive fields as the
//! columns of a matrix) and its adjoint, col2im (adding the columns back into an image), both
//! through a zero-padded copy of the sample.

use std::cell::RefCell;

use super::ConvGeometry;

thread_local! {
    /// One sample's zero-padded input, reused by every [`im2col`] on this thread.
    static PADDED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Writes the im2col matrix `[C·KH·KW, OH·OW]` of one sample `x_n` (`[C, H, W]`) into `cols`.
///
/// The sample is first copied into a zero-padded image (a per-thread buffer), so that every
/// row of the matrix is read from it without bounds: one copy per output row for stride 1,
/// a strided gather otherwise.
pub(super) fn im2col(geometry: &ConvGeometry, x_n: &[f32], cols: &mut [f32]) {
    let [oh, ow] = geometry.out_size().expect("valid convolution geometry");
    let [h, w] = geometry.in_size;
    let [kh, kw] = geometry.kernel;
    let [sh, sw] = geometry.stride;
    let [dh, dw] = geometry.dilation;
    let [top, left] = geometry.padding_begin;
    let padded_h = h + top + geometry.padding_end[0];
    let padded_w = w + left + geometry.padding_end[1];
    let plane = padded_h * padded_w;
    PADDED.with_borrow_mut(|padded| {
        padded.clear();
        padded.resize(geometry.in_channels * plane, 0.0);
        for (channel, padded_channel) in x_n.chunks_exact(h * w).zip(padded.chunks_exact_mut(plane))
        {
            for (y, in_row) in channel.chunks_exact(w).enumerate() {
                padded_channel[(y + top) * padded_w + left..][..w].copy_from_slice(in_row);
            }
        }
        let mut rows = cols.chunks_exact_mut(oh * ow);
        for padded_channel in padded.chunks_exact(plane) {
            for tap_h in 0..kh {
                for tap_w in 0..kw {
                    let row = rows.next().expect("cols holds C·KH·KW rows");
                    for (out_y, out_row) in row.chunks_exact_mut(ow).enumerate() {
                        let source =
                            &padded_channel[(out_y * sh + tap_h * dh) * padded_w + tap_w * dw..];
                        if sw == 1 {
                            out_row.copy_from_slice(&source[..ow]);
                        } else {
                            for (value, input) in out_row.iter_mut().zip(source.iter().step_by(sw))
                            {
                                *value = *input;
                            }
                        }
                    }
                }
            }
        }
    });
}

/// Writes into `dx_n` (`[C, H, W]`) the sum of the im2col-shaped gradient `cols`
/// (`[C·KH·KW, OH·OW]`) over the input positions it was read from: the adjoint of [`im2col`].
///
/// The rows are added into a zero-padded image (the per-thread buffer of [`im2col`]) without
/// bounds, whose interior is then copied out, so `dx_n` is written once (never read: see the
/// caller about fresh pages).
pub(super) fn col2im(geometry: &ConvGeometry, cols: &[f32], dx_n: &mut [f32]) {
    let [oh, ow] = geometry.out_size().expect("valid convolution geometry");
    let [h, w] = geometry.in_size;
    let [kh, kw] = geometry.kernel;
    let [sh, sw] = geometry.stride;
    let [dh, dw] = geometry.dilation;
    let [top, left] = geometry.padding_begin;
    let padded_h = h + top + geometry.padding_end[0];
    let padded_w = w + left + geometry.padding_end[1];
    let plane = padded_h * padded_w;
    PADDED.with_borrow_mut(|padded| {
        padded.clear();
        padded.resize(geometry.in_channels * plane, 0.0);
        let mut rows = cols.chunks_exact(oh * ow);
        for padded_channel in padded.chunks_exact_mut(plane) {
            for tap_h in 0..kh {
                for tap_w in 0..kw {
                    let row = rows.next().expect("cols holds C·KH·KW rows");
                    for (out_y, out_row) in row.chunks_exact(ow).enumerate() {
                        let target = &mut padded_channel
                            [(out_y * sh + tap_h * dh) * padded_w + tap_w * dw..];
                        if sw == 1 {
                            for (sum, value) in target[..ow].iter_mut().zip(out_row) {
                                *sum += value;
                            }
                        } else {
                            for (sum, value) in target.iter_mut().step_by(sw).zip(out_row) {
                                *sum += value;
                            }
                        }
                    }
                }
            }
        }
        for (channel, padded_channel) in
            dx_n.chunks_exact_mut(h * w).zip(padded.chunks_exact(plane))
        {
            for (y, out_row) in channel.chunks_exact_mut(w).enumerate() {
                out_row.copy_from_slice(&padded_channel[(y + top) * padded_w + left..][..w]);
            }
        }
    });
}
