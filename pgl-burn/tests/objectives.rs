//! The loss terms of local objectives on tiny tensors, loss and gradient against references
//! computed by hand (closed forms, or a plain f64 implementation of the formula with central
//! differences for the supervised contrastive loss).

use std::sync::Arc;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLoss;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Gradients;
use pgl_burn::Activation;
use pgl_burn::DecoupledModel;
use pgl_burn::objective::ce::ClassificationLoss;
use pgl_burn::objective::ce::classification_term;
use pgl_burn::objective::infopro::{
    Decoder, ReconstructionTarget, bce_with_logits, reconstruction_loss, reconstruction_term,
};
use pgl_burn::objective::supcon::supcon_loss;
use pgl_burn::objective::{
    LocalTargets, LossTerm, ModuleHeads, ReconstructionLoss, TermHead, WeightedTerms, module_loss,
};

fn device() -> Device {
    Device::flex().autodiff()
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

fn assert_all_close(what: &str, got: &[f32], expected: &[f64], tolerance: f64) {
    assert_eq!(got.len(), expected.len(), "{what}: length");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (f64::from(*g) - e).abs() <= tolerance,
            "{what}[{i}]: {g}, expected {e}"
        );
    }
}

/// One module that passes its input through, whose head is the identity: the features are
/// the logits, so a term's gradient with respect to them is the gradient of the loss alone.
#[derive(Module, Debug)]
struct Passthrough;

impl DecoupledModel for Passthrough {
    fn num_modules(&self) -> usize {
        1
    }
    fn forward_module(&self, _k: usize, input: Activation) -> Activation {
        input
    }
    fn head(&self, _k: usize, features: Activation) -> Tensor<2> {
        features.into_flat()
    }
    fn module_grads(&self, _k: usize, _grads: &mut Gradients) -> GradientsParams {
        GradientsParams::new()
    }
    fn module_num_params(&self, _k: usize) -> usize {
        0
    }
    fn into_groups(self, _sizes: &[usize]) -> Vec<Self> {
        vec![self]
    }
    fn from_groups(_groups: Vec<Self>) -> Self {
        Passthrough
    }
}

fn labels(values: &[i64], device: &Device) -> Tensor<1, Int> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}

#[test]
fn the_classification_term_is_the_cross_entropy_with_its_softmax_gradient() {
    // logits [[0, 0, 0], [0, 0, ln 2]], labels [0, 2]:
    //   row 0: −log(1/3) = ln 3;  row 1: −log(2/4) = ln 2;  loss = (ln 3 + ln 2) / 2 = ln 6 / 2
    //   ∂loss/∂logits = (softmax − one-hot) / 2 = [[−1/3, 1/6, 1/6], [1/8, 1/8, −1/4]]
    let device = device();
    let ln2 = std::f32::consts::LN_2;
    let logits =
        Tensor::<2>::from_floats([[0.0, 0.0, 0.0], [0.0, 0.0, ln2]], &device).require_grad();
    let loss_fn = CrossEntropyLoss::new(None, &device);
    let y = labels(&[0, 2], &device);
    let loss = classification_term(
        &Passthrough,
        0,
        Activation::Flat(logits.clone()),
        &y,
        &loss_fn,
    );
    assert_all_close("loss", &values(loss.clone()), &[6f64.ln() / 2.0], 1e-6);
    let grads = loss.backward();
    let grad = values(logits.grad(&grads).unwrap());
    let expected = [-1.0 / 3.0, 1.0 / 6.0, 1.0 / 6.0, 0.125, 0.125, -0.25];
    assert_all_close("gradient", &grad, &expected, 1e-6);
}

#[test]
fn the_reconstruction_loss_is_the_mean_squared_error_with_its_gradient() {
    // reconstruction [1, 2, 3, 4] against [0, 2, 5, 4]: differences [1, 0, −2, 0],
    //   loss = (1 + 0 + 4 + 0) / 4 = 1.25, ∂loss/∂reconstruction = 2·difference / 4.
    let device = device();
    let reconstruction =
        Tensor::<4>::from_floats([[[[1.0, 2.0], [3.0, 4.0]]]], &device).require_grad();
    let images = Tensor::<4>::from_floats([[[[0.0, 2.0], [5.0, 4.0]]]], &device);
    let loss = reconstruction_loss(
        Activation::Spatial(reconstruction.clone()),
        Activation::Spatial(images),
    );
    assert_all_close("loss", &values(loss.clone()), &[1.25], 1e-6);
    let grads = loss.backward();
    let grad = values(reconstruction.grad(&grads).unwrap());
    assert_all_close("gradient", &grad, &[0.5, 0.0, -1.0, 0.0], 1e-6);
}

