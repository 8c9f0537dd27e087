//! [`ModelCatalog`]: the model table and the head table, and building a model from them with
//! initial weights that depend on the seed alone.
//!
//! # Initialisation
//! Burn initialises parameters lazily from one process-wide generator, so weights drawn in
//! visit order would depend on K and on the heads (they alternate with the blocks). Instead,
//! [`ModelCatalog::build`] initialises block `i` from `(seed, "block", i)`, the auxiliary head
//! of module `k` from `(seed, "head", k)` and the classifier from `(seed, "classifier")`
//! ([`pgl_burn::model::derive_seed`]). The body of a model therefore starts from the same
//! weights for every K, split and head, and so does the classifier whenever its input shape
//! is the same. With `conv_init = he-normal-fan-out` the convolution weights of each part are
//! drawn from `N(0, 2 / fan_out)` from the same seed instead
//! ([`pgl_burn::model::initialize_seeded_with`]); option-B shortcuts are part of their block.

use pgl_burn::burn::module::Module;
use pgl_burn::burn::prelude::*;
use pgl_burn::burn::tensor::Distribution;
use pgl_burn::model::{derive_seed, initialize_seeded_with};
use pgl_core::SplitPlan;

use crate::entry::ModelEntry;
use crate::error::ModelError;
use crate::heads::{AuxHead, find_head};
use crate::input::ModelInput;
use crate::layer::Layer;
use crate::net::DecoupledNet;
use crate::options::{ModelOptions, Shortcut, SplitKind};
use crate::{cnn, mlp, resnet, vgg};

/// The built-in models, in the order `pgl models` lists them: the model table.
pub const BUILTIN_MODELS: &[ModelEntry] = &[
    mlp::MLP,
    cnn::CNN,
    resnet::RESNET32,
    resnet::RESNET56,
    resnet::RESNET110,
    vgg::VGG11_BN,
    vgg::VGG13_BN,
];

/// Salt of the seeds of body blocks.
const BLOCK_SALT: u64 = u64::from_le_bytes(*b"pgl:blok");
/// Salt of the seeds of auxiliary heads.
const HEAD_SALT: u64 = u64::from_le_bytes(*b"pgl:head");
/// Salt of the seed of the classifier.
const CLASSIFIER_SALT: u64 = u64::from_le_bytes(*b"pgl:clsf");

/// One row of `pgl models` (and of `pgl models --json`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ModelInfo {
    /// Name used with `--model`.
    pub name: &'static str,
    /// One line about it.
    pub description: &'static str,
    /// Number of split units: K can be 1..=units.
    pub units: usize,
    /// K values with an InfoPro split table.
    pub infopro_modules: Vec<usize>,
    /// Default auxiliary head.
    pub default_head: &'static str,
    /// The input the parameter count is for, `[channels, height, width]`.
    pub reference_input: [usize; 3],
    /// Trainable parameters of the network itself (K = 1: no auxiliary head), 10 classes.
    pub params: usize,
}

/// The models and auxiliary heads pgl can build, by name.
///
/// [`with_builtins`](Self::with_builtins) is the zoo the CLI uses; a crate adds its own
/// models and heads with [`register`](Self::register) and
/// [`register_head`](Self::register_head).
///
/// ```
/// use pgl_burn::burn::prelude::Device;
/// use pgl_burn::DecoupledModel;
/// use pgl_models::{AuxHead, ModelCatalog, ModelInput, ModelOptions};
///
/// // The small CNN on the 8×8 digits, cut into 4 modules, with AugLocal's heads.
/// let options = ModelOptions {
///     aux_head: Some(AuxHead::parse("aug3")?),
///     ..ModelOptions::even(4)
/// };
/// let net = ModelCatalog::with_builtins().build("cnn", ModelInput::DIGITS, &options, 42, &Device::flex())?;
/// assert_eq!(net.num_modules(), 4);
/// // Module 0's head copies blocks of the network after it: it has convolutions of its own.
/// assert!(net.stages[0].head.len() > 3);
/// # Ok::<(), pgl_models::ModelError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ModelCatalog {
    models: Vec<ModelEntry>,
    heads: Vec<AuxHead>,
}

