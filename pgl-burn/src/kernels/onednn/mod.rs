//! 2-D convolutions (forward, input gradient, weight gradient) through oneDNN, the library
//! PyTorch's CPU convolutions come from, when its shared library is installed and the run
//! asked for it ([`select`]): 1.2–4.8× pgl's own kernels on the zoo's shapes (docs/perf.md,
//! "oneDNN itself").
//!
//! The tensors stay in NCHW/OIHW: each call reorders its operands into the layout oneDNN's
//! primitive chose and its result back. Primitives are built once per (pass, geometry) and
//! cached; calls run one at a time (a lock), each on its own stream. Layers with fewer than
//! [`MIN_IN_CHANNELS`] input channels, dilated ones and empty ones stay on pgl's kernels
//! (oneDNN's backward is slower there). Numerics: the same sums in another order, so results
//! differ from pgl's kernels in the last bits; a run is reproducible on one machine with one
//! thread count (OpenMP's, `OMP_NUM_THREADS`).

mod api;
mod execute;
mod prepare;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use api::{Api, Handle, MemoryDesc};

use super::conv_cpu::ConvGeometry;

/// Layers with fewer input channels keep pgl's kernel (the first layers: oneDNN's backward is
/// slower there, docs/perf.md).
pub const MIN_IN_CHANNELS: usize = 4;

/// The names `select` takes: `auto` (oneDNN's where it loads, else pgl's), pgl's own
/// kernels, or oneDNN's where it applies.
pub const KERNEL_NAMES: [&str; 3] = ["auto", "pgl", "onednn"];

static SELECTED: AtomicBool = AtomicBool::new(false);

static CALLS: AtomicU64 = AtomicU64::new(0);

/// How many convolution passes this process has run through oneDNN (a diagnostic: tests and
/// `pgl bench` check that the choice took effect).
pub fn calls() -> u64 {
    CALLS.load(Ordering::Relaxed)
}

/// The kernels `name` means in this process: `onednn` or `pgl` (`auto` is `onednn` where the
/// library loads, else `pgl`). An error says why `onednn` cannot load, or names the choices.
pub fn resolve(name: &str) -> Result<&'static str, String> {
    match name {
        "auto" => Ok(if available().is_ok() { "onednn" } else { "pgl" }),
        "pgl" => Ok("pgl"),
        "onednn" => available().map(|()| "onednn").map_err(|why| {
            format!(
                "{why} (apt install libdnnl2; `--kernels pgl` needs nothing, and a run recorded \
                 with oneDNN continues without it from its weights: `pgl train --init-from`)"
            )
        }),
        other => Err(format!(
            "unknown kernels `{other}`: expected one of {}",
            KERNEL_NAMES.join(", ")
        )),
    }
}

/// Chooses the convolution kernels of this process (see [`resolve`]; pgl's until called).
pub fn select(name: &str) -> Result<(), String> {
    let resolved = resolve(name)?;
    SELECTED.store(resolved == "onednn", Ordering::SeqCst);
    Ok(())
}

/// Whether oneDNN can be loaded here (`Err`: why not).
pub fn available() -> Result<(), String> {
    runtime().map(|_| ())
}

/// Which of a convolution's three computations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Pass {
    Forward,
    InputGrad,
    WeightGrad,
}

/// An operand of a prepared primitive: its argument index, the plain NCHW/OIHW layout of the
/// caller's buffer, the layout the primitive wants (and its size in bytes), and the reorder
/// between them (`None` when they are equal).
struct Operand {
    arg: i32,
    plain: MemoryDesc,
    wanted: MemoryDesc,
    wanted_bytes: usize,
    reorder: Option<Handle>,
}

/// A built primitive and its operands (two inputs, one output).
struct Prepared {
    primitive: Handle,
    inputs: [Operand; 2],
    output: Operand,
}

/// The loaded library, its CPU engine and the primitives built so far.
struct Runtime {
    api: Api,
    engine: Handle,
    prepared: Mutex<HashMap<(Pass, ConvGeometry), Prepared>>,
}

