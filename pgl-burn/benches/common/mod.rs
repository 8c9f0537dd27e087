//! What the convolution benches share: one 3×3 convolution's seeded input and weight, and its
//! forward and forward + backward passes through any `conv2d` (pgl's kernels or Burn's).

use pgl_burn::burn::prelude::*;
use pgl_burn::burn::tensor::ops::ConvOptions;
use pgl_burn::burn::tensor::{Distribution, TensorData};

/// A `conv2d` with Burn's signature: `pgl_burn::kernels::conv2d` or Burn's own.
pub type ConvFn = fn(Tensor<4>, Tensor<4>, Option<Tensor<1>>, ConvOptions<2>) -> Tensor<4>;

/// A 3×3 convolution with padding 1 on `[batch, channels, side, side]` random normal images.
pub struct ConvCase {
    x: Tensor<4>,
    weight: Tensor<4>,
    stride: usize,
}

impl ConvCase {
    /// Input `N(0, 1)`, weight `N(0, 0.1)` (tracked for its gradient), drawn on `device`.
    pub fn new([batch, channels, side, out_channels, stride]: [usize; 5], device: &Device) -> Self {
        let x = Tensor::<4>::random(
            [batch, channels, side, side],
            Distribution::Normal(0.0, 1.0),
            device,
        );
        let weight = Tensor::<4>::random(
            [out_channels, channels, 3, 3],
            Distribution::Normal(0.0, 0.1),
            device,
        )
        .require_grad();
        Self { x, weight, stride }
    }

    fn options(&self) -> ConvOptions<2> {
        ConvOptions::new([self.stride, self.stride], [1, 1], [1, 1], 1)
    }

    /// The forward pass alone (no autodiff graph), read back.
    pub fn forward(&self, conv: ConvFn) -> TensorData {
        let (x, weight) = (self.x.clone().inner(), self.weight.clone().inner());
        conv(x, weight, None, self.options()).into_data()
    }

    /// Forward, then backward of the sum: the input and the weight gradient, read back.
    pub fn forward_backward(&self, conv: ConvFn) -> (TensorData, TensorData) {
        let x = self.x.clone().require_grad();
        let grads = conv(x.clone(), self.weight.clone(), None, self.options())
            .sum()
            .backward();
        let x_grad = x.grad(&grads).unwrap().into_data();
        (x_grad, self.weight.grad(&grads).unwrap().into_data())
    }
}
