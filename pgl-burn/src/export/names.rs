//! The description of a PyTorch reference model ([`Reference`]; each zoo model that has one
//! carries its own) and the mapping from pgl's parameter paths to the reference's
//! `state_dict` names.

use burn::module::Module;
use burn::store::{BurnToPyTorchAdapter, ModuleSnapshot};

use super::{ExportError, Naming};
use crate::reference::{BodyLayout, Reference};

/// PyTorch's BatchNorm counter, written next to every BatchNorm's running statistics.
pub(super) const COUNTER: &str = "num_batches_tracked";

/// The reference model for pgl's `model` with auxiliary head `aux_head` cut into `modules`
/// modules, among the models the reference defines (`references`: each a model entry's own
/// naming, as pgl-models' catalog lists them), or an error naming what the reference does
/// not define.
pub fn reference(
    references: &[&'static Reference],
    model: &str,
    aux_head: &str,
    modules: usize,
) -> Result<&'static Reference, ExportError> {
    let found = references
        .iter()
        .copied()
        .find(|r| r.model == model)
        .ok_or_else(|| ExportError::NoReference {
            model: model.to_string(),
            known: references
                .iter()
                .map(|r| format!("`{}`", r.model))
                .collect::<Vec<_>>()
                .join(" and "),
        })?;
    if !found.modules.contains(&modules) {
        return Err(ExportError::ReferenceModules {
            model: model.to_string(),
            modules,
            supported: found
                .modules
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    if modules > 1 && !found.aux_heads.contains(&aux_head) {
        return Err(ExportError::ReferenceHead {
            model: model.to_string(),
            head: aux_head.to_string(),
            expected: found
                .aux_heads
                .iter()
                .map(|head| format!("`{head}`"))
                .collect::<Vec<_>>()
                .join(" or "),
        });
    }
    Ok(found)
}

/// The PyTorch reference's name for pgl's parameter `path` (with PyTorch's parameter name as
/// its last segment, e.g. `stages.0.body.1.Norm.weight`).
pub fn torch_name(path: &str, reference: &Reference) -> Result<String, ExportError> {
    let bad = |reason: String| ExportError::Structure {
        model: reference.model.to_string(),
        path: path.to_string(),
        reason,
    };
    let parts: Vec<&str> = path.split('.').collect();
    match parts.as_slice() {
        ["stages", k, "head", i, _layer, rest @ ..] if !rest.is_empty() => {
            Ok(format!("heads.{k}.{i}.{}", rest.join(".")))
        }
        ["stages", k, "body", i, layer, rest @ ..] if !rest.is_empty() => {
            let rest = rest.join(".");
            let i: usize = i
                .parse()
                .map_err(|_| bad(format!("`{i}` is not a layer index")))?;
            match reference.body {
                BodyLayout::Blocks(pattern) => {
                    let n = pattern.len();
                    if pattern[i % n] != *layer {
                        return Err(bad(format!(
                            "body layer {i} should be a {} layer (blocks of {})",
                            pattern[i % n],
                            pattern.join(", ")
                        )));
                    }
                    Ok(format!("stages.{k}.{}.{}.{rest}", i / n, i % n))
                }
                BodyLayout::Unit { stem } => {
                    if i == 0 && *layer == "Basic" {
                        // The option-B shortcut is an `nn.Sequential(conv, bn)` there.
                        let rest = rest
                            .replace("downsample.conv.", "downsample.0.")
                            .replace("downsample.norm.", "downsample.1.");
                        Ok(format!("stages.{k}.{rest}"))
                    } else if stem.get(i) == Some(layer) {
                        Ok(format!("stages.{k}.{i}.{rest}"))
                    } else {
                        Err(bad(format!(
                            "every module must hold one unit: the stem ({}) or one residual block",
                            stem.join(", ")
                        )))
                    }
                }
            }
        }
        _ => Err(bad(
            "expected `stages.K.body.I.<layer>.<param>` or `stages.K.head.I.<layer>.<param>`"
                .to_string(),
        )),
    }
}

/// One tensor of a file: its name there and its shape (in the file's layout), and the path of
/// the parameter it is in the model (with the file naming's parameter name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// The tensor's name in the file.
    pub name: String,
    /// The parameter's path in the model (`stages.0.body.1.Norm.weight`).
    pub path: String,
    /// Shape in the file's layout.
    pub shape: Vec<usize>,
}

/// Every tensor a file of `model` under `naming` holds (not counting `num_batches_tracked`).
pub(super) fn plan<M: Module>(model: &M, naming: Naming) -> Result<Vec<FileEntry>, ExportError> {
    let tensors = match naming {
        Naming::Pgl => model.collect(None, None, false),
        Naming::Pytorch(_) => model.collect(None, Some(Box::new(BurnToPyTorchAdapter)), false),
    };
    tensors
        .into_iter()
        .map(|t| {
            let name = match naming {
                Naming::Pgl => t.name.clone(),
                Naming::Pytorch(reference) => torch_name(&t.name, reference)?,
            };
            Ok(FileEntry {
                name,
                path: t.name,
                shape: t.shape.as_slice().to_vec(),
            })
        })
        .collect()
}

/// The name of the `num_batches_tracked` counter that belongs next to a tensor called
/// `name`, when it is a BatchNorm's running variance.
pub(super) fn counter_of(name: &str) -> Option<String> {
    name.strip_suffix("running_var")
        .map(|prefix| format!("{prefix}{COUNTER}"))
}
