//! Writing and reading the files: Burn's [`SafetensorsStore`], an adapter that renames (and
//! adds PyTorch's `num_batches_tracked`), and the checks that name what does not fit.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::module::{Module, ModuleDisplay, Param};
use burn::prelude::*;
use burn::store::{
    BurnToPyTorchAdapter, ModuleAdapter, ModuleContext, ModuleSnapshot, ModuleStore,
    SafetensorsStore, bridge, burn_pack,
};
use burn::tensor::{DType, Shape, TensorData};
use pgl_core::setting;

use super::names::{counter_of, plan};
use super::{ExportError, NAMES_KEY, Names, Naming};

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
        return Err(file_error(format!(
            "already exists; choose another {} or remove it",
            setting("out")
        )));
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
            return Err(format!(
                "already exists; choose another {} or remove it",
                setting("out")
            ));
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

pub(super) fn dtype_name(dtype: DType) -> String {
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

pub(super) fn open(
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
