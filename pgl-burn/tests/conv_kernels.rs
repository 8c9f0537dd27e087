//! pgl's CPU convolution kernels (`pgl_burn::kernels`) against Burn's own `conv2d` on the same
//! flex device: the output and the gradients of the input, weight and bias, over random
//! geometries (kernel, stride, padding on each side, dilation, channels, batch).

use pgl_burn::burn::prelude::*;
use pgl_burn::burn::tensor::ops::ConvOptions;
use pgl_burn::burn::tensor::{Distribution, TensorData};
use pgl_burn::kernels;
use proptest::prelude::*;

mod support;

/// [`support::max_relative_difference`] of two tensors' values.
fn relative_difference(ours: Tensor<4>, burns: Tensor<4>) -> f32 {
    let ours: Vec<f32> = ours.into_data().iter::<f32>().collect();
    let burns: Vec<f32> = burns.into_data().iter::<f32>().collect();
    support::max_relative_difference(&ours, &burns)
}

#[derive(Debug, Clone)]
struct Case {
    x: [usize; 4],
    out_channels: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [(usize, usize); 2],
    dilation: [usize; 2],
    bias: bool,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        (1usize..5, 1usize..5, 1usize..9, 1usize..9),
        1usize..6,
        (1usize..4, 1usize..4),
        (1usize..3, 1usize..3),
        ((0usize..3, 0usize..3), (0usize..3, 0usize..3)),
        (1usize..3, 1usize..3),
        any::<bool>(),
    )
        .prop_map(|((n, c, h, w), out_channels, k, s, p, d, bias)| Case {
            x: [n, c, h, w],
            out_channels,
            kernel: [k.0, k.1],
            stride: [s.0, s.1],
            padding: [p.0, p.1],
            dilation: [d.0, d.1],
            bias,
        })
        .prop_filter("the dilated kernel fits the padded input", |case| {
            (0..2).all(|axis| {
                let padded = case.x[2 + axis] + case.padding[axis].0 + case.padding[axis].1;
                padded > case.dilation[axis] * (case.kernel[axis] - 1)
            })
        })
}

/// The random inputs of one case: x, weight, bias and the probe the output is multiplied by.
struct Inputs {
    x: TensorData,
    weight: TensorData,
    bias: Option<TensorData>,
    probe: TensorData,
}

fn inputs(case: &Case, seed: u64) -> Inputs {
    let device = Device::flex();
    device.seed(seed);
    let normal = |shape: [usize; 4], std: f64| {
        Tensor::<4>::random(shape, Distribution::Normal(0.0, std), &device).into_data()
    };
    let [n, c, h, w] = case.x;
    let out_size = |axis: usize, size: usize| {
        let padded = size + case.padding[axis].0 + case.padding[axis].1;
        (padded - case.dilation[axis] * (case.kernel[axis] - 1) - 1) / case.stride[axis] + 1
    };
    Inputs {
        x: normal(case.x, 1.0),
        weight: normal([case.out_channels, c, case.kernel[0], case.kernel[1]], 0.5),
        bias: case.bias.then(|| {
            Tensor::<1>::random([case.out_channels], Distribution::Normal(0.0, 1.0), &device)
                .into_data()
        }),
        probe: normal([n, case.out_channels, out_size(0, h), out_size(1, w)], 1.0),
    }
}

/// Output and (input, weight, bias) gradients of `sum(conv(x) · probe)` through `conv`.
fn run(
    case: &Case,
    inputs: &Inputs,
    conv: impl Fn(Tensor<4>, Tensor<4>, Option<Tensor<1>>, ConvOptions<2>) -> Tensor<4>,
) -> (Tensor<4>, Tensor<4>, Tensor<4>, Option<Tensor<4>>) {
    let device = Device::flex().autodiff();
    let x = Tensor::<4>::from_data(inputs.x.clone(), &device).require_grad();
    let weight = Tensor::<4>::from_data(inputs.weight.clone(), &device).require_grad();
    let bias = inputs
        .bias
        .clone()
        .map(|bias| Tensor::<1>::from_data(bias, &device).require_grad());
    let options = ConvOptions::new_with_padding(case.stride, case.padding, case.dilation, 1);
    let output = conv(x.clone(), weight.clone(), bias.clone(), options);
    let probe = Tensor::<4>::from_data(inputs.probe.clone(), &device);
    let grads = (output.clone() * probe).sum().backward();
    let x_grad = x.grad(&grads).unwrap();
    let weight_grad = weight.grad(&grads).unwrap();
    let bias_grad = bias.map(|bias| {
        let [channels] = bias.dims();
        bias.grad(&grads).unwrap().reshape([1, channels, 1, 1])
    });
    let to_plain = |t: Tensor<4>| Tensor::<4>::from_data(t.into_data(), &Device::flex());
    (
        to_plain(output.inner()),
        to_plain(x_grad),
        to_plain(weight_grad),
        bias_grad.map(to_plain),
    )
}

