//! The Burn backend extension that runs [`batch_norm_cpu`] on Burn's
//! CPU backend (flex), with its own backward pass under autodiff.
//!
//! Only `Flex` and `Autodiff<Flex>` implement [`PglNormBackend`]; [`super::batch_norm_layer`]
//! calls it for f32 flex tensors only and Burn's `BatchNorm::forward` otherwise.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, ExtensionType, Flex, TensorMetadata, backend_extension};
use burn::tensor::{DType, Shape};

use super::batch_norm_cpu::{self, NormGeometry};
use super::flex_data::{f32_values, flex_tensor, with_f32_slice};

/// Output and batch statistics of training-mode batch normalisation.
#[derive(ExtensionType)]
pub struct PglBatchNormTrain<B: Backend> {
    /// The normalised input, shaped like it.
    pub output: FloatTensor<B>,
    /// Batch mean per channel, `[C]` (not differentiable).
    pub mean: FloatTensor<B>,
    /// Biased batch variance per channel, `[C]` (not differentiable).
    pub variance: FloatTensor<B>,
}

/// Normalisation operations pgl implements itself for some backends.
#[backend_extension(Flex, Autodiff)]
pub trait PglNormBackend: Backend {
    /// Training-mode batch normalisation of `x` (`[N, C, ...]`, f32) over every dimension but
    /// the channels: `(x − mean) / sqrt(var + ε) · γ + β`, with the batch statistics.
    fn pgl_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> PglBatchNormTrain<Self>;
}

/// The geometry of a batch-normalised tensor, or `None` when the kernels do not handle it
/// (a dtype other than f32, fewer than two dimensions, an empty tensor).
pub(super) fn geometry_of(shape: &Shape, dtype: DType) -> Option<NormGeometry> {
    let dims: Vec<usize> = (0..shape.num_dims()).map(|axis| shape[axis]).collect();
    if dtype != DType::F32 || dims.len() < 2 {
        return None;
    }
    let geometry = NormGeometry {
        batch: dims[0],
        channels: dims[1],
        spatial: dims[2..].iter().product(),
    };
    (!geometry.is_empty()).then_some(geometry)
}

fn forward(
    x: FloatTensor<Flex>,
    gamma: FloatTensor<Flex>,
    beta: FloatTensor<Flex>,
    epsilon: f64,
) -> PglBatchNormTrain<Flex> {
    let shape = x.shape();
    let geometry = geometry_of(&shape, x.dtype()).expect("checked by batch_norm_layer");
    let (output, mean, variance) = with_f32_slice(&x, |x| {
        batch_norm_cpu::batch_norm_train(
            &geometry,
            x,
            &f32_values(&gamma),
            &f32_values(&beta),
            epsilon,
        )
    });
    let channels = Shape::new([geometry.channels]);
    PglBatchNormTrain {
        output: flex_tensor(output, shape),
        mean: flex_tensor(mean, channels.clone()),
        variance: flex_tensor(variance, channels),
    }
}

impl PglNormBackend for Flex {
    fn pgl_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> PglBatchNormTrain<Self> {
        forward(x, gamma, beta, epsilon)
    }
}

/// The backward pass of [`PglNormBackend::pgl_batch_norm_train`] on flex.
#[derive(Debug)]
struct PglBatchNormBackward;

impl Backward<Flex, 3> for PglBatchNormBackward {
    /// Input and γ (checkpointed), the batch mean and variance, ε.
    type State = (NodeId, NodeId, FloatTensor<Flex>, FloatTensor<Flex>, f64);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        checkpointer: &mut Checkpointer,
    ) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let output_grad = grads.consume::<Flex>(&ops.node);
        let (x_state, gamma_state, mean, variance, epsilon) = ops.state;
        let x = checkpointer.retrieve_node_output::<FloatTensor<Flex>>(x_state);
        let gamma = checkpointer.retrieve_node_output::<FloatTensor<Flex>>(gamma_state);
        let shape = x.shape();
        let geometry = geometry_of(&shape, x.dtype()).expect("checked in the forward pass");
        let (x_grad, gamma_grad, beta_grad) = with_f32_slice(&x, |x| {
            with_f32_slice(&output_grad, |output_grad| {
                batch_norm_cpu::batch_norm_train_backward(
                    &geometry,
                    x,
                    &f32_values(&gamma),
                    &f32_values(&mean),
                    &f32_values(&variance),
                    epsilon,
                    output_grad,
                )
            })
        });
        let channels = Shape::new([geometry.channels]);
        if let Some(node) = node_x {
            grads.register::<Flex>(node.id, flex_tensor(x_grad, shape));
        }
        if let Some(node) = node_gamma {
            grads.register::<Flex>(node.id, flex_tensor(gamma_grad, channels.clone()));
        }
        if let Some(node) = node_beta {
            grads.register::<Flex>(node.id, flex_tensor(beta_grad, channels));
        }
    }
}

impl<C: CheckpointStrategy> PglNormBackend for Autodiff<Flex, C> {
    fn pgl_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> PglBatchNormTrain<Self> {
        match PglBatchNormBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let gamma_state = prep.checkpoint(&gamma);
                let result = forward(
                    x.into_primitive(),
                    gamma.into_primitive(),
                    beta.into_primitive(),
                    epsilon,
                );
                let state = (
                    x_state,
                    gamma_state,
                    result.mean.clone(),
                    result.variance.clone(),
                    epsilon,
                );
                PglBatchNormTrain {
                    output: prep.finish(state, result.output),
                    mean: FloatTensor::<Self>::new(result.mean),
                    variance: FloatTensor::<Self>::new(result.variance),
                }
            }
            OpsKind::UnTracked(prep) => {
                let result = forward(
                    x.into_primitive(),
                    gamma.into_primitive(),
                    beta.into_primitive(),
                    epsilon,
                );
                PglBatchNormTrain {
                    output: prep.finish(result.output),
                    mean: FloatTensor::<Self>::new(result.mean),
                    variance: FloatTensor::<Self>::new(result.variance),
                }
            }
        }
    }
}
