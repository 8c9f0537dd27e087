//! Writing and reading the files: Burn's [`SafetensorsStore`], an adapter that renames (and
//! adds PyTorch's `num_batches_tracked`), and the checks that name what does not fit.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::module::{Module, ModuleDisplay, Param};
use burn::prelude::*;
use burn::store::{
    BurnToPyTorchAdapter, FloatCastAdapter, ModuleAdapter, ModuleContext, ModuleSnapshot,
    ModuleStore, PyTorchToBurnAdapter, SafetensorsStore, bridge, burn_pack,
};
use burn::tensor::{DType, Shape, TensorData};

use super::names::{COUNTER, counter_of, plan};
use super::{ExportError, NAMES_KEY, Names, Naming, REFERENCES};
use crate::inspect::{BrokenTensor, broken_tensors, describe_broken};

/// Field of [`WithCounters`] holding the counters.
const COUNTERS_FIELD: &str = "counters";
/// Field of [`WithCounters`] holding the model.
const MODEL_FIELD: &str = "model";

/// The model with one zero per BatchNorm, so that one pass of Burn's store writes PyTorch's
/// `num_batches_tracked` counters too.
#[derive(Module, Debug)]
struct WithCounters<M: Module> {
    model: M,
    counters: Vec<Param<Tensor<1>>>,
}

/// Converts Burn's layouts to PyTorch's (for `pytorch`) and renames every tensor to its name
/// in the file.
#[derive(Clone)]
struct RenameAdapter {
    to_pytorch: bool,
    /// Model path (with the file's parameter name) → name in the file.
    names: Arc<HashMap<String, String>>,
    /// Name of counter `j`.
    counters: Arc<Vec<String>>,
}

impl ModuleAdapter for RenameAdapter {
    fn adapt(&self, tensor: burn_pack::Tensor, ctx: ModuleContext<'_>) -> burn_pack::Tensor {
        if let Some(j) = tensor
            .name
            .strip_prefix(COUNTERS_FIELD)
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|j| j.parse::<usize>().ok())
        {
            let name = self.counters[j].clone();
            return bridge::map_data(tensor, name, DType::I64, Shape::new([]), |_| {
                TensorData::new(vec![0i64], Shape::new([]))
            });
        }
        let mut tensor = if self.to_pytorch {
            BurnToPyTorchAdapter.adapt(tensor, ctx)
        } else {
            tensor
        };
        let path = tensor
            .name
            .strip_prefix(MODEL_FIELD)
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or(&tensor.name);
        if let Some(name) = self.names.get(path) {
            tensor.name = name.clone();
        }
        tensor
    }

    fn clone_box(&self) -> Box<dyn ModuleAdapter> {
        Box::new(self.clone())
    }
}

/// What [`export_safetensors`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// The file.
    pub path: PathBuf,
    /// Its naming.
    pub names: Names,
    /// Number of tensors in it (parameters, BatchNorm statistics and counters).
    pub tensors: usize,
    /// Number of values in the model's parameters and statistics.
    pub values: usize,
}

/// Writes `model`'s weights and BatchNorm statistics to the new file `out` under `naming`,
/// with `metadata` (plus [`NAMES_KEY`]) in the file's header. The file is written next to its
/// final name, flushed to disk and moved into place; an existing file is never replaced.
pub fn export_safetensors<M: Module + ModuleDisplay>(
    model: &M,
    out: &Path,
    naming: Naming,
    metadata: &[(String, String)],
) -> Result<Exported, ExportError> {
    let file_error = |reason: String| ExportError::File {
        path: out.to_path_buf(),
        reason,
    };
    if std::fs::symlink_metadata(out).is_ok() {
        return Err(file_error(
            "already exists; choose another --out or remove it".to_string(),
        ));
    }
    let entries = plan(model, naming)?;
    let counters: Vec<String> = match naming {
        Naming::Pgl => Vec::new(),
        Naming::Pytorch(_) => entries.iter().filter_map(|e| counter_of(&e.name)).collect(),
    };
    let mut names = HashMap::new();
    for entry in &entries {
        if names
            .insert(entry.path.clone(), entry.name.clone())
            .is_some()
        {
            return Err(file_error(format!("two tensors named `{}`", entry.path)));
        }
    }
    let device = Device::flex();
    let with_counters = WithCounters {
        model: model.clone(),
        counters: counters
            .iter()
            .map(|_| Param::from_tensor(Tensor::<1>::zeros([1], &device)))
            .collect(),
    };
    let adapter = RenameAdapter {
        to_pytorch: naming.names() == Names::Pytorch,
        names: Arc::new(names),
        counters: Arc::new(counters.clone()),
    };
    // Built in memory and written here rather than by the store's own file writer, which
    // publishes a temporary file of mode 0600: the file gets the mode of every other output.
    let mut store = SafetensorsStore::from_bytes(None)
        .with_to_adapter(adapter)
        .metadata(NAMES_KEY, naming.names().as_str());
    for (key, value) in metadata {
        store = store.metadata(key.clone(), value.clone());
    }
    with_counters
        .save_into(&mut store)
        .and_then(|()| store.get_bytes())
        .map_err(|e| file_error(format!("cannot write: {e}")))
        .and_then(|bytes| write_new_file(out, &bytes).map_err(file_error))?;
    Ok(Exported {
        path: out.to_path_buf(),
        names: naming.names(),
        tensors: entries.len() + counters.len(),
        values: entries
            .iter()
            .map(|e| e.shape.iter().product::<usize>())
            .sum(),
    })
}

