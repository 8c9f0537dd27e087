//! Building a convolution's oneDNN primitive for one pass and geometry: its descriptors (the
//! primitive chooses the layouts, `format_tag::any`), the primitive, and the reorders between
//! the caller's plain layouts and the primitive's.

use super::api::{self, ConvDesc, Handle, MemoryDesc};
use super::{ConvGeometry, Operand, Pass, Prepared, Runtime, succeeded};

/// The tensor shapes, strides and paddings of a geometry, as oneDNN takes them.
struct Shapes {
    src: [usize; 4],
    weights: [usize; 4],
    dst: [usize; 4],
    strides: [i64; 12],
    pad_begin: [i64; 12],
    pad_end: [i64; 12],
}

impl Shapes {
    fn of(g: &ConvGeometry) -> Result<Self, String> {
        let [oh, ow] = g.out_size().ok_or("invalid convolution geometry")?;
        Ok(Self {
            src: [g.batch, g.in_channels, g.in_size[0], g.in_size[1]],
            weights: [g.out_channels, g.in_channels, g.kernel[0], g.kernel[1]],
            dst: [g.batch, g.out_channels, oh, ow],
            strides: dims([g.stride[0], g.stride[1], 0, 0]),
            pad_begin: dims([g.padding_begin[0], g.padding_begin[1], 0, 0]),
            pad_end: dims([g.padding_end[0], g.padding_end[1], 0, 0]),
        })
    }
}

/// The numbers of values in the plain layouts of `pass`'s two inputs and its output for
/// `geometry`, in the order `run` takes them: what oneDNN reads from the caller's slices and
/// writes into its output buffer, so what they must hold.
pub(super) fn plain_lens(pass: Pass, geometry: &ConvGeometry) -> Option<[usize; 3]> {
    let shapes = Shapes::of(geometry).ok()?;
    let [first, second, output] = match pass {
        Pass::Forward => [shapes.src, shapes.weights, shapes.dst],
        Pass::InputGrad => [shapes.dst, shapes.weights, shapes.src],
        Pass::WeightGrad => [shapes.src, shapes.dst, shapes.weights],
    };
    Some([first, second, output].map(|shape| shape.iter().product()))
}

/// Up to four sizes as oneDNN's 12-entry dims.
fn dims(values: [usize; 4]) -> [i64; 12] {
    let mut out = [0; 12];
    for (o, v) in out.iter_mut().zip(values) {
        *o = v as i64;
    }
    out
}

impl Runtime {
    /// A memory descriptor of `shape` in layout `tag`.
    fn md(&self, shape: [usize; 4], tag: i32) -> Result<MemoryDesc, String> {
        let mut md = MemoryDesc([0; 696]);
        let d = dims(shape);
        // SAFETY: a valid out-pointer and 4 dims.
        succeeded(unsafe {
            (self.api.memory_desc_init_by_tag)(&mut md, 4, d.as_ptr(), api::F32, tag)
        })?;
        Ok(md)
    }

    /// Builds the primitive of `pass` for `geometry`, with its operands and reorders.
    pub(super) fn prepare(&self, pass: Pass, geometry: &ConvGeometry) -> Result<Prepared, String> {
        let shapes = Shapes::of(geometry)?;
        let (src, wei, dst) = (shapes.src, shapes.weights, shapes.dst);
        let any = [
            self.md(src, api::ANY)?,
            self.md(wei, api::ANY)?,
            self.md(dst, api::ANY)?,
        ];
        let forward_pd = self.forward_pd(&shapes, &any)?;
        let (pd, ins, out) = match pass {
            Pass::Forward => (
                forward_pd,
                [
                    (api::ARG_SRC, api::QUERY_SRC, src),
                    (api::ARG_WEIGHTS, api::QUERY_WEIGHTS, wei),
                ],
                (api::ARG_DST, api::QUERY_DST, dst),
            ),
            Pass::InputGrad => (
                self.input_grad_pd(&shapes, &any, forward_pd)?,
                [
                    (api::ARG_DIFF_DST, api::QUERY_DIFF_DST, dst),
                    (api::ARG_WEIGHTS, api::QUERY_WEIGHTS, wei),
                ],
                (api::ARG_DIFF_SRC, api::QUERY_DIFF_SRC, src),
            ),
            Pass::WeightGrad => (
                self.weight_grad_pd(&shapes, &any, forward_pd)?,
                [
                    (api::ARG_SRC, api::QUERY_SRC, src),
                    (api::ARG_DIFF_DST, api::QUERY_DIFF_DST, dst),
                ],
                (api::ARG_DIFF_WEIGHTS, api::QUERY_DIFF_WEIGHTS, wei),
            ),
        };
        let mut primitive = std::ptr::null_mut();
        // SAFETY: a valid primitive descriptor.
        succeeded(unsafe { (self.api.primitive_create)(&mut primitive, pd) })?;
        let [a, b] = ins;
        Ok(Prepared {
            primitive,
            inputs: [self.operand(pd, a, false)?, self.operand(pd, b, false)?],
            output: self.operand(pd, out, true)?,
        })
    }

