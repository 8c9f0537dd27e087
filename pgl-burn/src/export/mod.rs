//! Weights that travel: a model's weights and BatchNorm statistics as a
//! [safetensors](https://huggingface.co/docs/safetensors) file, and back.
//!
//! Two namings ([`Names`]):
//!
//! - **`pytorch`**: the `state_dict` names and layouts of the PyTorch reference models in
//!   `bench/gpu/torch_reference.py`, held in the container `ReferenceNet` of
//!   `bench/gpu/torch_names.py` (`stages` and `heads`, two `nn.ModuleList`s). Linear weights
//!   are `[out, in]`, BatchNorm parameters are `weight`/`bias` next to `running_mean`,
//!   `running_var` and `num_batches_tracked` (written as 0: Burn does not count batches, and
//!   PyTorch only reads it when a BatchNorm has `momentum=None`), so
//!   `load_state_dict(strict=True)` accepts the file. Only for the models the reference
//!   defines: a model that has one carries its [`Reference`] (its zoo entry's, through
//!   [`DecoupledModel::pytorch_reference`]); anything else is an error naming the model.
//! - **`pgl`**: pgl's own module paths (`stages.1.body.0.Conv.weight`, as
//!   [`param_values`](crate::inspect::param_values) prints them) with Burn's layouts (Linear
//!   weights `[in, out]`, BatchNorm `gamma`/`beta`): exactly what a checkpoint's `model.bpk`
//!   holds, for every model.
//!
//! The file format is Burn's own store
//! ([`SafetensorsStore`](burn::store::SafetensorsStore)); layouts are converted by its
//! [`BurnToPyTorchAdapter`](burn::store::BurnToPyTorchAdapter) and
//! [`PyTorchToBurnAdapter`](burn::store::PyTorchToBurnAdapter); names are renamed by an adapter
//! here. [`import_safetensors`] recognises either naming (a file written by PyTorch's
//! `safetensors.torch.save_file(net.state_dict(), ..)` too) and loads the weights exactly:
//! export → import is bit-identical.
//!
//! # Name mapping (`pytorch`)
//! - head layer `i` of module `k`, `stages.k.head.i.<Layer>.p` → `heads.k.i.p` (every reference
//!   head is an `nn.Sequential` with pgl's layer order);
//! - body layer `i` of module `k` of the CNN (blocks of conv-BN-ReLU) →
//!   `stages.k.{i / 3}.{i % 3}.p`;
//! - ResNet-32 with one unit per module (InfoPro's K = 16 split): the stem `stages.0.body.i.p`
//!   → `stages.0.i.p`, a residual block `stages.k.body.0.Basic.conv1.weight` →
//!   `stages.k.conv1.weight`, its option-B shortcut `…Basic.downsample.conv.weight` and
//!   `…Basic.downsample.norm.*` → `stages.k.downsample.0.weight` and `stages.k.downsample.1.*`
//!   (InfoPro's and torchvision's `downsample` names).
//!
//! The reference table and the name mapping are in `names.rs`; writing, reading and checking
//! files in `file.rs`.

mod file;
mod import;
mod names;

use std::path::{Path, PathBuf};

use pgl_core::setting;

use crate::error::TrainError;
use crate::model::DecoupledModel;
use crate::progress::TrainerState;
use crate::trainer::Trainer;

pub use crate::reference::{BodyLayout, Reference};
pub use file::{Exported, IndexEntry, export_safetensors, read_index};
pub use import::{Imported, import_safetensors};
pub use names::{FileEntry, reference, torch_name};

/// File extension of the files this module reads and writes.
pub const EXTENSION: &str = "safetensors";
/// Metadata key holding the naming of a file written by pgl (`pytorch` or `pgl`).
pub const NAMES_KEY: &str = "pgl.names";

