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
