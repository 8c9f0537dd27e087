//! [`DecoupledModel`]: a Burn module cut into K decoupled modules with one head each.

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn::tensor::Gradients;

use crate::activation::Activation;
use crate::head::HeadStack;

/// A network cut into K modules `f_1..f_K`, with an auxiliary head `a_k` after each module
/// k < K and the network's own classifier after module K.
///
/// Modules are indexed from 0. `head(k, ..)` is the auxiliary head of module `k` for
/// `k < K-1` and the classifier for `k = K-1`; each head belongs to its module: the module's
/// optimizer updates both, and [`module_grads`](Self::module_grads) returns both.
pub trait DecoupledModel: Module + Sized {
    /// Number of modules K (at least 1).
    fn num_modules(&self) -> usize;

    /// Forward of module `k`'s body.
    fn forward_module(&self, k: usize, input: Activation) -> Activation;

    /// Logits `[batch, classes]` of module `k`'s head on module `k`'s output.
    fn head(&self, k: usize, features: Activation) -> Tensor<2>;

    /// Removes from `grads` the gradients of module `k`'s parameters and of its head's.
    fn module_grads(&self, k: usize, grads: &mut Gradients) -> GradientsParams;

    /// Number of parameters of module `k` and its head.
    fn module_num_params(&self, k: usize) -> usize;

    /// Splits the model into consecutive groups of `sizes[i]` modules each (the sizes add up
    /// to K), each a model of its own, for pipelined training. Module `k` of group `g` is
    /// module `sizes[..g].sum() + k` of the whole.
    fn into_groups(self, sizes: &[usize]) -> Vec<Self>;

    /// The inverse of [`into_groups`](Self::into_groups).
    fn from_groups(groups: Vec<Self>) -> Self;

    /// A new head of the same design as module `k`'s auxiliary head, on features of shape
    /// `features` (without the batch dimension), ending in `outputs` outputs, with parameters
    /// of its own (initialised lazily): what the contrastive term of `proj=aux` projects
    /// through ([`crate::objective`]). `None` (the default) when the model cannot make one;
    /// the trainer then refuses `proj=aux`, and `proj=auto` (the default) projects through an
    /// MLP instead.
    fn aux_head_like(
        &self,
        k: usize,
        features: &[usize],
        outputs: usize,
        device: &Device,
    ) -> Option<HeadStack> {
        let _ = (k, features, outputs, device);
        None
    }

    /// How the model's convolutions were initialised; the local objective's extra heads
    /// (decoders, projections) are initialised the same way, as InfoPro's initialisation loop
    /// covers its decoders and auxiliary networks. [`ConvInit::Default`] unless the model says.
    fn conv_init(&self) -> ConvInit {
        ConvInit::Default
    }

    /// The PyTorch reference model this network is, with the names its weights have there
    /// (what `--names pytorch` exports and an import recognises); `None` (the default) when
    /// the reference defines no such model.
    fn pytorch_reference(&self) -> Option<&'static crate::reference::Reference> {
        None
    }

    /// The network's logits: every module in order, then the classifier.
    fn forward(&self, input: Activation) -> Tensor<2> {
        let last = self.num_modules() - 1;
        let mut x = input;
        for k in 0..=last {
            x = self.forward_module(k, x);
        }
        self.head(last, x)
    }
}

struct Initializer;

impl burn::module::ModuleVisitor for Initializer {
    fn visit_float<const D: usize>(&mut self, param: &burn::module::Param<Tensor<D>>) {
        let _ = param.val();
    }
}

/// `items` cut into consecutive groups of `sizes[i]` items, in order: how a model's modules,
/// their objective heads and their optimizers are split into pipeline groups (see
/// [`DecoupledModel::into_groups`]). A group gets fewer items when `items` runs out.
pub fn split_into_groups<T>(items: Vec<T>, sizes: &[usize]) -> Vec<Vec<T>> {
    let mut items = items.into_iter();
    sizes
        .iter()
        .map(|&n| items.by_ref().take(n).collect())
        .collect()
}

/// Initialises every parameter of `module` now.
///
/// Burn initialises parameters lazily, at first use, from a process-wide generator; pgl calls
/// this right after `device.seed(seed)` and construction, so the seed alone determines the
/// initial weights, whatever else draws random numbers later.
pub fn initialize_now<M: Module>(module: &M) {
    module.visit(&mut Initializer);
}

