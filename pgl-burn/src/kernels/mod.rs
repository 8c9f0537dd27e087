//! pgl's own kernels for the operations where Burn's CPU backend is slowest (see
//! `docs/perf.md`), for Burn's `flex` backend: 2-D convolution forward, input gradient and
//! weight gradient as im2col + gemm per sample, and training-mode batch normalisation in two
//! passes each way.
//!
//! They enter Burn as backend extensions ([`flex_conv::PglConvBackend`],
//! [`flex_norm::PglNormBackend`], Burn's `#[backend_extension]`) with backward passes of their
//! own, so Burn stays an unpatched dependency. [`conv2d`], [`conv2d_layer`] and
//! [`batch_norm_layer`] use them for f32 tensors on flex and Burn's operations for every other
//! backend, dtype or grouped convolution.

pub mod batch_norm_cpu;
pub mod conv_cpu;
pub mod flex_conv;
mod flex_data;
pub mod flex_norm;
pub mod onednn;

use burn::backend::Dispatch;
use burn::nn::conv::Conv2d;
use burn::nn::{BatchNorm, PaddingConfig2d};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor};

use flex_conv::PglConvBackend;
use flex_norm::PglNormBackend;

/// Whether `device` is Burn's flex CPU backend, with or without autodiff.
pub fn is_flex(device: &Device) -> bool {
    device.clone().without_autodiff() == Device::flex()
}

/// `x ⋆ weight + bias`, like Burn's `burn::tensor::module::conv2d`: through pgl's kernels on
/// flex when they handle the geometry, through Burn's operation otherwise.
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<2>,
) -> Tensor<4> {
    let handled = is_flex(&x.device())
        && flex_conv::geometry_of(
            &x.shape(),
            x.dtype(),
            &weight.shape(),
            weight.dtype(),
            &options,
        )
        .is_some();
    if !handled {
        return burn::tensor::module::conv2d(x, weight, bias, options);
    }
    let output = Tensor::<4>::from_dispatch(<Dispatch as PglConvBackend>::pgl_conv2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        options,
    ));
    match bias {
        Some(bias) => {
            let [channels] = bias.dims();
            output + bias.reshape([1, channels, 1, 1])
        }
        None => output,
    }
}

/// [`Conv2d::forward`] of Burn's layer, through [`conv2d`]: the same parameters, padding rules
/// and result.
pub fn conv2d_layer(layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let [_, _, height, width] = x.dims();
    let padding = match &layer.padding {
        PaddingConfig2d::Valid => [(0, 0), (0, 0)],
        PaddingConfig2d::Same => [
            same_padding(layer.kernel_size[0], layer.stride[0], height),
            same_padding(layer.kernel_size[1], layer.stride[1], width),
        ],
        PaddingConfig2d::Explicit(top, left, bottom, right) => [(*top, *bottom), (*left, *right)],
    };
    let options =
        ConvOptions::new_with_padding(layer.stride, padding, layer.dilation, layer.groups);
    conv2d(
        x,
        layer.weight.val(),
        layer.bias.as_ref().map(|bias| bias.val()),
        options,
    )
}

/// Burn's "same" padding along one axis: the output has `ceil(size / stride)` positions and
/// the padding is split with the odd one at the end.
fn same_padding(kernel: usize, stride: usize, size: usize) -> (usize, usize) {
    let out = size.div_ceil(stride);
    let total = if out > 0 {
        ((out - 1) * stride + kernel).saturating_sub(size)
    } else {
        0
    };
    (total / 2, total - total / 2)
}

/// [`BatchNorm::forward`] of Burn's layer, through pgl's kernel when it trains on flex: the
/// same output and gradients, and the same running-statistics update (Burn's momentum rule,
/// biased batch variance). Evaluation and other backends run Burn's layer itself.
pub fn batch_norm_layer<const D: usize>(layer: &BatchNorm, x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    let training = device.is_autodiff() && layer.training.is_enabled();
    if !training
        || !is_flex(&device)
        || flex_norm::geometry_of(&x.shape(), x.dtype()).is_none()
        || layer.gamma.dims() != [x.dims()[1]]
    {
        return layer.forward(x);
    }
    let result = <Dispatch as PglNormBackend>::pgl_batch_norm_train(
        x.into_dispatch(),
        layer.gamma.val().into_dispatch(),
        layer.beta.val().into_dispatch(),
        layer.epsilon,
    );
    let mean = Tensor::<1>::from_dispatch(result.mean);
    let variance = Tensor::<1>::from_dispatch(result.variance);
    let momentum = layer.momentum;
    let running_mean = layer.running_mean.value_sync().to_device(&device);
    let running_var = layer.running_var.value_sync().to_device(&device);
    let running_mean = running_mean
        .mul_scalar(1.0 - momentum)
        .add(mean.detach().mul_scalar(momentum));
    let running_var = running_var
        .mul_scalar(1.0 - momentum)
        .add(variance.detach().mul_scalar(momentum));
    layer.running_mean.update(running_mean.detach());
    layer.running_var.update(running_var.detach());
    Tensor::<D>::from_dispatch(result.output)
}
