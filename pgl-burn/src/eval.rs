//! Evaluation: the network's test loss and accuracy, and the accuracy of every module's head.

use burn::nn::loss::CrossEntropyLoss;
use burn::prelude::*;
use pgl_data::{BatchOrder, ImageDataset};

use crate::activation::batch_tensors;
use crate::model::DecoupledModel;

/// How well a model does on a dataset.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Evaluation {
    /// Mean cross-entropy of the network's classifier.
    pub loss: f64,
    /// Accuracy of the network's classifier, in 0..=1.
    pub accuracy: f64,
    /// Accuracy of each module's head, in 0..=1 (the last one is the classifier's).
    pub module_accuracy: Vec<f64>,
    /// Number of samples evaluated.
    pub samples: usize,
}

/// Evaluates `model` on `data` in evaluation mode (BatchNorm uses its running statistics),
/// without autodiff, in batches of `batch_size`.
pub fn evaluate<M: DecoupledModel>(
    model: &M,
    data: &ImageDataset,
    batch_size: usize,
    device: &Device,
) -> Evaluation {
    let model = model.valid();
    let device = device.clone().inner();
    let modules = model.num_modules();
    let loss_fn = CrossEntropyLoss::new(None, &device);
    let order = BatchOrder::sequential(data.len(), batch_size.max(1));
    let mut correct = vec![0u64; modules];
    let mut loss_sum = 0f64;
    for b in 0..order.num_batches() {
        let batch = data.batch(order.batch_indices(b));
        let (mut x, labels) = batch_tensors(&batch, &device);
        let mut counts = Vec::with_capacity(modules + 1);
        for k in 0..modules {
            x = model.forward_module(k, x);
            let logits = model.head(k, x.clone());
            if k == modules - 1 {
                let loss = loss_fn.forward(logits.clone(), labels.clone()) * (batch.len() as f32);
                loss_sum += loss.into_scalar::<f32>() as f64;
            }
            let predicted = logits.argmax(1).squeeze_dim::<1>(1);
            counts.push(predicted.equal(labels.clone()).int().sum());
        }
        let counts = Tensor::cat(counts, 0).into_data();
        for (total, c) in correct.iter_mut().zip(counts.iter::<i64>()) {
            *total += c as u64;
        }
    }
    let n = data.len().max(1) as f64;
    let module_accuracy: Vec<f64> = correct.iter().map(|&c| c as f64 / n).collect();
    Evaluation {
        loss: loss_sum / n,
        accuracy: *module_accuracy.last().unwrap_or(&0.0),
        module_accuracy,
        samples: data.len(),
    }
}
