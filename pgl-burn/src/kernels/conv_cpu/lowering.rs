//! Lowering a convolution to a matrix product: im2col (one sample's receptive fields as the
//! columns of a matrix) and its adjoint, col2im (adding the columns back into an image), both
//! through a zero-padded copy of the sample.

use std::cell::RefCell;

use super::ConvGeometry;

thread_local! {
    /// One sample's zero-padded input, reused by every [`im2col`] on this thread.
    static PADDED: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Where the zero-padded copy of one sample puts its channels and rows.
struct PaddedLayout {
    /// Width of a padded row.
    width: usize,
    /// Elements of a padded channel.
    plane: usize,
    /// Offset in a padded channel of the sample's first element.
    origin: usize,
}

impl PaddedLayout {
    fn of(geometry: &ConvGeometry) -> Self {
        let [h, w] = geometry.in_size;
        let [top, left] = geometry.padding_begin;
        let width = w + left + geometry.padding_end[1];
        Self {
            width,
            plane: (h + top + geometry.padding_end[0]) * width,
            origin: top * width + left,
        }
    }

    /// `padded` as the all-zero padded image of `channels` channels.
    fn zeroed(&self, padded: &mut Vec<f32>, channels: usize) {
        padded.clear();
        padded.resize(channels * self.plane, 0.0);
    }

    /// Offset in a padded channel of input row `y`'s first element.
    fn input_row(&self, y: usize) -> usize {
        self.origin + y * self.width
    }

    /// For every row of one channel's block of the im2col matrix, in order (tap row, tap
    /// column, output row): the offset in a padded channel of that row's first tap.
    fn tap_rows(&self, geometry: &ConvGeometry) -> impl Iterator<Item = usize> {
        let [oh, _] = geometry.out_size().expect("valid convolution geometry");
        let [kh, kw] = geometry.kernel;
        let [sh, _] = geometry.stride;
        let [dh, dw] = geometry.dilation;
        let width = self.width;
        (0..kh).flat_map(move |tap_h| {
            (0..kw).flat_map(move |tap_w| {
                (0..oh).map(move |out_y| (out_y * sh + tap_h * dh) * width + tap_w * dw)
            })
        })
    }
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
    let sw = geometry.stride[1];
    let layout = PaddedLayout::of(geometry);
    PADDED.with_borrow_mut(|padded| {
        layout.zeroed(padded, geometry.in_channels);
        for (channel, padded_channel) in x_n
            .chunks_exact(h * w)
            .zip(padded.chunks_exact_mut(layout.plane))
        {
            for (y, in_row) in channel.chunks_exact(w).enumerate() {
                padded_channel[layout.input_row(y)..][..w].copy_from_slice(in_row);
            }
        }
        for (padded_channel, block) in padded
            .chunks_exact(layout.plane)
            .zip(cols.chunks_exact_mut(kh * kw * oh * ow))
        {
            for (start, out_row) in layout.tap_rows(geometry).zip(block.chunks_exact_mut(ow)) {
                let source = &padded_channel[start..];
                if sw == 1 {
                    out_row.copy_from_slice(&source[..ow]);
                } else {
                    for (value, input) in out_row.iter_mut().zip(source.iter().step_by(sw)) {
                        *value = *input;
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
    let sw = geometry.stride[1];
    let layout = PaddedLayout::of(geometry);
    PADDED.with_borrow_mut(|padded| {
        layout.zeroed(padded, geometry.in_channels);
        for (padded_channel, block) in padded
            .chunks_exact_mut(layout.plane)
            .zip(cols.chunks_exact(kh * kw * oh * ow))
        {
            for (start, out_row) in layout.tap_rows(geometry).zip(block.chunks_exact(ow)) {
                let target = &mut padded_channel[start..];
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
        for (channel, padded_channel) in dx_n
            .chunks_exact_mut(h * w)
            .zip(padded.chunks_exact(layout.plane))
        {
            for (y, out_row) in channel.chunks_exact_mut(w).enumerate() {
                out_row.copy_from_slice(&padded_channel[layout.input_row(y)..][..w]);
            }
        }
    });
}