/// A seed for one part of a model: a pure function of the run's `seed`, a `salt` naming the
/// kind of part (body block, head, ...) and the part's `index`.
///
/// Used with [`initialize_seeded`] so that each part's initial weights depend on these three
/// numbers alone, not on how many other parts there are or in which order they are built.
pub fn derive_seed(seed: u64, salt: u64, index: u64) -> u64 {
    use pgl_data::rng::SplitMix64;
    let seed = SplitMix64::new(seed).next_u64();
    let salted = SplitMix64::new(seed ^ salt).next_u64();
    SplitMix64::new(salted ^ index).next_u64()
}

/// Serialises [`initialize_seeded`] calls: Burn's backends keep one process-wide generator.
static SEEDED_INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Seeds `device` with `seed` and initialises every parameter of `module` at once, so the
/// module's initial weights are a function of `seed` (and its shapes) alone.
///
/// The generator is process-wide; calls are serialised so that two threads initialising
/// modules at the same time do not draw from each other's stream. (Random numbers drawn
/// elsewhere in the process without this function are not excluded.)
pub fn initialize_seeded<M: Module>(module: &M, device: &Device, seed: u64) {
    let _guard = SEEDED_INIT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    device.seed(seed);
    initialize_now(module);
}

/// How convolution weights are initialised (a model option: `--conv-init`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConvInit {
    /// Burn's default, which is also PyTorch's: uniform in `±1/√fan_in` (`default`).
    #[default]
    Default,
    /// He et al.'s normal initialisation with fan-out, `N(0, 2 / (out_channels · kh · kw))`
    /// (`he-normal-fan-out`): InfoPro's (`InfoProResNet.__init__`, `Experiments on
    /// CIFAR-SVHN-STL10/networks/resnet.py` lines 141–147), DGL's ResNet's and torchvision's
    /// (`kaiming_normal_(mode="fan_out", nonlinearity="relu")`). Convolution biases, linear
    /// layers and batch norms keep their defaults, as in those codes.
    HeNormalFanOut,
}

impl ConvInit {
    /// Every choice, in the order help texts list them.
    pub const ALL: [ConvInit; 2] = [ConvInit::Default, ConvInit::HeNormalFanOut];

    /// The name used in configs and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ConvInit::Default => "default",
            ConvInit::HeNormalFanOut => "he-normal-fan-out",
        }
    }
}

/// Redraws every 4-D parameter (a convolution weight `[out, in, kh, kw]`) from
/// `N(0, 2 / (out · kh · kw))`, in visit order; other parameters pass through.
struct HeNormalFanOut;

impl burn::module::ModuleMapper for HeNormalFanOut {
    fn map_float<const D: usize>(
        &mut self,
        param: burn::module::Param<Tensor<D>>,
    ) -> burn::module::Param<Tensor<D>> {
        if D != 4 {
            return param;
        }
        param.map(|old| {
            let dims = old.dims();
            let fan_out = dims[0] * dims[2] * dims[3];
            let std = (2.0 / fan_out as f64).sqrt();
            let normal = burn::tensor::Distribution::Normal(0.0, std);
            let fresh = Tensor::<D>::random(old.shape(), normal, &old.device());
            if old.is_require_grad() {
                fresh.require_grad()
            } else {
                fresh
            }
        })
    }
}

/// [`initialize_seeded`] with convolution weights drawn as `conv_init` says: the module's
/// initial weights are a function of `seed`, its shapes and `conv_init` alone. With
/// [`ConvInit::HeNormalFanOut`] every parameter is first initialised as with
/// [`ConvInit::Default`], then the convolution weights are redrawn from the same stream, so
/// everything but those weights is the same as with the default.
pub fn initialize_seeded_with<M: Module>(
    module: M,
    device: &Device,
    seed: u64,
    conv_init: ConvInit,
) -> M {
    match conv_init {
        ConvInit::Default => {
            initialize_seeded(&module, device, seed);
            module
        }
        ConvInit::HeNormalFanOut => {
            let _guard = SEEDED_INIT
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            device.seed(seed);
            initialize_now(&module);
            module.map(&mut HeNormalFanOut)
        }
    }
}

/// Applies every pending BatchNorm running-statistic update of `module`.
///
/// Burn keeps running-state updates per thread and folds them in lazily (averaging the
/// pending updates of all threads). Whenever modules move between threads (the pipeline hands
/// them to worker threads and back), pgl settles them first, so that every update is folded in
/// exactly once, in order, and a pipelined run equals a sequential one.
pub fn settle_running_stats<M: Module>(module: &M) {
    let _ = module.valid();
}
