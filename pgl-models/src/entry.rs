//! [`ModelEntry`]: one row of the model table, everything pgl knows about a model family
//! preset (name, default head, split units, builder, what `pgl models` prints).

use pgl_burn::burn::prelude::Device;
use pgl_burn::export::Reference;

use crate::error::ModelError;
use crate::heads::AuxHead;
use crate::input::ModelInput;
use crate::net::Block;

/// What a model's builder returns: the network as a list of blocks (the split units) and its
/// classifier, before the network is cut into modules.
#[derive(Debug)]
pub struct Backbone {
    /// The split units, in order. Their parameters are left uninitialised (Burn initialises
    /// lazily): [`ModelCatalog::build`](crate::ModelCatalog::build) initialises each block from
    /// the seed and the block's index.
    pub blocks: Vec<Block>,
    /// The network's classifier, placed after the last module.
    pub classifier: AuxHead,
}

/// Builds a model's [`Backbone`] for an input, on a device.
pub type ModelBuilder = fn(ModelInput, &Device) -> Result<Backbone, ModelError>;

/// Published split points of a model for K modules: the indices of the units where modules
/// 2..K start, or `None` when there is no table for this K.
pub type SplitTable = fn(usize) -> Option<Vec<usize>>;

/// One model of the zoo: one line of the model table.
///
/// The built-in table is [`ModelCatalog::with_builtins`](crate::ModelCatalog::with_builtins);
/// another crate can add its own models with [`ModelCatalog::register`](crate::ModelCatalog::register).
#[derive(Debug, Clone, Copy)]
pub struct ModelEntry {
    /// Name used with `--model`.
    pub name: &'static str,
    /// One line about it, for `pgl models`.
    pub description: &'static str,
    /// Auxiliary head used when none is asked for.
    pub default_head: AuxHead,
    /// Number of split units (blocks) the builder makes: K can be 1..=units.
    pub units: usize,
    /// InfoPro's split tables (`--split infopro`); [`no_split_tables`] when none were published.
    pub infopro: SplitTable,
    /// The input `pgl models` counts parameters for, `[channels, height, width]` (10 classes).
    pub reference_input: [usize; 3],
    /// Builds the network's blocks and classifier.
    pub build: ModelBuilder,
    /// The PyTorch reference's version of this model and its parameter names (`None`: the
    /// reference defines none): what `pgl export --names pytorch` writes.
    pub pytorch: Option<&'static Reference>,
}

impl ModelEntry {
    /// The K values with an InfoPro split table.
    pub fn infopro_modules(&self) -> Vec<usize> {
        (2..=self.units)
            .filter(|&k| (self.infopro)(k).is_some())
            .collect()
    }
}

/// The [`SplitTable`] of a model with no published tables.
pub fn no_split_tables(_modules: usize) -> Option<Vec<usize>> {
    None
}
