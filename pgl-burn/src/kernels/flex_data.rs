//! Moving f32 data between flex tensors and the slice kernels.

use burn::backend::Flex;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::tensor::{Shape, TensorData};

/// Runs `read` on a flex tensor's f32 elements in row-major order (copied only when the tensor
/// is not contiguous).
pub(super) fn with_f32_slice<R>(tensor: &FloatTensor<Flex>, read: impl FnOnce(&[f32]) -> R) -> R {
    match tensor.as_slice::<f32>() {
        Some(slice) => read(slice),
        None => {
            let contiguous = tensor.to_contiguous();
            read(
                contiguous
                    .as_slice::<f32>()
                    .expect("a contiguous f32 tensor"),
            )
        }
    }
}

/// A flex tensor's f32 elements, owned.
pub(super) fn f32_values(tensor: &FloatTensor<Flex>) -> Vec<f32> {
    with_f32_slice(tensor, <[f32]>::to_vec)
}

/// A flex tensor of `shape` holding `values` (row-major).
pub(super) fn flex_tensor(values: Vec<f32>, shape: impl Into<Shape>) -> FloatTensor<Flex> {
    Flex::float_from_data(TensorData::new(values, shape), &Default::default())
}