/// `−t·ln σ(z) − (1 − t)·ln(1 − σ(z))` in f64: PyTorch's `BCELoss` of one sigmoid output.
fn bce_reference(z: f64, t: f64) -> f64 {
    let p = 1.0 / (1.0 + (-z).exp());
    -(t * p.ln() + (1.0 - t) * (1.0 - p).ln())
}

#[test]
fn the_bce_reconstruction_compares_the_sigmoid_with_the_denormalised_image() {
    // Two channels normalised with means (0.5, 0.2) and stds (0.25, 0.1): the normalised
    // images [[-2, 2], [0, 1]] (channel 0) and [[-2, 8], [3, 0]] (channel 1) are the pixels
    // t = [[0, 1], [0.5, 0.75]] and [[0, 1], [0.5, 0.2]]. loss = mean BCE(σ(z), t) over the 8
    // values, ∂loss/∂z = (σ(z) − t) / 8.
    let device = device();
    let z = [[[0.0, 2.0], [-1.0, 0.5]], [[3.0, -0.25], [0.0, -4.0]]];
    let t = [0.0, 1.0, 0.5, 0.75, 0.0, 1.0, 0.5, 0.2];
    let logits = Tensor::<4>::from_floats([z], &device).require_grad();
    let images = Tensor::<4>::from_floats(
        [[[[-2.0, 2.0], [0.0, 1.0]], [[-2.0, 8.0], [3.0, 0.0]]]],
        &device,
    );
    let target = ReconstructionTarget::Bce {
        mean: vec![0.5, 0.2],
        std: vec![0.25, 0.1],
    };
    let loss = target.loss(
        Activation::Spatial(logits.clone()),
        &Activation::Spatial(images),
    );
    let flat: Vec<f64> = z.iter().flatten().flatten().copied().collect();
    let expected = flat
        .iter()
        .zip(t)
        .map(|(&z, t)| bce_reference(z, t))
        .sum::<f64>()
        / 8.0;
    assert_all_close("loss", &values(loss.clone()), &[expected], 1e-6);
    let grads = loss.backward();
    let sigmoid = |z: f64| 1.0 / (1.0 + (-z).exp());
    let expected: Vec<f64> = flat
        .iter()
        .zip(t)
        .map(|(&z, t)| (sigmoid(z) - t) / 8.0)
        .collect();
    assert_all_close(
        "gradient",
        &values(logits.grad(&grads).unwrap()),
        &expected,
        1e-7,
    );
}

#[test]
fn the_bce_stays_finite_where_the_sigmoid_saturates() {
    // At |z| = 60 PyTorch's σ(z) rounds to 0 or 1 in f32; the fused form gives the exact loss
    // (|z| for the wrong side, e^−60 for the right one) and the gradient σ(z) − t.
    let device = device();
    let logits = Tensor::<2>::from_floats([[60.0, -60.0, 60.0, -60.0]], &device).require_grad();
    let targets = Tensor::<2>::from_floats([[0.0, 1.0, 1.0, 0.0]], &device);
    let loss = bce_with_logits(logits.clone(), targets);
    assert_all_close("loss", &values(loss.clone()), &[(60.0 + 60.0) / 4.0], 1e-4);
    let grads = loss.backward();
    let grad = values(logits.grad(&grads).unwrap());
    assert_all_close("gradient", &grad, &[0.25, -0.25, 0.0, 0.0], 1e-7);
}

