//! pgl's CPU batch-norm kernel (`pgl_burn::kernels::batch_norm_layer`) against Burn's
//! `BatchNorm::forward` on the same flex device, in training mode: output, gradients of the
//! input, γ and β, and the running statistics afterwards, for flat and spatial activations.

use pgl_burn::burn::module::Param;
use pgl_burn::burn::nn::{BatchNorm, BatchNormConfig};
use pgl_burn::burn::prelude::*;
use pgl_burn::burn::tensor::{Distribution, TensorData};
use pgl_burn::kernels;
use proptest::prelude::*;

mod support;

/// [`support::max_relative_difference`] of two tensors' values.
fn max_relative_difference(ours: TensorData, burns: TensorData) -> f32 {
    let ours: Vec<f32> = ours.iter::<f32>().collect();
    let burns: Vec<f32> = burns.iter::<f32>().collect();
    support::max_relative_difference(&ours, &burns)
}

/// (output, x grad, γ grad, β grad, running mean, running var) after one training forward and
/// backward of `Σ output · probe`, through `forward`.
fn run<const D: usize>(
    x: &TensorData,
    probe: &TensorData,
    (gamma, beta): &(TensorData, TensorData),
    forward: impl Fn(&BatchNorm, Tensor<D>) -> Tensor<D>,
) -> [TensorData; 6] {
    let device = Device::flex().autodiff();
    let mut layer = BatchNormConfig::new(gamma.num_elements()).init(&device);
    layer.gamma = Param::from_tensor(Tensor::from_data(gamma.clone(), &device));
    layer.beta = Param::from_tensor(Tensor::from_data(beta.clone(), &device));
    let x = Tensor::<D>::from_data(x.clone(), &device).require_grad();
    let output = forward(&layer, x.clone());
    let probe = Tensor::<D>::from_data(probe.clone(), &device);
    let grads = (output.clone() * probe).sum().backward();
    [
        output.into_data(),
        x.grad(&grads).unwrap().into_data(),
        layer.gamma.grad(&grads).unwrap().into_data(),
        layer.beta.grad(&grads).unwrap().into_data(),
        layer.running_mean.value().into_data(),
        layer.running_var.value().into_data(),
    ]
}

fn check<const D: usize>(shape: [usize; D], seed: u64, shift: f64) -> Result<(), TestCaseError> {
    let device = Device::flex();
    device.seed(seed);
    let x = Tensor::<D>::random(shape, Distribution::Normal(shift, 2.0), &device).into_data();
    let probe = Tensor::<D>::random(shape, Distribution::Normal(0.0, 1.0), &device).into_data();
    let channels = shape[1];
    let affine = |mean| {
        Tensor::<1>::random([channels], Distribution::Normal(mean, 0.5), &device).into_data()
    };
    let layer = (affine(1.0), affine(0.0));
    let ours = run(&x, &probe, &layer, kernels::batch_norm_layer::<D>);
    let burns = run(&x, &probe, &layer, |layer, x: Tensor<D>| layer.forward(x));
    let names = [
        "output",
        "input gradient",
        "gamma gradient",
        "beta gradient",
        "running mean",
        "running var",
    ];
    for ((ours, burns), name) in ours.into_iter().zip(burns).zip(names) {
        let difference = max_relative_difference(ours, burns);
        // f32 cancellation: with two values per channel the input gradient is a difference of
        // nearly equal terms, and Burn sums in f32 where pgl sums in f64.
        prop_assert!(
            difference < 1e-3,
            "{name} differs by {difference}: shape {shape:?}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn spatial_batch_norm_matches_burn(
        n in 1usize..6, c in 1usize..5, h in 1usize..7, w in 1usize..7,
        seed in any::<u64>(), shift in -3.0f64..3.0,
    ) {
        prop_assume!(n * h * w > 1);
        check([n, c, h, w], seed, shift)?;
    }

    #[test]
    fn flat_batch_norm_matches_burn(n in 2usize..20, c in 1usize..9, seed in any::<u64>()) {
        check([n, c], seed, 0.5)?;
    }
}

/// Evaluation (no autodiff) runs Burn's layer with the running statistics: same output.
#[test]
fn evaluation_uses_the_running_statistics() {
    let device = Device::flex();
    device.seed(4);
    let layer = BatchNormConfig::new(3).init(&device);
    let x = Tensor::<4>::random([2, 3, 4, 4], Distribution::Normal(1.0, 1.0), &device);
    let ours = kernels::batch_norm_layer(&layer, x.clone()).into_data();
    assert_eq!(ours, layer.forward(x).into_data());
}