    /// The forward primitive descriptor (also the hint of both backward ones).
    fn forward_pd(&self, s: &Shapes, [src, wei, dst]: &[MemoryDesc; 3]) -> Result<Handle, String> {
        let mut desc = ConvDesc([0; 5976]);
        // SAFETY: valid descriptors and 2-entry strides and paddings; no bias.
        succeeded(unsafe {
            (self.api.convolution_forward_desc_init)(
                &mut desc,
                api::FORWARD_TRAINING,
                api::CONVOLUTION_DIRECT,
                src,
                wei,
                std::ptr::null(),
                dst,
                s.strides.as_ptr(),
                s.pad_begin.as_ptr(),
                s.pad_end.as_ptr(),
            )
        })?;
        self.primitive_desc(&desc, std::ptr::null_mut())
    }

    /// The input gradient's primitive descriptor.
    fn input_grad_pd(
        &self,
        s: &Shapes,
        [src, wei, dst]: &[MemoryDesc; 3],
        hint: Handle,
    ) -> Result<Handle, String> {
        let mut desc = ConvDesc([0; 5976]);
        // SAFETY: as in `forward_pd`.
        succeeded(unsafe {
            (self.api.convolution_backward_data_desc_init)(
                &mut desc,
                api::CONVOLUTION_DIRECT,
                src,
                wei,
                dst,
                s.strides.as_ptr(),
                s.pad_begin.as_ptr(),
                s.pad_end.as_ptr(),
            )
        })?;
        self.primitive_desc(&desc, hint)
    }

    /// The weight gradient's primitive descriptor (no bias gradient).
    fn weight_grad_pd(
        &self,
        s: &Shapes,
        [src, wei, dst]: &[MemoryDesc; 3],
        hint: Handle,
    ) -> Result<Handle, String> {
        let mut desc = ConvDesc([0; 5976]);
        // SAFETY: as in `forward_pd`.
        succeeded(unsafe {
            (self.api.convolution_backward_weights_desc_init)(
                &mut desc,
                api::CONVOLUTION_DIRECT,
                src,
                wei,
                std::ptr::null(),
                dst,
                s.strides.as_ptr(),
                s.pad_begin.as_ptr(),
                s.pad_end.as_ptr(),
            )
        })?;
        self.primitive_desc(&desc, hint)
    }

    fn primitive_desc(&self, desc: &ConvDesc, hint: Handle) -> Result<Handle, String> {
        let mut pd = std::ptr::null_mut();
        // SAFETY: a valid operation descriptor, no attributes, the engine, an optional hint.
        succeeded(unsafe {
            (self.api.primitive_desc_create)(
                &mut pd,
                (desc as *const ConvDesc).cast(),
                std::ptr::null(),
                self.engine,
                hint,
            )
        })?;
        Ok(pd)
    }

    /// The operand `arg` of primitive descriptor `pd` (queried with `query`, of `shape`), with
    /// a reorder from the plain layout (or to it, for the `output`) where they differ.
    fn operand(
        &self,
        pd: Handle,
        (arg, query, shape): (i32, i32, [usize; 4]),
        output: bool,
    ) -> Result<Operand, String> {
        let plain = self.md(shape, api::PLAIN_4D)?;
        // SAFETY: a valid primitive descriptor; the result points into it (copied at once).
        let wanted_ptr = unsafe { (self.api.primitive_desc_query_md)(pd, query, 0) };
        if wanted_ptr.is_null() {
            return Err(format!("no memory descriptor for argument {arg}"));
        }
        // SAFETY: non-null, a complete 2.6 memory descriptor (plain data).
        let wanted = MemoryDesc(unsafe { (*wanted_ptr).0 });
        // SAFETY: two valid descriptors.
        let same = unsafe { (self.api.memory_desc_equal)(&plain, &wanted) } != 0;
        let reorder = if same {
            None
        } else {
            let (from, to) = if output {
                (&wanted, &plain)
            } else {
                (&plain, &wanted)
            };
            let mut rpd = std::ptr::null_mut();
            // SAFETY: valid descriptors on the one engine, no attributes.
            succeeded(unsafe {
                (self.api.reorder_primitive_desc_create)(
                    &mut rpd,
                    from,
                    self.engine,
                    to,
                    self.engine,
                    std::ptr::null(),
                )
            })?;
            let mut primitive = std::ptr::null_mut();
            // SAFETY: a valid reorder primitive descriptor.
            succeeded(unsafe { (self.api.primitive_create)(&mut primitive, rpd) })?;
            // SAFETY: the primitive keeps what it needs of its descriptor.
            unsafe { (self.api.primitive_desc_destroy)(rpd) };
            Some(primitive)
        };
        // SAFETY: a valid descriptor.
        let wanted_bytes = unsafe { (self.api.memory_desc_get_size)(&wanted) };
        Ok(Operand {
            arg,
            plain,
            wanted,
            wanted_bytes,
            reorder,
        })
    }
}