/// The supervised contrastive loss of InfoPro's `SupConLoss` (one view, every sample an
/// anchor), written out in f64 over plain vectors.
fn supcon_reference(projections: &[[f64; 2]], labels: &[i64], temperature: f64) -> f64 {
    let n = projections.len();
    let z: Vec<[f64; 2]> = projections
        .iter()
        .map(|p| {
            let norm = (p[0] * p[0] + p[1] * p[1]).sqrt().max(1e-12);
            [p[0] / norm, p[1] / norm]
        })
        .collect();
    let mut total = 0.0;
    for i in 0..n {
        let s: Vec<f64> = (0..n)
            .map(|j| (z[i][0] * z[j][0] + z[i][1] * z[j][1]) / temperature)
            .collect();
        let max = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let log_denominator = (0..n)
            .filter(|&j| j != i)
            .map(|j| (s[j] - max).exp())
            .sum::<f64>()
            .ln();
        let positives: Vec<usize> = (0..n)
            .filter(|&j| j != i && labels[j] == labels[i])
            .collect();
        let sum: f64 = positives
            .iter()
            .map(|&j| s[j] - max - log_denominator)
            .sum();
        total += -(temperature / 0.07) * sum / positives.len().max(1) as f64;
    }
    total / n as f64
}

#[test]
fn the_supervised_contrastive_loss_matches_the_reference_and_its_gradient() {
    // Unnormalised projections of the unit vectors (1, 0), (0.6, 0.8), (0, 1); labels 0, 0, 1;
    // T = 0.5. Scaled similarities minus each row's max (2):
    //   [[0, −0.8, −2], [−0.8, 0, −0.4], [−2, −0.4, 0]]
    //   ℓ_0 = (0.5/0.07)·(0.8 + ln(e^−0.8 + e^−2)) = 1.880589
    //   ℓ_1 = (0.5/0.07)·(0.8 + ln(e^−0.8 + e^−0.4)) = 6.521538
    //   ℓ_2 = 0 (no positive)                      loss = 8.402127 / 3 = 2.800709
    let points = [[2.0, 0.0], [0.3, 0.4], [0.0, 3.0]];
    let y = [0, 0, 1];
    let t = 0.5;
    let reference = supcon_reference(&points, &y, t);
    assert!((reference - 2.800709).abs() < 1e-5, "reference {reference}");

    let device = device();
    let rows: Vec<f32> = points.iter().flatten().map(|v| *v as f32).collect();
    let projections = Tensor::<2>::from_data(TensorData::new(rows, [3, 2]), &device).require_grad();
    let loss = supcon_loss(projections.clone(), &labels(&y, &device), t);
    assert_all_close("loss", &values(loss.clone()), &[reference], 1e-5);
    let grads = loss.backward();
    let grad = values(projections.grad(&grads).unwrap());
    // Central differences of the reference.
    let h = 1e-6;
    let mut expected = Vec::new();
    for i in 0..3 {
        for d in 0..2 {
            let (mut up, mut down) = (points, points);
            up[i][d] += h;
            down[i][d] -= h;
            expected
                .push((supcon_reference(&up, &y, t) - supcon_reference(&down, &y, t)) / (2.0 * h));
        }
    }
    assert_all_close("gradient", &grad, &expected, 1e-4);
    assert!(
        expected.iter().any(|g| g.abs() > 0.1),
        "a gradient worth checking"
    );
}

