//! Lowering a convolution to a matrix product: im2col (one sample's receptive fields as the
//! columns of a matrix) and its adjoint, col2im (adding the columns back into an image).

use super::ConvGeometry;

/// Writes the im2col matrix `[C·KH·KW, OH·OW]` of one sample `x_n` (`[C, H, W]`) into `cols`.
pub(super) fn im2col(geometry: &ConvGeometry, x_n: &[f32], cols: &mut [f32]) {
    let [oh, ow] = geometry.out_size().expect("valid convolution geometry");
    let [h, w] = geometry.in_size;
    let [kh, kw] = geometry.kernel;
    let [sh, sw] = geometry.stride;
    let mut rows = cols.chunks_exact_mut(oh * ow);
    for channel in x_n.chunks_exact(h * w) {
        for tap_h in 0..kh {
            let offset_h = geometry.tap_offset(0, tap_h);
            let (oh_low, oh_high) = geometry.valid_outputs(0, offset_h, oh);
            for tap_w in 0..kw {
                let offset_w = geometry.tap_offset(1, tap_w);
                let (ow_low, ow_high) = geometry.valid_outputs(1, offset_w, ow);
                let row = rows.next().expect("cols holds C·KH·KW rows");
                for (out_y, out_row) in row.chunks_exact_mut(ow).enumerate() {
                    if out_y < oh_low || out_y >= oh_high {
                        out_row.fill(0.0);
                        continue;
                    }
                    let in_y = (out_y * sh) as isize + offset_h;
                    let in_row = &channel[in_y as usize * w..][..w];
                    out_row[..ow_low].fill(0.0);
                    out_row[ow_high..].fill(0.0);
                    if ow_low == ow_high {
                        // No tap of this kernel column lands inside the row.
                    } else if sw == 1 {
                        let start = (ow_low as isize + offset_w) as usize;
                        out_row[ow_low..ow_high]
                            .copy_from_slice(&in_row[start..start + (ow_high - ow_low)]);
                    } else {
                        for (out_x, value) in out_row[ow_low..ow_high].iter_mut().enumerate() {
                            let in_x = ((ow_low + out_x) * sw) as isize + offset_w;
                            *value = in_row[in_x as usize];
                        }
                    }
                }
            }
        }
    }
}

/// Adds the im2col-shaped gradient `cols` (`[C·KH·KW, OH·OW]`) back onto the input positions
/// it was read from, into `dx_n` (`[C, H, W]`, which the caller zeroes).
pub(super) fn col2im_add(geometry: &ConvGeometry, cols: &[f32], dx_n: &mut [f32]) {
    let [oh, ow] = geometry.out_size().expect("valid convolution geometry");
    let [h, w] = geometry.in_size;
    let [kh, kw] = geometry.kernel;
    let [sh, sw] = geometry.stride;
    let mut rows = cols.chunks_exact(oh * ow);
    for channel in dx_n.chunks_exact_mut(h * w) {
        for tap_h in 0..kh {
            let offset_h = geometry.tap_offset(0, tap_h);
            let (oh_low, oh_high) = geometry.valid_outputs(0, offset_h, oh);
            for tap_w in 0..kw {
                let offset_w = geometry.tap_offset(1, tap_w);
                let (ow_low, ow_high) = geometry.valid_outputs(1, offset_w, ow);
                let row = rows.next().expect("cols holds C·KH·KW rows");
                for out_y in oh_low..oh_high {
                    let in_y = (out_y * sh) as isize + offset_h;
                    let in_row = &mut channel[in_y as usize * w..][..w];
                    let out_row = &row[out_y * ow..][..ow];
                    if ow_low == ow_high {
                        // No tap of this kernel column lands inside the row.
                    } else if sw == 1 {
                        let start = (ow_low as isize + offset_w) as usize;
                        for (target, value) in in_row[start..start + (ow_high - ow_low)]
                            .iter_mut()
                            .zip(&out_row[ow_low..ow_high])
                        {
                            *target += value;
                        }
                    } else {
                        for (out_x, value) in out_row.iter().enumerate().take(ow_high).skip(ow_low)
                        {
                            let in_x = (out_x * sw) as isize + offset_w;
                            in_row[in_x as usize] += value;
                        }
                    }
                }
            }
        }
    }
}
