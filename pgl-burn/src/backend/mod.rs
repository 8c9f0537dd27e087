//! Run-time backend selection, from one table: [`BACKENDS`] lists every backend, one file
//! each (`cpu.rs`, `wgpu.rs`, `cuda.rs`), and the CLI's `--backend` help and errors are made
//! from it. The CPU backend (Burn's pure-Rust `flex`) is always compiled in; asking for a
//! backend that was not compiled in is a [`TrainError::BackendNotCompiled`] naming the cargo
//! feature to enable.
//!
//! **Adding a backend** is one new file with a `pub const ENTRY: BackendEntry` plus one line
//! in [`BACKENDS`] (and its cargo feature in `Cargo.toml`). A crate can also
//! [`BackendRegistry::register`] one of its own.

pub mod cpu;
pub mod cuda;
pub mod wgpu;

use burn::prelude::*;

use crate::error::TrainError;

/// One backend: its name, what it needs, and how to make its device.
#[derive(Debug)]
pub struct BackendEntry {
    /// The name `--backend` takes.
    pub name: &'static str,
    /// One line for `--help`.
    pub summary: &'static str,
    /// The cargo feature that compiles it in (`None`: always there).
    pub cargo_feature: Option<&'static str>,
    /// Whether this binary was built with it.
    pub compiled: bool,
    /// Whether it has several devices (`--device N`).
    pub device_indices: bool,
    /// Whether a step's tensors live in host memory, so the process's heap counter measures a
    /// step's memory (true on the CPU; on a GPU the heap holds only bookkeeping).
    pub host_memory_is_step_memory: bool,
    /// Makes the plain device (`index`: which device; only given when `device_indices`).
    /// Called only when `compiled`.
    pub make_device: fn(Option<usize>) -> Device,
}

/// Every built-in backend, in the order `--help` lists them.
pub const BACKENDS: &[&BackendEntry] = &[&cpu::ENTRY, &wgpu::ENTRY, &cuda::ENTRY];

