//! [`Activation`]: what flows between modules, flat (`[batch, features]`) or spatial
//! (`[batch, channels, height, width]`).

use burn::prelude::*;

/// The output of a module and the input of the next one.
#[derive(Debug, Clone)]
pub enum Activation {
    /// `[batch, features]`.
    Flat(Tensor<2>),
    /// `[batch, channels, height, width]`.
    Spatial(Tensor<4>),
}

impl Activation {
    /// The same values cut from the autodiff graph: gradients stop here.
    pub fn detach(self) -> Self {
        match self {
            Activation::Flat(t) => Activation::Flat(t.detach()),
            Activation::Spatial(t) => Activation::Spatial(t.detach()),
        }
    }

    /// As `[batch, features]`, flattening a spatial activation.
    pub fn into_flat(self) -> Tensor<2> {
        match self {
            Activation::Flat(t) => t,
            Activation::Spatial(t) => {
                let [b, c, h, w] = t.dims();
                t.reshape([b, c * h * w])
            }
        }
    }

    /// As `[batch, channels, height, width]`.
    ///
    /// # Panics
    /// When the activation is flat: a model that puts a convolution after a flat layer is wrong.
    pub fn into_spatial(self) -> Tensor<4> {
        match self {
            Activation::Spatial(t) => t,
            Activation::Flat(t) => panic!(
                "a spatial layer received a flat activation of shape {:?}",
                t.dims()
            ),
        }
    }

    /// Number of samples in the batch.
    pub fn batch_size(&self) -> usize {
        match self {
            Activation::Flat(t) => t.dims()[0],
            Activation::Spatial(t) => t.dims()[0],
        }
    }

    /// The same values as a leaf whose gradient the backward pass keeps (see [`grad`](Self::grad)).
    pub fn require_grad(self) -> Self {
        match self {
            Activation::Flat(t) => Activation::Flat(t.require_grad()),
            Activation::Spatial(t) => Activation::Spatial(t.require_grad()),
        }
    }

    /// This leaf's gradient in `grads` (a constant: no autodiff), when it has one.
    pub fn grad(&self, grads: &burn::tensor::Gradients) -> Option<Self> {
        match self {
            Activation::Flat(t) => t.grad(grads).map(Activation::Flat),
            Activation::Spatial(t) => t.grad(grads).map(Activation::Spatial),
        }
    }

    /// `Σ self · other` over every element: the scalar whose gradient with respect to `self`
    /// is `other` (both of the same shape).
    pub fn dot(self, other: Activation) -> Tensor<1> {
        (self.into_flat() * other.into_flat()).sum()
    }

    /// Samples `start..start + len` of the batch (the same graph: gradients flow back).
    pub fn narrow_batch(&self, start: usize, len: usize) -> Self {
        match self {
            Activation::Flat(t) => Activation::Flat(t.clone().narrow(0, start, len)),
            Activation::Spatial(t) => Activation::Spatial(t.clone().narrow(0, start, len)),
        }
    }

    /// The shape, as a vector of dimensions.
    pub fn dims(&self) -> Vec<usize> {
        match self {
            Activation::Flat(t) => t.dims().to_vec(),
            Activation::Spatial(t) => t.dims().to_vec(),
        }
    }
}

/// A pgl-data [`Batch`](pgl_data::Batch) as tensors on `device`: images `[b, c, h, w]` and
/// class labels `[b]`.
pub fn batch_tensors(batch: &pgl_data::Batch, device: &Device) -> (Activation, Tensor<1, Int>) {
    let images = Tensor::<4>::from_data(TensorData::new(batch.images.clone(), batch.shape), device);
    let labels: Vec<i64> = batch.labels.iter().map(|&l| i64::from(l)).collect();
    let labels = Tensor::<1, Int>::from_data(TensorData::new(labels, [batch.len()]), device);
    (Activation::Spatial(images), labels)
}
