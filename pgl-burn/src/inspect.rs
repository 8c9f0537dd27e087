//! Reading a module's parameters as plain numbers: for tests (gradient checks, bit-identical
//! resume) and for tools that compare models.

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;

/// One float parameter (or buffer) of a module.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamValues {
    /// Dotted path of the parameter inside the module, e.g. `stages.1.body.0.Conv.weight`.
    pub path: String,
    /// Whether the optimizer trains it (false for buffers such as BatchNorm running stats).
    pub trainable: bool,
    /// Its shape (a convolution weight's is `[out, in, kh, kw]`).
    pub shape: Vec<usize>,
    /// Its values, flattened in row-major order.
    pub values: Vec<f32>,
}

#[derive(Default)]
struct Collector {
    path: Vec<String>,
    out: Vec<ParamValues>,
}

impl ModuleVisitor for Collector {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        self.out.push(ParamValues {
            path: self.path.join("."),
            trainable: tensor.is_require_grad(),
            shape: tensor.dims().to_vec(),
            values: tensor.into_data().iter::<f32>().collect(),
        });
    }
}

/// Every float parameter and buffer of `module`, in visiting order.
pub fn param_values<M: Module>(module: &M) -> Vec<ParamValues> {
    let mut collector = Collector::default();
    module.visit(&mut collector);
    collector.out
}

/// A parameter or buffer whose values no trained model has: a NaN or an infinity anywhere, or
/// a negative BatchNorm running variance.
#[derive(Debug, Clone, PartialEq)]
pub struct BrokenTensor {
    /// Its path, as in [`ParamValues::path`].
    pub path: String,
    /// What is wrong, e.g. `3 of 128 values are not finite (the first, at index 5, is NaN)`.
    pub reason: String,
}

impl std::fmt::Display for BrokenTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tensor `{}`: {}", self.path, self.reason)
    }
}

/// The name Burn's BatchNorm gives its running variance.
const RUNNING_VAR: &str = "running_var";

/// Every float parameter and buffer of `module` that holds a non-finite value, or, for a
/// BatchNorm running variance, a negative one (a variance never is; normalising by the square
/// root of one gives NaN); empty for a sound module. Loading weights from a file calls it, so
/// that a damaged or hand-edited file is refused before training or evaluating on it.
pub fn broken_tensors<M: Module>(module: &M) -> Vec<BrokenTensor> {
    broken_values(param_values(module))
}

/// [`broken_tensors`] of parameters already read ([`param_values`], possibly a selection).
pub fn broken_values(values: Vec<ParamValues>) -> Vec<BrokenTensor> {
    let mut broken = Vec::new();
    for p in values {
        let total = p.values.len();
        let bad: Vec<(usize, f32)> = p
            .values
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, v)| !v.is_finite())
            .collect();
        if let Some((index, value)) = bad.first() {
            broken.push(BrokenTensor {
                reason: format!(
                    "{} of {total} values are not finite (the first, at index {index}, is {value})",
                    bad.len()
                ),
                path: p.path,
            });
            continue;
        }
        let is_variance = p.path.rsplit('.').next() == Some(RUNNING_VAR);
        let negative: Vec<(usize, f32)> = p
            .values
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, v)| *v < 0.0)
            .collect();
        if let (true, Some((index, value))) = (is_variance, negative.first()) {
            broken.push(BrokenTensor {
                reason: format!(
                    "a BatchNorm running variance with {} negative values of {total} (the first, at index {index}, is {value})",
                    negative.len()
                ),
                path: p.path,
            });
        }
    }
    broken
}

/// `broken` as one line for an error message: the first few, and how many more.
pub fn describe_broken(broken: &[BrokenTensor]) -> String {
    let mut shown: Vec<String> = broken.iter().take(3).map(ToString::to_string).collect();
    if broken.len() > 3 {
        shown.push(format!("and {} more such tensors", broken.len() - 3));
    }
    shown.join("; ")
}

struct GradCollector<'a> {
    grads: &'a burn::tensor::Gradients,
    path: Vec<String>,
    out: Vec<(String, Option<Vec<f32>>)>,
}

impl ModuleVisitor for GradCollector<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }
    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        if tensor.is_require_grad() {
            let grad = tensor
                .grad(self.grads)
                .map(|g| g.into_data().iter::<f32>().collect());
            self.out.push((self.path.join("."), grad));
        }
    }
}

/// The gradient in `grads` of every trainable parameter of `module` (`None` where the loss
/// does not depend on it), with the paths of [`param_values`].
pub fn param_grads<M: Module>(
    module: &M,
    grads: &burn::tensor::Gradients,
) -> Vec<(String, Option<Vec<f32>>)> {
    let mut collector = GradCollector {
        grads,
        path: Vec::new(),
        out: Vec::new(),
    };
    module.visit(&mut collector);
    collector.out
}
