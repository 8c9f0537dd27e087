//! The Burn backend extension that runs [`conv_cpu`] on Burn's CPU backend
//! (flex), with its own backward pass under autodiff.
//!
//! Only `Flex` and `Autodiff<Flex>` implement [`PglConvBackend`]; [`super::conv2d`] calls it
//! for flex tensors only and Burn's own `conv2d` for every other backend.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::ops::{ConvOptions, ModuleOps};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Flex, TensorMetadata, backend_extension};
use burn::tensor::{DType, Shape};

use super::conv_cpu::{self, ConvGeometry};
use super::flex_data::{flex_tensor, with_f32_slice};
use super::onednn;

/// Convolution operations pgl implements itself for some backends.
#[backend_extension(Flex, Autodiff)]
pub trait PglConvBackend: Backend {
    /// 2-D convolution without bias (`groups == 1`), `x` `[N, C, H, W]`, `weight`
    /// `[C_out, C, KH, KW]`.
    fn pgl_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;
}

/// The geometry of `x ⋆ weight`, or `None` when the kernels do not handle it (grouped
/// convolution, a dtype other than f32, an empty tensor, a kernel larger than the input):
/// Burn's own operation runs then.
pub(super) fn geometry_of(
    x_shape: &Shape,
    x_dtype: DType,
    weight_shape: &Shape,
    weight_dtype: DType,
    options: &ConvOptions<2>,
) -> Option<ConvGeometry> {
    if options.groups != 1 || x_dtype != DType::F32 || weight_dtype != DType::F32 {
        return None;
    }
    let [batch, in_channels, height, width] = x_shape.dims();
    let [out_channels, weight_in, kernel_h, kernel_w] = weight_shape.dims();
    if weight_in != in_channels {
        return None;
    }
    let geometry = ConvGeometry {
        batch,
        in_channels,
        in_size: [height, width],
        out_channels,
        kernel: [kernel_h, kernel_w],
        stride: options.stride,
        padding_begin: options.padding.map(|(begin, _)| begin),
        padding_end: options.padding.map(|(_, end)| end),
        dilation: options.dilation,
    };
    let sizes = [
        batch,
        in_channels,
        height * width,
        out_channels,
        kernel_h * kernel_w,
    ];
    (geometry.out_size().is_some() && sizes.iter().all(|&size| size > 0)).then_some(geometry)
}

fn flex_geometry(
    x: &FloatTensor<Flex>,
    weight: &FloatTensor<Flex>,
    options: &ConvOptions<2>,
) -> Option<ConvGeometry> {
    geometry_of(
        &x.shape(),
        x.dtype(),
        &weight.shape(),
        weight.dtype(),
        options,
    )
}

fn forward(
    x: FloatTensor<Flex>,
    weight: FloatTensor<Flex>,
    options: ConvOptions<2>,
) -> FloatTensor<Flex> {
    let Some(geometry) = flex_geometry(&x, &weight, &options) else {
        return Flex::conv2d(x, weight, None, options);
    };
    let [out_h, out_w] = geometry.out_size().expect("checked geometry");
    let out = with_f32_slice(&x, |x| {
        with_f32_slice(&weight, |weight| {
            onednn::forward(&geometry, x, weight)
                .unwrap_or_else(|| conv_cpu::conv2d_forward(&geometry, x, weight))
        })
    });
    flex_tensor(out, [geometry.batch, geometry.out_channels, out_h, out_w])
}

fn input_grad(
    x: FloatTensor<Flex>,
    weight: FloatTensor<Flex>,
    output_grad: FloatTensor<Flex>,
    options: ConvOptions<2>,
) -> FloatTensor<Flex> {
    let Some(geometry) = flex_geometry(&x, &weight, &options) else {
        return Flex::conv2d_x_backward(x, weight, output_grad, options);
    };
    let grad = with_f32_slice(&output_grad, |output_grad| {
        with_f32_slice(&weight, |weight| {
            onednn::input_grad(&geometry, output_grad, weight)
                .unwrap_or_else(|| conv_cpu::conv2d_input_grad(&geometry, output_grad, weight))
        })
    });
    let [height, width] = geometry.in_size;
    flex_tensor(grad, [geometry.batch, geometry.in_channels, height, width])
}

fn weight_grad(
    x: FloatTensor<Flex>,
    weight: FloatTensor<Flex>,
    output_grad: FloatTensor<Flex>,
    options: ConvOptions<2>,
) -> FloatTensor<Flex> {
    let Some(geometry) = flex_geometry(&x, &weight, &options) else {
        return Flex::conv2d_weight_backward(x, weight, output_grad, options);
    };
    let grad = with_f32_slice(&x, |x| {
        with_f32_slice(&output_grad, |output_grad| {
            onednn::weight_grad(&geometry, x, output_grad)
                .unwrap_or_else(|| conv_cpu::conv2d_weight_grad(&geometry, x, output_grad))
        })
    });
    let [kernel_h, kernel_w] = geometry.kernel;
    flex_tensor(
        grad,
        [
            geometry.out_channels,
            geometry.in_channels,
            kernel_h,
            kernel_w,
        ],
    )
}

impl PglConvBackend for Flex {
    fn pgl_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        forward(x, weight, options)
    }
}

/// The backward pass of [`PglConvBackend::pgl_conv2d`] on flex: input and weight gradients
/// from pgl's kernels, each computed only when its input is tracked.
#[derive(Debug)]
struct PglConv2dBackward;

impl Backward<Flex, 2> for PglConv2dBackward {
    type State = (NodeId, NodeId, ConvOptions<2>);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_weight] = ops.parents;
        let output_grad = grads.consume::<Flex>(&ops.node);
        let (x_state, weight_state, options) = ops.state;
        let x = checkpointer.retrieve_node_output::<FloatTensor<Flex>>(x_state);
        let weight = checkpointer.retrieve_node_output::<FloatTensor<Flex>>(weight_state);
        if let Some(node) = node_x {
            let grad = input_grad(
                x.clone(),
                weight.clone(),
                output_grad.clone(),
                options.clone(),
            );
            grads.register::<Flex>(node.id, grad);
        }
        if let Some(node) = node_weight {
            grads.register::<Flex>(node.id, weight_grad(x, weight, output_grad, options));
        }
    }
}

impl<C: CheckpointStrategy> PglConvBackend for Autodiff<Flex, C> {
    fn pgl_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        match PglConv2dBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                let output = forward(x.into_primitive(), weight.into_primitive(), options.clone());
                prep.finish((x_state, weight_state, options), output)
            }
            OpsKind::UnTracked(prep) => prep.finish(forward(
                x.into_primitive(),
                weight.into_primitive(),
                options,
            )),
        }
    }
}