// SAFETY: oneDNN's engine and primitives may be used from any thread; every use of the cache
// (and every execution) holds its lock.
unsafe impl Send for Runtime {}
// SAFETY: as above.
unsafe impl Sync for Runtime {}

fn runtime() -> Result<&'static Runtime, String> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let api = Api::load()?;
            let mut engine = std::ptr::null_mut();
            // SAFETY: a valid out-pointer; CPU engine 0 always exists.
            succeeded(unsafe { (api.engine_create)(&mut engine, api::CPU, 0) })?;
            Ok(Runtime {
                api,
                engine,
                prepared: Mutex::new(HashMap::new()),
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

fn succeeded(status: api::Status) -> Result<(), String> {
    if status == 0 {
        Ok(())
    } else {
        Err(format!("oneDNN call failed with status {status}"))
    }
}

/// The convolution of `geometry` runs through oneDNN (selected, and a shape it is used for).
fn applies(geometry: &ConvGeometry) -> bool {
    SELECTED.load(Ordering::Relaxed)
        && geometry.dilation == [1, 1]
        && geometry.in_channels >= MIN_IN_CHANNELS
        && geometry.output_len() > 0
        && geometry.input_len() > 0
}

/// Forward convolution through oneDNN, or `None` where pgl's kernel runs (not selected, fewer
/// than [`MIN_IN_CHANNELS`] input channels, dilation).
pub fn forward(geometry: &ConvGeometry, x: &[f32], weight: &[f32]) -> Option<Vec<f32>> {
    run(Pass::Forward, geometry, [x, weight])
}

/// The input gradient through oneDNN, or `None` where pgl's kernel runs.
pub fn input_grad(
    geometry: &ConvGeometry,
    output_grad: &[f32],
    weight: &[f32],
) -> Option<Vec<f32>> {
    run(Pass::InputGrad, geometry, [output_grad, weight])
}

/// The weight gradient through oneDNN, or `None` where pgl's kernel runs.
pub fn weight_grad(geometry: &ConvGeometry, x: &[f32], output_grad: &[f32]) -> Option<Vec<f32>> {
    run(Pass::WeightGrad, geometry, [x, output_grad])
}

fn run(pass: Pass, geometry: &ConvGeometry, inputs: [&[f32]; 2]) -> Option<Vec<f32>> {
    if !applies(geometry) {
        return None;
    }
    // oneDNN reads and writes whole plain tensors: slices of other lengths stay with pgl's
    // kernels (which assert the lengths).
    let [first, second, len] = prepare::plain_lens(pass, geometry)?;
    if [inputs[0].len(), inputs[1].len()] != [first, second] {
        return None;
    }
    let runtime = runtime().ok()?;
    // Written whole by oneDNN (the primitive or the reorder into this plain layout), so not
    // zeroed first: zeroing cost 3 % of a ResNet-32 step.
    let mut output = Vec::<f32>::with_capacity(len);
    let mut cache = runtime.prepared.lock().unwrap_or_else(|e| e.into_inner());
    let prepared = match cache.entry((pass, *geometry)) {
        Entry::Occupied(entry) => entry.into_mut(),
        Entry::Vacant(entry) => match runtime.prepare(pass, geometry) {
            Ok(prepared) => entry.insert(prepared),
            Err(why) => {
                warn_once(&why);
                return None;
            }
        },
    };
    match runtime.execute(prepared, inputs, &mut output.spare_capacity_mut()[..len]) {
        Ok(()) => {
            CALLS.fetch_add(1, Ordering::Relaxed);
            // SAFETY: `execute` succeeded, so oneDNN wrote every value of the output's plain
            // layout, which holds `len` values (`prepare::plain_lens`).
            unsafe { output.set_len(len) };
            Some(output)
        }
        Err(why) => {
            warn_once(&why);
            None
        }
    }
}

fn warn_once(why: &str) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        eprintln!("warning: oneDNN convolution failed ({why}); pgl's kernels run instead");
    }
}