#[test]
fn the_default_temperature_scales_nothing_and_a_batch_without_positives_costs_nothing() {
    let device = device();
    let points = [[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [-0.6, 0.8]];
    let y = [0, 1, 0, 1];
    let rows: Vec<f32> = points.iter().flatten().map(|v| *v as f32).collect();
    let p = Tensor::<2>::from_data(TensorData::new(rows, [4, 2]), &device);
    let loss = values(supcon_loss(p.clone(), &labels(&y, &device), 0.07))[0];
    assert!((f64::from(loss) - supcon_reference(&points, &y, 0.07)).abs() < 1e-4);
    let alone = values(supcon_loss(p, &labels(&[0, 1, 2, 3], &device), 0.07))[0];
    assert_eq!(alone, 0.0);
}

#[test]
fn batches_of_one_and_two_samples_give_a_defined_loss_and_gradient() {
    // One sample has nothing to contrast with (the reference's log 0 gives NaN): loss 0, no
    // gradient. Two samples of different labels have no positive pair: loss 0. Two of the
    // same label: the formula, finite.
    let device = device();
    for (points, y, expected) in [
        (vec![[2.0f32, 1.0]], vec![3], Some(0.0)),
        (vec![[2.0, 1.0], [0.5, -1.0]], vec![3, 4], Some(0.0)),
        (vec![[2.0, 1.0], [0.5, -1.0]], vec![3, 3], None),
    ] {
        let n = points.len();
        let rows: Vec<f32> = points.iter().flatten().copied().collect();
        let p = Tensor::<2>::from_data(TensorData::new(rows, [n, 2]), &device).require_grad();
        let loss = supcon_loss(p.clone(), &labels(&y, &device), 0.07);
        let value = values(loss.clone())[0];
        assert!(value.is_finite(), "batch of {n} ({y:?}): loss {value}");
        if let Some(expected) = expected {
            assert_eq!(value, expected, "batch of {n} ({y:?})");
        }
        let grads = loss.backward();
        let grad = values(p.grad(&grads).unwrap());
        assert!(
            grad.iter().all(|g| g.is_finite()),
            "batch of {n} ({y:?}): gradient {grad:?}"
        );
        if expected.is_some() {
            assert!(grad.iter().all(|g| *g == 0.0), "{grad:?}");
        }
    }
}

#[test]
fn a_module_loss_is_the_weighted_sum_of_its_terms_in_value_and_gradient() {
    // InfoPro-style weights on flat features: 2·L_rec(decoder(h), x) + 0.5·CE(h, y), with
    // either reconstruction loss.
    let bce = ReconstructionTarget::Bce {
        mean: vec![0.5],
        std: vec![0.25],
    };
    for target in [ReconstructionTarget::Mse, bce] {
        weighted_sum(target);
    }
}

fn weighted_sum(target: ReconstructionTarget) {
    let device = device();
    let image = [1, 2, 2];
    let features = Tensor::<2>::from_floats([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]], &device);
    let images = Activation::Spatial(Tensor::<4>::from_floats(
        [[[[0.1, 0.2], [0.3, 0.4]]], [[[-0.1, 0.0], [0.5, 1.0]]]],
        &device,
    ));
    let y = labels(&[2, 0], &device);
    let loss_fn = CrossEntropyLoss::new(None, &device);
    let decoder = Decoder::new(&[3], image, &device);
    let reconstruction: Arc<dyn LossTerm> = Arc::new(ReconstructionLoss::new(target.clone()));
    let heads = ModuleHeads {
        heads: vec![Some(TermHead::Decoder(decoder.clone())), None],
        terms: WeightedTerms(vec![
            (reconstruction, 2.0),
            (Arc::new(ClassificationLoss), 0.5),
        ]),
    };
    let targets = LocalTargets {
        labels: &y,
        images: Some(&images),
    };
    let decoder = &decoder;
    let run = |f: &dyn Fn(Activation) -> Tensor<1>| {
        let h = features.clone().require_grad();
        let loss = f(Activation::Flat(h.clone()));
        let grads = loss.backward();
        (values(loss)[0], values(h.grad(&grads).unwrap()))
    };
    let (total, total_grad) =
        run(&|h| module_loss(&Passthrough, 0, h, targets, Some(&heads), &loss_fn));
    let (rec, rec_grad) = run(&|h| reconstruction_term(decoder, &target, h, &images));
    let (ce, ce_grad) = run(&|h| classification_term(&Passthrough, 0, h, &y, &loss_fn));
    assert!(
        (total - (2.0 * rec + 0.5 * ce)).abs() < 1e-5,
        "{target:?}: {total} vs {rec}, {ce}"
    );
    let expected: Vec<f64> = rec_grad
        .iter()
        .zip(&ce_grad)
        .map(|(r, c)| 2.0 * f64::from(*r) + 0.5 * f64::from(*c))
        .collect();
    assert_all_close("gradient", &total_grad, &expected, 1e-5);
    // Cross-entropy alone is the classification term itself, bit for bit.
    let (only_ce, _) = run(&|h| module_loss(&Passthrough, 0, h, targets, None, &loss_fn));
    assert_eq!(only_ce.to_bits(), ce.to_bits());
    let ce_alone = ModuleHeads {
        heads: vec![None],
        terms: WeightedTerms(vec![(Arc::new(ClassificationLoss), 1.0)]),
    };
    let (ce_term, _) =
        run(&|h| module_loss(&Passthrough, 0, h, targets, Some(&ce_alone), &loss_fn));
    assert_eq!(ce_term.to_bits(), ce.to_bits());
}