/// A problem exporting or importing weights.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// `--names` got something else than `pytorch` or `pgl`.
    #[error("`{name}` is not a naming: use `pytorch` (the PyTorch reference's names) or `pgl`")]
    UnknownNames {
        /// What was asked for.
        name: String,
    },
    /// The PyTorch reference does not define this model.
    #[error(
        "the PyTorch reference (bench/gpu/torch_reference.py) defines no `{model}` model (it defines {known}); export it with {} for pgl's own names",
        setting("names").with("pgl")
    )]
    NoReference {
        /// The model asked for.
        model: String,
        /// The models the reference defines.
        known: String,
    },
    /// The reference defines the model with other auxiliary heads.
    #[error(
        "the PyTorch reference's `{model}` has {expected} auxiliary heads, this network has `{head}`; export it with {} for pgl's own names",
        setting("names").with("pgl")
    )]
    ReferenceHead {
        /// The model.
        model: String,
        /// The network's auxiliary head.
        head: String,
        /// The reference's auxiliary heads, backticked, joined with `or`.
        expected: String,
    },
    /// The reference defines the model for other numbers of modules.
    #[error(
        "the PyTorch reference defines `{model}` with K = {supported} modules, this network has K = {modules}; export it with {} for pgl's own names",
        setting("names").with("pgl")
    )]
    ReferenceModules {
        /// The model.
        model: String,
        /// The network's K.
        modules: usize,
        /// The K the reference defines.
        supported: String,
    },
    /// A parameter path that does not fit the reference's layout.
    #[error("parameter `{path}` does not fit the PyTorch reference's `{model}`: {reason}")]
    Structure {
        /// The model.
        model: String,
        /// pgl's path of the parameter.
        path: String,
        /// What was expected.
        reason: String,
    },
    /// Reading or writing a file failed, or its contents do not fit the model.
    #[error("{path}: {reason}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// Which parameter names (and layouts) a file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// The PyTorch reference models' `state_dict` names and layouts.
    Pytorch,
    /// pgl's module paths and Burn's layouts.
    Pgl,
}

impl Names {
    /// Parses `pytorch` or `pgl`.
    pub fn parse(name: &str) -> Result<Self, ExportError> {
        match name {
            "pytorch" => Ok(Names::Pytorch),
            "pgl" => Ok(Names::Pgl),
            _ => Err(ExportError::UnknownNames {
                name: name.to_string(),
            }),
        }
    }

    /// `pytorch` or `pgl`.
    pub fn as_str(self) -> &'static str {
        match self {
            Names::Pytorch => "pytorch",
            Names::Pgl => "pgl",
        }
    }
}

/// A naming with the reference it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// pgl's names and Burn's layouts.
    Pgl,
    /// The reference's names and PyTorch's layouts.
    Pytorch(&'static Reference),
}

impl Naming {
    /// Which [`Names`] this is.
    pub fn names(self) -> Names {
        match self {
            Naming::Pgl => Names::Pgl,
            Naming::Pytorch(_) => Names::Pytorch,
        }
    }
}

/// Whether `path` names a safetensors file (by its extension).
pub fn is_safetensors(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == EXTENSION)
}

/// Starts a new run in `trainer` from the weights in the safetensors file `path`
/// (`pgl train --init-from model.safetensors`): counters, metrics, optimizer states and the
/// schedule's state are fresh. `keep_optimizer` is an error: the file holds no optimizer
/// state.
pub fn init_from_file<M: DecoupledModel>(
    path: &Path,
    trainer: &mut Trainer<M>,
    keep_optimizer: bool,
) -> Result<Imported, TrainError> {
    let error = |reason: String| TrainError::Checkpoint {
        path: path.to_path_buf(),
        reason,
    };
    if keep_optimizer {
        return Err(error(format!(
            "{} needs a pgl checkpoint (a run or checkpoint folder): a safetensors file holds weights only, no optimizer or schedule state",
            setting("keep_optimizer")
        )));
    }
    let references: Vec<&'static Reference> =
        trainer.model().pytorch_reference().into_iter().collect();
    let (model, imported) = import_safetensors(trainer.model().clone(), path, &references)
        .map_err(|e| match e {
            ExportError::File { reason, .. } => error(reason),
            other => error(other.to_string()),
        })?;
    let state = TrainerState {
        model,
        optimizers: trainer.optimizers().to_vec(),
        objective_heads: None,
        progress: trainer.progress(),
    };
    trainer.restore(state)?;
    Ok(imported)
}