impl ModelCatalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self {
            models: Vec::new(),
            heads: Vec::new(),
        }
    }

    /// The built-in models ([`BUILTIN_MODELS`]) and heads ([`AuxHead::ALL`]).
    pub fn with_builtins() -> Self {
        Self {
            models: BUILTIN_MODELS.to_vec(),
            heads: AuxHead::ALL.to_vec(),
        }
    }

    /// Adds a model; its name must be new.
    pub fn register(&mut self, entry: ModelEntry) -> Result<(), ModelError> {
        if self.models.iter().any(|m| m.name == entry.name) {
            return Err(ModelError::DuplicateName {
                kind: "model",
                name: entry.name.to_string(),
            });
        }
        self.models.push(entry);
        Ok(())
    }

    /// Adds an auxiliary head, selectable by name with [`head`](Self::head); its name must be
    /// new.
    pub fn register_head(&mut self, head: AuxHead) -> Result<(), ModelError> {
        if self.heads.contains(&head) {
            return Err(ModelError::DuplicateName {
                kind: "aux head",
                name: head.name().to_string(),
            });
        }
        self.heads.push(head);
        Ok(())
    }

    /// Every model, in the order shown to users.
    pub fn models(&self) -> &[ModelEntry] {
        &self.models
    }

    /// Every auxiliary head, in the order shown to users.
    pub fn heads(&self) -> &[AuxHead] {
        &self.heads
    }

    /// The models' names, in order (for help texts).
    pub fn model_names(&self) -> Vec<&'static str> {
        self.models.iter().map(|m| m.name).collect()
    }

    /// The heads' names, in order (for help texts).
    pub fn head_names(&self) -> Vec<&'static str> {
        self.heads.iter().map(|h| h.name()).collect()
    }

    /// The names of the models with an InfoPro split table.
    pub fn infopro_models(&self) -> Vec<&'static str> {
        self.models
            .iter()
            .filter(|m| !m.infopro_modules().is_empty())
            .map(|m| m.name)
            .collect()
    }

    /// The model called `name`.
    pub fn model(&self, name: &str) -> Result<&ModelEntry, ModelError> {
        self.models
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| ModelError::UnknownModel {
                name: name.to_string(),
                known: self.model_names().join(", "),
            })
    }

    /// The auxiliary head called `name`.
    pub fn head(&self, name: &str) -> Result<AuxHead, ModelError> {
        find_head(&self.heads, name)
    }

    /// How `entry` is cut as `options` say.
    pub fn split_plan(
        &self,
        entry: &ModelEntry,
        options: &ModelOptions,
    ) -> Result<SplitPlan, ModelError> {
        let split_error = |reason| ModelError::Split {
            model: entry.name.to_string(),
            reason,
        };
        let k = options.modules;
        if let SplitKind::At(points) = &options.split {
            if points.len() + 1 != k {
                return Err(ModelError::SplitModules {
                    points: points
                        .iter()
                        .map(usize::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                    made: points.len() + 1,
                    modules: k,
                });
            }
            return SplitPlan::from_points(entry.units, points).map_err(split_error);
        }
        if options.split == SplitKind::InfoPro && k > 1 {
            let points = (entry.infopro)(k).ok_or_else(|| {
                let tables = entry.infopro_modules();
                ModelError::NoInfoProTable {
                    model: entry.name.to_string(),
                    modules: k,
                    available: if tables.is_empty() {
                        format!(
                            "(none for this model; InfoPro published tables for {})",
                            and_list(&self.infopro_models())
                        )
                    } else {
                        let tables: Vec<String> = tables.iter().map(usize::to_string).collect();
                        tables.join(", ")
                    },
                }
            })?;
            return SplitPlan::from_points(entry.units, &points).map_err(split_error);
        }
        SplitPlan::even(entry.units, k).map_err(split_error)
    }

    /// Builds the model `name` for `input`, cut and headed as `options` say, on `device`,
    /// with every parameter initialised at once from `seed` (see the [module docs](self)):
    /// the same seed gives the same body weights for every K, split and head.
    pub fn build(
        &self,
        name: &str,
        input: ModelInput,
        options: &ModelOptions,
        seed: u64,
        device: &Device,
    ) -> Result<DecoupledNet, ModelError> {
        let entry = self.model(name)?;
        let plan = self.split_plan(entry, options)?;
        let mut backbone = (entry.build)(input, device)?;
        if backbone.blocks.len() != entry.units {
            return Err(ModelError::UnitCount {
                model: entry.name.to_string(),
                declared: entry.units,
                built: backbone.blocks.len(),
            });
        }
        if options.shortcut == Shortcut::OptionB {
            with_option_b(entry.name, &mut backbone.blocks, device)?;
        }
        let init = options.conv_init;
        let blocks = backbone
            .blocks
            .into_iter()
            .enumerate()
            .map(|(i, mut block)| {
                let seed = derive_seed(seed, BLOCK_SALT, i as u64);
                block.layers = initialize_seeded_with(block.layers, device, seed, init);
                block
            });
        let blocks: Vec<_> = blocks.collect();
        let head = options.aux_head.unwrap_or(entry.default_head);
        let classifier = backbone.classifier;
        let mut net = DecoupledNet::try_from_blocks_at(blocks, &plan, |site| {
            let head = if site.is_last() { classifier } else { head };
            head.build_at(site, input.classes, device)
        })?;
        let last = net.stages.len() - 1;
        for (k, stage) in net.stages.iter_mut().enumerate() {
            let seed = if k == last {
                derive_seed(seed, CLASSIFIER_SALT, 0)
            } else {
                derive_seed(seed, HEAD_SALT, k as u64)
            };
            let layers = std::mem::take(&mut stage.head);
            stage.head = initialize_seeded_with(layers, device, seed, init);
        }
        net.aux_head = Some(head);
        net.conv_init = init;
        net.pytorch = entry.pytorch;
        Ok(net)
    }

    /// The PyTorch reference models of the catalog's entries (those that have one), in
    /// table order: what `--names pytorch` can write.
    pub fn references(&self) -> Vec<&'static pgl_burn::export::Reference> {
        self.models.iter().filter_map(|m| m.pytorch).collect()
    }

    /// Every model with its parameter count (built once on `device`), valid K and default
    /// head: the rows of `pgl models`.
    pub fn describe(&self, device: &Device) -> Vec<ModelInfo> {
        let device = &device.clone().autodiff();
        self.models
            .iter()
            .map(|entry| {
                let [channels, height, width] = entry.reference_input;
                let input = ModelInput::new(channels, height, width, 10);
                let model = self
                    .build(entry.name, input, &ModelOptions::even(1), 0, device)
                    .unwrap_or_else(|e| {
                        panic!("model `{}` on its reference input: {e}", entry.name)
                    });
                ModelInfo {
                    name: entry.name,
                    description: entry.description,
                    units: entry.units,
                    infopro_modules: entry.infopro_modules(),
                    default_head: entry.default_head.name(),
                    reference_input: entry.reference_input,
                    params: trainable_params(&model),
                }
            })
            .collect()
    }
}