/// Writes `bytes` to the new file `out` (never replacing one): a temporary file beside it
/// (created with the process's usual mode, `0644` under the common umask), flushed to disk,
/// then linked to its name, so that `out` is either absent or complete.
fn write_new_file(out: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let name = out
        .file_name()
        .ok_or_else(|| "not a file name".to_string())?
        .to_string_lossy()
        .into_owned();
    let tmp = out.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp); // a leftover of a killed export of this process id
    let written = std::fs::File::create_new(&tmp)
        .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
        .and_then(|()| std::fs::hard_link(&tmp, out));
    let _ = std::fs::remove_file(&tmp);
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err("already exists; choose another --out or remove it".to_string());
        }
        Err(e) => return Err(format!("cannot write: {e}")),
    }
    let folder = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::File::open(folder)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| format!("cannot flush folder {} to disk: {e}", folder.display()))
}

/// One tensor of a safetensors file, as listed by [`read_index`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// Its name.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its element type, as PyTorch spells it (`float32`, `int64`, ..).
    pub dtype: String,
}

fn dtype_name(dtype: DType) -> String {
    match dtype {
        DType::F64 => "float64".to_string(),
        DType::F32 => "float32".to_string(),
        DType::F16 => "float16".to_string(),
        DType::BF16 => "bfloat16".to_string(),
        DType::I64 => "int64".to_string(),
        DType::I32 => "int32".to_string(),
        DType::I16 => "int16".to_string(),
        DType::I8 => "int8".to_string(),
        DType::U8 => "uint8".to_string(),
        DType::Bool(_) => "bool".to_string(),
        other => format!("{other:?}"),
    }
}

fn open(
    path: &Path,
) -> Result<(SafetensorsStore, BTreeMap<String, burn_pack::Tensor>), ExportError> {
    if !path.is_file() {
        return Err(ExportError::File {
            path: path.to_path_buf(),
            reason: "no such file".to_string(),
        });
    }
    let mut store = SafetensorsStore::from_file(path);
    let tensors = store
        .get_all_tensors()
        .map_err(|e| ExportError::File {
            path: path.to_path_buf(),
            reason: format!("not a readable safetensors file: {e}"),
        })?
        .clone();
    Ok((store, tensors))
}

/// Every tensor's name, shape and element type in the safetensors file `path`, sorted by
/// name (reads the header only).
pub fn read_index(path: &Path) -> Result<Vec<IndexEntry>, ExportError> {
    let (_, tensors) = open(path)?;
    Ok(tensors
        .values()
        .map(|t| IndexEntry {
            name: t.name.clone(),
            shape: t.shape.as_slice().to_vec(),
            dtype: dtype_name(t.dtype),
        })
        .collect())
}

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
/// (same architecture), recognising pgl's names or the PyTorch reference's (any
/// `num_batches_tracked` is ignored). A file of another model, or a layer of another shape, is
/// an error naming the tensors.
pub fn import_safetensors<M: Module>(model: M, path: &Path) -> Result<(M, Imported), ExportError> {
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
    let mut candidates = vec![Naming::Pgl];
    candidates.extend(REFERENCES.iter().map(Naming::Pytorch));
    let mut closest: Option<(usize, BTreeSet<&str>, BTreeSet<String>)> = None;
    let mut chosen = None;
    for naming in candidates {
        let Ok(entries) = plan(&model, naming) else {
            continue;
        };
        let expected: BTreeSet<String> = entries.iter().map(|e| e.name.clone()).collect();
        if expected
            .iter()
            .map(String::as_str)
            .eq(in_file.iter().copied())
        {
            chosen = Some((naming, entries));
            break;
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
    let Some((naming, entries)) = chosen else {
        let (_, unexpected, expected) = closest.unwrap_or_default();
        let missing: BTreeSet<&str> = expected
            .iter()
            .map(String::as_str)
            .filter(|n| !in_file.contains(n))
            .collect();
        return Err(file_error(format!(
            "does not hold this model's weights under pgl's names or the PyTorch reference's: missing {}; not in the model {}",
            if missing.is_empty() {
                "nothing".to_string()
            } else {
                first_few(&missing)
            },
            if unexpected.is_empty() {
                "nothing".to_string()
            } else {
                first_few(&unexpected)
            },
        )));
    };
    let mut mismatches = Vec::new();
    let mut renamed = Vec::with_capacity(entries.len());
    for entry in &entries {
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
    if !mismatches.is_empty() {
        return Err(file_error(format!(
            "does not fit this model: {}",
            mismatches.join("; ")
        )));
    }
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

/// Refuses a model loaded from a file when a tensor holds values no trained model has
/// ([`broken_tensors`]), naming each tensor as the file does (`entries`).
fn refuse_broken<M: Module>(model: &M, entries: &[super::FileEntry]) -> Result<(), String> {
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
