//! Reading a safetensors file into a model ([`import_safetensors`]): recognising its naming
//! (pgl's or a PyTorch reference's), checking every tensor's shape and type, loading through
//! Burn's store, and refusing values no trained model has — every problem named as the file
//! names it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use burn::module::Module;
use burn::store::{
    FloatCastAdapter, ModuleAdapter, ModuleSnapshot, PyTorchToBurnAdapter, burn_pack,
};
use burn::tensor::DType;

use super::file::{dtype_name, open};
use super::names::{COUNTER, plan};
use super::{ExportError, FileEntry, Names, Naming, Reference};
use crate::inspect::{BrokenTensor, broken_tensors, describe_broken};

/// How [`import_safetensors`] read a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    /// The naming it recognised.
    pub names: Names,
    /// Number of tensors loaded into the model.
    pub tensors: usize,
}

fn first_few(names: &BTreeSet<&str>) -> String {
    let mut shown: Vec<String> = names.iter().take(5).map(|n| format!("`{n}`")).collect();
    if names.len() > 5 {
        shown.push(format!("and {} more", names.len() - 5));
    }
    shown.join(", ")
}

/// Loads the weights and BatchNorm statistics in the safetensors file `path` into `model`
/// (same architecture), recognising pgl's names or those of one of the PyTorch reference
/// models `references` (the model's own, [`DecoupledModel::pytorch_reference`]; any
/// `num_batches_tracked` is ignored). A file of another model, or a layer of another shape, is
/// an error naming the tensors.
///
/// [`DecoupledModel::pytorch_reference`]: crate::model::DecoupledModel::pytorch_reference
pub fn import_safetensors<M: Module>(
    model: M,
    path: &Path,
    references: &[&'static Reference],
) -> Result<(M, Imported), ExportError> {
    let file_error = |reason: String| ExportError::File {
        path: path.to_path_buf(),
        reason,
    };
    let (_, tensors) = open(path)?;
    let in_file: BTreeSet<&str> = tensors
        .keys()
        .map(String::as_str)
        .filter(|name| !name.ends_with(COUNTER))
        .collect();
    let (naming, entries) = recognise(&model, &in_file, references).map_err(file_error)?;
    let renamed = fitting_tensors(&tensors, &entries).map_err(file_error)?;
    let adapter: Box<dyn ModuleAdapter> = match naming {
        Naming::Pgl => Box::new(FloatCastAdapter::to(DType::F32)),
        Naming::Pytorch(_) => {
            Box::new(PyTorchToBurnAdapter.chain(FloatCastAdapter::to(DType::F32)))
        }
    };
    let mut model = model;
    let result = model.apply(renamed, None, Some(adapter), false);
    if !result.errors.is_empty() || !result.missing.is_empty() || !result.unused.is_empty() {
        let mut problems: Vec<String> = result.errors.iter().map(|e| e.to_string()).collect();
        problems.extend(
            result
                .missing
                .iter()
                .map(|(p, _)| format!("`{p}` is missing")),
        );
        problems.extend(result.unused.iter().map(|p| format!("`{p}` was not used")));
        return Err(file_error(format!(
            "could not load every tensor: {}",
            problems.join("; ")
        )));
    }
    refuse_broken(&model, &entries).map_err(file_error)?;
    Ok((
        model,
        Imported {
            names: naming.names(),
            tensors: result.applied.len(),
        },
    ))
}

/// The naming whose tensor names are exactly those `in_file` (pgl's, then each PyTorch
/// reference's), with the model's entries under it; otherwise why none fits, from the
/// closest naming: what the file lacks and what it has that the model does not.
fn recognise<M: Module>(
    model: &M,
    in_file: &BTreeSet<&str>,
    references: &[&'static Reference],
) -> Result<(Naming, Vec<FileEntry>), String> {
    let mut candidates = vec![Naming::Pgl];
    candidates.extend(references.iter().copied().map(Naming::Pytorch));
    let mut closest: Option<(usize, BTreeSet<&str>, BTreeSet<String>)> = None;
    for naming in candidates {
        let Ok(entries) = plan(model, naming) else {
            continue;
        };
        let expected: BTreeSet<String> = entries.iter().map(|e| e.name.clone()).collect();
        if expected
            .iter()
            .map(String::as_str)
            .eq(in_file.iter().copied())
        {
            return Ok((naming, entries));
        }
        let common = in_file.iter().filter(|n| expected.contains(**n)).count();
        if closest.as_ref().is_none_or(|(best, _, _)| common > *best) {
            let unexpected = in_file
                .iter()
                .copied()
                .filter(|n| !expected.contains(*n))
                .collect();
            closest = Some((common, unexpected, expected));
        }
    }
    let (_, unexpected, expected) = closest.unwrap_or_default();
    let missing: BTreeSet<&str> = expected
        .iter()
        .map(String::as_str)
        .filter(|n| !in_file.contains(n))
        .collect();
    let listed = |names: &BTreeSet<&str>| {
        if names.is_empty() {
            "nothing".to_string()
        } else {
            first_few(names)
        }
    };
    Err(format!(
        "does not hold this model's weights under pgl's names or the PyTorch reference's: missing {}; not in the model {}",
        listed(&missing),
        listed(&unexpected),
    ))
}

/// The file's tensors of `entries`, renamed to the model's paths, after checking that each
/// has the shape the model needs and a float type (every misfit named).
fn fitting_tensors(
    tensors: &BTreeMap<String, burn_pack::Tensor>,
    entries: &[FileEntry],
) -> Result<Vec<burn_pack::Tensor>, String> {
    let mut mismatches = Vec::new();
    let mut renamed = Vec::with_capacity(entries.len());
    for entry in entries {
        let tensor = &tensors[&entry.name];
        let found = tensor.shape.as_slice();
        if found != entry.shape.as_slice() {
            mismatches.push(format!(
                "layer `{}` (`{}` in the file): the file has shape {found:?}, this model needs {:?}",
                entry.path, entry.name, entry.shape
            ));
        }
        if !tensor.dtype.is_float() {
            mismatches.push(format!(
                "`{}` is {}, not a float tensor",
                entry.name,
                dtype_name(tensor.dtype)
            ));
        }
        let mut tensor = tensor.clone();
        tensor.name = entry.path.clone();
        renamed.push(tensor);
    }
    if mismatches.is_empty() {
        Ok(renamed)
    } else {
        Err(format!(
            "does not fit this model: {}",
            mismatches.join("; ")
        ))
    }
}

/// Refuses a model loaded from a file when a tensor holds values no trained model has
/// ([`broken_tensors`]), naming each tensor as the file does (`entries`).
fn refuse_broken<M: Module>(model: &M, entries: &[FileEntry]) -> Result<(), String> {
    let broken = broken_tensors(model);
    if broken.is_empty() {
        return Ok(());
    }
    let in_file: HashMap<&str, &str> = entries
        .iter()
        .map(|e| (e.path.as_str(), e.name.as_str()))
        .collect();
    let named: Vec<BrokenTensor> = broken
        .into_iter()
        .map(|b| {
            // PyTorch names BatchNorm's γ and β `weight` and `bias`.
            let pytorch = b
                .path
                .strip_suffix(".gamma")
                .map(|p| format!("{p}.weight"))
                .or_else(|| b.path.strip_suffix(".beta").map(|p| format!("{p}.bias")));
            let name = in_file
                .get(b.path.as_str())
                .or_else(|| pytorch.as_deref().and_then(|p| in_file.get(p)));
            match name {
                Some(name) if *name != b.path => BrokenTensor {
                    reason: format!("(pgl's `{}`) {}", b.path, b.reason),
                    path: name.to_string(),
                },
                _ => b,
            }
        })
        .collect();
    Err(format!(
        "holds values no trained model has: {}",
        describe_broken(&named)
    ))
}