impl Default for ModelCatalog {
    fn default() -> Self {
        Self::with_builtins()
    }
}

/// Gives every residual block of `blocks` that changes shape an option-B shortcut; an error
/// naming `model` when it has none.
fn with_option_b(
    model: &str,
    blocks: &mut [crate::net::Block],
    device: &Device,
) -> Result<(), ModelError> {
    let mut found = false;
    for block in blocks {
        let layers = std::mem::take(&mut block.layers);
        block.layers = layers
            .into_iter()
            .map(|layer| match layer {
                Layer::Basic(b) if b.changes_shape() => {
                    found = true;
                    Layer::Basic(b.with_option_b(device))
                }
                other => other,
            })
            .collect();
    }
    if found {
        Ok(())
    } else {
        Err(ModelError::NoShortcuts {
            model: model.to_string(),
        })
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(names: &[&str]) -> String {
    match names {
        [] => "no model".to_string(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Builds the built-in model `name` like [`ModelCatalog::build`], with a seed drawn from
/// `device`'s generator: seed the device first (`device.seed(seed)`) for reproducible weights.
pub fn build_model(
    name: &str,
    input: ModelInput,
    options: &ModelOptions,
    device: &Device,
) -> Result<DecoupledNet, ModelError> {
    ModelCatalog::with_builtins().build(name, input, options, seed_from(device), device)
}

/// One 64-bit seed drawn from `device`'s (process-wide) generator.
fn seed_from(device: &Device) -> u64 {
    Tensor::<1>::random([4], Distribution::Default, device)
        .into_data()
        .iter::<f32>()
        .fold(0, |seed, x| derive_seed(seed, u64::from(x.to_bits()), 0))
}

/// Trainable parameters of `module` (BatchNorm running statistics are not counted). The
/// module must live on an autodiff device: elsewhere no tensor requires a gradient.
pub fn trainable_params<M: Module>(module: &M) -> usize {
    pgl_burn::inspect::param_values(module)
        .iter()
        .filter(|p| p.trainable)
        .map(|p| p.values.len())
        .sum()
}

/// Every built-in model with its parameter count (built once on `device`), valid K and
/// default head.
pub fn catalog(device: &Device) -> Vec<ModelInfo> {
    ModelCatalog::with_builtins().describe(device)
}
