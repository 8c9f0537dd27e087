//! The part of oneDNN's C API (version 2.6, `libdnnl.so.2`) the convolutions use, loaded at
//! run time with `dlopen`, so that pgl builds and runs without oneDNN and uses it where the
//! shared library is installed (Debian: `libdnnl2`).
//!
//! oneDNN 2.x passes memory and operation descriptors as plain C structs; they are held here
//! as opaque, aligned byte blocks of the sizes of version 2.6 (checked: the library must report
//! 2.6, whose header gives these sizes).

use std::ffi::{CStr, c_char, c_int, c_void};

/// `dnnl_status_t`: 0 is success.
pub type Status = c_int;

/// `dnnl_memory_desc_t` of oneDNN 2.6 (696 bytes, 8-aligned), opaque.
#[repr(C, align(8))]
pub struct MemoryDesc(pub [u8; 696]);

/// `dnnl_convolution_desc_t` of oneDNN 2.6 (5976 bytes, 8-aligned), opaque.
#[repr(C, align(8))]
pub struct ConvDesc(pub [u8; 5976]);

/// `dnnl_exec_arg_t`: an argument index (`DNNL_ARG_*`) and its memory.
#[repr(C)]
pub struct ExecArg {
    /// `DNNL_ARG_SRC`, … (the constants below).
    pub arg: c_int,
    /// The memory object.
    pub memory: Handle,
}

/// `dnnl_version_t`.
#[repr(C)]
pub struct Version {
    major: c_int,
    minor: c_int,
    patch: c_int,
}

/// Any oneDNN object handle (engine, stream, memory, primitive, primitive descriptor).
pub type Handle = *mut c_void;

/// `DNNL_ARG_SRC` (also `DNNL_ARG_FROM` of a reorder).
pub const ARG_SRC: c_int = 1;
/// `DNNL_ARG_DST` (also `DNNL_ARG_TO` of a reorder).
pub const ARG_DST: c_int = 17;
/// `DNNL_ARG_WEIGHTS`.
pub const ARG_WEIGHTS: c_int = 33;
/// `DNNL_ARG_DIFF_SRC`.
pub const ARG_DIFF_SRC: c_int = 129;
/// `DNNL_ARG_DIFF_DST`.
pub const ARG_DIFF_DST: c_int = 145;
/// `DNNL_ARG_DIFF_WEIGHTS`.
pub const ARG_DIFF_WEIGHTS: c_int = 161;
/// `dnnl_f32`.
pub const F32: c_int = 3;
/// `dnnl_nchw` (= `dnnl_oihw`: plain row-major 4-D).
pub const PLAIN_4D: c_int = 5;
/// `dnnl_format_tag_any`: the primitive chooses.
pub const ANY: c_int = 1;
/// `dnnl_forward_training`.
pub const FORWARD_TRAINING: c_int = 64;
/// `dnnl_convolution_direct`.
pub const CONVOLUTION_DIRECT: c_int = 1;
/// `dnnl_cpu`.
pub const CPU: c_int = 1;
/// `dnnl_query_src_md` … `dnnl_query_diff_dst_md`.
pub const QUERY_SRC: c_int = 129;
/// `dnnl_query_diff_src_md`.
pub const QUERY_DIFF_SRC: c_int = 130;
/// `dnnl_query_weights_md`.
pub const QUERY_WEIGHTS: c_int = 131;
/// `dnnl_query_diff_weights_md`.
pub const QUERY_DIFF_WEIGHTS: c_int = 132;
/// `dnnl_query_dst_md`.
pub const QUERY_DST: c_int = 133;
/// `dnnl_query_diff_dst_md`.
pub const QUERY_DIFF_DST: c_int = 134;

type Dims = *const i64;
type Md = *const MemoryDesc;

/// The functions, resolved from the shared library.
#[allow(missing_docs)]
pub struct Api {
    pub engine_create: unsafe extern "C" fn(*mut Handle, c_int, usize) -> Status,
    pub stream_create: unsafe extern "C" fn(*mut Handle, Handle, u32) -> Status,
    pub stream_wait: unsafe extern "C" fn(Handle) -> Status,
    pub stream_destroy: unsafe extern "C" fn(Handle) -> Status,
    pub memory_desc_init_by_tag:
        unsafe extern "C" fn(*mut MemoryDesc, c_int, Dims, c_int, c_int) -> Status,
    pub memory_desc_equal: unsafe extern "C" fn(Md, Md) -> c_int,
    pub memory_desc_get_size: unsafe extern "C" fn(Md) -> usize,
    pub convolution_forward_desc_init: unsafe extern "C" fn(
        *mut ConvDesc,
        c_int,
        c_int,
        Md,
        Md,
        Md,
        Md,
        Dims,
        Dims,
        Dims,
    ) -> Status,
    pub convolution_backward_data_desc_init:
        unsafe extern "C" fn(*mut ConvDesc, c_int, Md, Md, Md, Dims, Dims, Dims) -> Status,
    pub convolution_backward_weights_desc_init:
        unsafe extern "C" fn(*mut ConvDesc, c_int, Md, Md, Md, Md, Dims, Dims, Dims) -> Status,
    pub primitive_desc_create: unsafe extern "C" fn(
        *mut Handle,
        *const c_void,
        *const c_void,
        Handle,
        *const c_void,
    ) -> Status,
    pub primitive_desc_query_md: unsafe extern "C" fn(*const c_void, c_int, c_int) -> Md,
    pub primitive_desc_destroy: unsafe extern "C" fn(Handle) -> Status,
    pub primitive_create: unsafe extern "C" fn(*mut Handle, *const c_void) -> Status,
    pub primitive_execute:
        unsafe extern "C" fn(*const c_void, Handle, c_int, *const ExecArg) -> Status,
    pub memory_create: unsafe extern "C" fn(*mut Handle, Md, Handle, Handle) -> Status,
    pub memory_destroy: unsafe extern "C" fn(Handle) -> Status,
    pub reorder_primitive_desc_create:
        unsafe extern "C" fn(*mut Handle, Md, Handle, Md, Handle, *const c_void) -> Status,
}

