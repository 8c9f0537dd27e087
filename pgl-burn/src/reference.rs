//! [`Reference`]: a model as the PyTorch reference (`bench/gpu/torch_reference.py`) defines
//! it — its aux heads, its K, how it names its layers. Plain data that a zoo model's entry
//! carries and a built network hands over ([`DecoupledModel::pytorch_reference`]); the
//! exporter ([`crate::export`]) maps parameter names with it.
//!
//! [`DecoupledModel::pytorch_reference`]: crate::model::DecoupledModel::pytorch_reference

/// How a reference model names the layers of one module's body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLayout {
    /// Blocks of layers, one `nn.Sequential` per block inside the module's `nn.Sequential`:
    /// body layer `i` is `stages.k.{i / n}.{i % n}`, and its layer kind must be
    /// `pattern[i % n]` (`n` = the pattern's length).
    Blocks(&'static [&'static str]),
    /// One split unit per module, not wrapped: a stem `nn.Sequential` with the layers of
    /// `stem` (`stages.k.{i}`) or a residual block whose fields are the module's
    /// (`stages.k.conv1`).
    Unit {
        /// Layer kinds of the stem, in order.
        stem: &'static [&'static str],
    },
}

/// A model the PyTorch reference (`bench/gpu/torch_reference.py`) defines, with how it names
/// its parameters: carried by the model's own entry in the zoo (pgl-burn knows no model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    /// pgl's model name (`--model`).
    pub model: &'static str,
    /// The auxiliary heads the reference can give it (pgl's head names; the first is the
    /// model's default).
    pub aux_heads: &'static [&'static str],
    /// The numbers of modules K the reference builds it with.
    pub modules: &'static [usize],
    /// How module bodies are named.
    pub body: BodyLayout,
}