/// A backend chosen by name: a handle to its [`BackendEntry`].
#[derive(Debug, Clone, Copy)]
pub struct BackendKind(&'static BackendEntry);

impl PartialEq for BackendKind {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for BackendKind {}

impl BackendKind {
    /// The CPU backend.
    pub const CPU: Self = Self(&cpu::ENTRY);
    /// The wgpu backend.
    pub const WGPU: Self = Self(&wgpu::ENTRY);
    /// The CUDA backend.
    pub const CUDA: Self = Self(&cuda::ENTRY);

    /// The backend of `entry`.
    pub const fn of(entry: &'static BackendEntry) -> Self {
        Self(entry)
    }

    /// Parses a built-in backend's name (see [`BackendRegistry::parse`] for others).
    pub fn parse(name: &str) -> Result<Self, TrainError> {
        BackendRegistry::with_builtins().parse(name)
    }

    /// Its table entry.
    pub fn entry(self) -> &'static BackendEntry {
        self.0
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// Whether this binary was built with this backend.
    pub fn is_compiled(self) -> bool {
        self.0.compiled
    }

    /// The plain (non-autodiff) device of this backend. `index` picks a GPU (the N-th
    /// discrete GPU for wgpu, CUDA device N for cuda); `None` is the backend's default device.
    /// A backend with a single device refuses an index; a GPU backend is probed with a tiny
    /// computation so that a missing driver is an error here, not a panic later.
    pub fn device(self, index: Option<usize>) -> Result<Device, TrainError> {
        let entry = self.0;
        if !entry.compiled {
            return Err(TrainError::BackendNotCompiled {
                backend: entry.name.to_string(),
                feature: entry.cargo_feature.unwrap_or(entry.name).to_string(),
            });
        }
        if let (false, Some(index)) = (entry.device_indices, index) {
            return Err(TrainError::NoDeviceIndex {
                backend: entry.name.to_string(),
                index,
            });
        }
        let device = (entry.make_device)(index);
        if entry.cargo_feature.is_none() {
            return Ok(device);
        }
        started(self, device)
    }

    /// The autodiff device used for training on this backend; with `checkpointing`, Burn's
    /// gradient-checkpointing strategy (memory-bound activations are recomputed in backward).
    pub fn training_device(
        self,
        index: Option<usize>,
        checkpointing: bool,
    ) -> Result<Device, TrainError> {
        let device = self.device(index)?.autodiff();
        Ok(if checkpointing {
            device.gradient_checkpointing()
        } else {
            device
        })
    }
}

/// The backends a program knows: the built-in [`BACKENDS`] and any it registers.
#[derive(Debug, Clone)]
pub struct BackendRegistry {
    entries: Vec<&'static BackendEntry>,
}

impl BackendRegistry {
    /// Every built-in backend.
    pub fn with_builtins() -> Self {
        Self {
            entries: BACKENDS.to_vec(),
        }
    }

    /// Adds a backend; a name already taken is an error.
    pub fn register(&mut self, entry: &'static BackendEntry) -> Result<(), TrainError> {
        if self.entries.iter().any(|e| e.name == entry.name) {
            return Err(TrainError::DuplicateBackend {
                name: entry.name.to_string(),
            });
        }
        self.entries.push(entry);
        Ok(())
    }

    /// Every backend, in table order.
    pub fn entries(&self) -> &[&'static BackendEntry] {
        &self.entries
    }

    /// The names, comma separated (for help and errors).
    pub fn names(&self) -> String {
        self.entries
            .iter()
            .map(|e| e.name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The backend called `name`.
    pub fn parse(&self, name: &str) -> Result<BackendKind, TrainError> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| BackendKind(e))
            .ok_or_else(|| TrainError::UnknownBackend {
                name: name.to_string(),
                known: self.names(),
            })
    }
}

/// Runs a tiny computation on a GPU `device`. A GPU backend that cannot start (no driver, no
/// adapter, no NVRTC) panics inside Burn on first use; this turns that into an error naming
/// the backend before any data is loaded or any run folder is made. Burn's panic message is
/// kept as the reason (and not printed: the panic hook is silenced for the probe).
fn started(backend: BackendKind, device: Device) -> Result<Device, TrainError> {
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Tensor::<1>::ones([4], &device).sum().into_scalar::<f32>()
    }));
    std::panic::set_hook(previous_hook);
    let reason = match outcome {
        Ok(4.0) => return Ok(device),
        Ok(sum) => format!("a test computation (sum of four ones) gave {sum}"),
        Err(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "the device panicked while starting".to_string()),
    };
    Err(TrainError::BackendUnavailable {
        backend: backend.name().to_string(),
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_backend_is_always_there_and_has_one_device() {
        assert!(BackendKind::CPU.device(None).is_ok());
        let e = BackendKind::CPU.device(Some(1)).unwrap_err().to_string();
        let named = pgl_core::setting("device").with(1).to_string();
        assert!(e.contains(&named) && e.contains("cpu"), "{e}");
    }

    #[test]
    fn a_backend_left_out_of_the_build_names_its_feature() {
        for kind in [BackendKind::WGPU, BackendKind::CUDA] {
            if kind.is_compiled() {
                continue;
            }
            let e = kind.device(None).unwrap_err().to_string();
            assert!(e.contains(&format!("--features {}", kind.name())), "{e}");
        }
    }

    #[test]
    fn names_come_from_the_table_and_unknown_ones_list_it() {
        let registry = BackendRegistry::with_builtins();
        assert_eq!(registry.names(), "cpu, wgpu, cuda");
        for entry in BACKENDS {
            assert_eq!(registry.parse(entry.name).unwrap().name(), entry.name);
        }
        let e = registry.parse("tpu").unwrap_err().to_string();
        assert!(e.contains("`tpu`") && e.contains("cpu, wgpu, cuda"), "{e}");
    }
}