fn check(case: &Case, seed: u64) -> Result<(), TestCaseError> {
    let inputs = inputs(case, seed);
    let ours = run(case, &inputs, kernels::conv2d);
    let burns = run(case, &inputs, pgl_burn::burn::tensor::module::conv2d);
    let tolerance = 1e-5;
    let output = relative_difference(ours.0, burns.0);
    prop_assert!(output < tolerance, "output differs by {output}: {case:?}");
    let input = relative_difference(ours.1, burns.1);
    prop_assert!(
        input < tolerance,
        "input gradient differs by {input}: {case:?}"
    );
    let weight = relative_difference(ours.2, burns.2);
    prop_assert!(
        weight < tolerance,
        "weight gradient differs by {weight}: {case:?}"
    );
    if let (Some(ours), Some(burns)) = (ours.3, burns.3) {
        let bias = relative_difference(ours, burns);
        prop_assert!(
            bias < tolerance,
            "bias gradient differs by {bias}: {case:?}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn kernels_match_burns_conv2d_and_its_gradients(case in cases(), seed in any::<u64>()) {
        check(&case, seed)?;
    }
}

/// The shapes the zoo trains: the MNIST CNN's and CIFAR ResNet's 3×3 convolutions (stride 1
/// and 2) and a 1×1 projection, at a batch larger than one weight-gradient group.
#[test]
fn kernels_match_burn_on_the_zoo_shapes() {
    let shapes = [
        ([20, 1, 28, 28], 32, 1, 1),
        ([20, 16, 32, 32], 16, 1, 1),
        ([20, 16, 32, 32], 32, 2, 1),
        ([20, 32, 16, 16], 64, 2, 1),
        ([20, 32, 8, 8], 64, 1, 0),
    ];
    for (x, out_channels, stride, padding) in shapes {
        let kernel = if padding == 0 { 1 } else { 3 };
        let case = Case {
            x,
            out_channels,
            kernel: [kernel, kernel],
            stride: [stride, stride],
            padding: [(padding, padding), (padding, padding)],
            dilation: [1, 1],
            bias: true,
        };
        check(&case, 7).unwrap();
    }
}

/// Without autodiff (evaluation), and with an input that needs no gradient (the first layer),
/// the kernels still give Burn's output.
#[test]
fn kernels_run_without_autodiff_and_for_untracked_inputs() {
    let device = Device::flex();
    device.seed(3);
    let x = Tensor::<4>::random([3, 2, 6, 5], Distribution::Normal(0.0, 1.0), &device);
    let weight = Tensor::<4>::random([4, 2, 3, 3], Distribution::Normal(0.0, 1.0), &device);
    let options = || ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    let ours = kernels::conv2d(x.clone(), weight.clone(), None, options());
    let burns = pgl_burn::burn::tensor::module::conv2d(x.clone(), weight.clone(), None, options());
    assert!(relative_difference(ours, burns) < 1e-5);

    let device = Device::flex().autodiff();
    let x = Tensor::<4>::from_data(x.into_data(), &device);
    let weight_grad =
        |conv: fn(Tensor<4>, Tensor<4>, Option<Tensor<1>>, ConvOptions<2>) -> Tensor<4>| {
            let weight = Tensor::<4>::from_data(weight.to_data(), &device).require_grad();
            let grads = conv(x.clone(), weight.clone(), None, options())
                .sum()
                .backward();
            assert!(
                x.grad(&grads).is_none(),
                "an untracked input gets no gradient"
            );
            Tensor::<4>::from_data(weight.grad(&grads).unwrap().into_data(), &Device::flex())
        };
    let ours = weight_grad(kernels::conv2d);
    let burns = weight_grad(pgl_burn::burn::tensor::module::conv2d);
    assert!(relative_difference(ours, burns) < 1e-5);
}

/// Grouped convolutions are not pgl's: they go to Burn's operation, same result.
#[test]
fn grouped_convolutions_fall_through_to_burn() {
    let device = Device::flex();
    device.seed(5);
    let x = Tensor::<4>::random([2, 4, 5, 5], Distribution::Normal(0.0, 1.0), &device);
    let weight = Tensor::<4>::random([6, 2, 3, 3], Distribution::Normal(0.0, 1.0), &device);
    let options = || ConvOptions::new([1, 1], [1, 1], [1, 1], 2);
    let ours = kernels::conv2d(x.clone(), weight.clone(), None, options());
    let burns = pgl_burn::burn::tensor::module::conv2d(x, weight, None, options());
    assert_eq!(ours.into_data(), burns.into_data());
}