/// Resolves `name` in `library` as a function pointer of type `F`.
///
/// # Safety
/// `F` must be the function's C signature.
unsafe fn symbol<F: Copy>(library: *mut c_void, name: &CStr) -> Result<F, String> {
    // SAFETY: `library` is a handle `dlopen` returned, `name` is NUL-terminated.
    let address = unsafe { libc::dlsym(library, name.as_ptr()) };
    if address.is_null() {
        return Err(format!("libdnnl has no symbol {}", name.to_string_lossy()));
    }
    assert_eq!(size_of::<F>(), size_of::<*mut c_void>());
    // SAFETY: a non-null symbol of the C signature `F` (the caller's promise).
    Ok(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&address) })
}

/// Asks the OpenMP runtime that libdnnl brings (libgomp, which reads its settings once, when it
/// is loaded) to put its threads to sleep between oneDNN calls instead of spinning, unless the
/// user chose a wait policy. Spinning OpenMP threads take the cores from the rayon workers that
/// run everything else in a step: ResNet-32 K=16's local steps ran at 178–213 images/s with
/// libgomp's default and 245–254 with passive waiting (2-core machine, docs/perf.md).
fn passive_openmp_threads() {
    let chosen = ["OMP_WAIT_POLICY", "GOMP_SPINCOUNT"]
        .iter()
        .any(|name| std::env::var_os(name).is_some());
    if !chosen {
        // SAFETY: set once, before libgomp is loaded, under the OnceLock that loads the
        // library. Other threads may run (a CLI's setup has few; parallel tests many): Rust's
        // readers of the environment take the same lock as `set_var`; a C `getenv` on another
        // thread at this moment would race, and none of pgl's code or the libraries it calls
        // during setup does one.
        unsafe { std::env::set_var("OMP_WAIT_POLICY", "passive") };
    }
}

impl Api {
    /// Loads `libdnnl.so.2` and resolves every function; an error says what is missing (the
    /// library, a symbol, or a version other than 2.6).
    pub fn load() -> Result<Self, String> {
        let name = c"libdnnl.so.2";
        passive_openmp_threads();
        // SAFETY: dlopen with a NUL-terminated name; the handle is never closed (the
        // functions live as long as the process).
        let library = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if library.is_null() {
            // SAFETY: dlerror returns a NUL-terminated message or null.
            let why = unsafe { libc::dlerror() };
            let why = if why.is_null() {
                "not found".to_string()
            } else {
                // SAFETY: non-null, NUL-terminated (dlerror's contract).
                unsafe { CStr::from_ptr(why as *const c_char) }
                    .to_string_lossy()
                    .into_owned()
            };
            return Err(format!("cannot load libdnnl.so.2 (oneDNN 2.6): {why}"));
        }
        // SAFETY: each name is resolved with the signature of oneDNN 2.6's header.
        unsafe {
            let version: unsafe extern "C" fn() -> *const Version =
                symbol(library, c"dnnl_version")?;
            let v = &*version();
            if (v.major, v.minor) != (2, 6) {
                return Err(format!(
                    "libdnnl.so.2 is oneDNN {}.{}.{}; pgl's binding needs 2.6",
                    v.major, v.minor, v.patch
                ));
            }
            Ok(Self {
                engine_create: symbol(library, c"dnnl_engine_create")?,
                stream_create: symbol(library, c"dnnl_stream_create")?,
                stream_wait: symbol(library, c"dnnl_stream_wait")?,
                stream_destroy: symbol(library, c"dnnl_stream_destroy")?,
                memory_desc_init_by_tag: symbol(library, c"dnnl_memory_desc_init_by_tag")?,
                memory_desc_equal: symbol(library, c"dnnl_memory_desc_equal")?,
                memory_desc_get_size: symbol(library, c"dnnl_memory_desc_get_size")?,
                convolution_forward_desc_init: symbol(
                    library,
                    c"dnnl_convolution_forward_desc_init",
                )?,
                convolution_backward_data_desc_init: symbol(
                    library,
                    c"dnnl_convolution_backward_data_desc_init",
                )?,
                convolution_backward_weights_desc_init: symbol(
                    library,
                    c"dnnl_convolution_backward_weights_desc_init",
                )?,
                primitive_desc_create: symbol(library, c"dnnl_primitive_desc_create")?,
                primitive_desc_query_md: symbol(library, c"dnnl_primitive_desc_query_md")?,
                primitive_desc_destroy: symbol(library, c"dnnl_primitive_desc_destroy")?,
                primitive_create: symbol(library, c"dnnl_primitive_create")?,
                primitive_execute: symbol(library, c"dnnl_primitive_execute")?,
                memory_create: symbol(library, c"dnnl_memory_create")?,
                memory_destroy: symbol(library, c"dnnl_memory_destroy")?,
                reorder_primitive_desc_create: symbol(
                    library,
                    c"dnnl_reorder_primitive_desc_create",
                )?,
            })
        }
    }
}
