//! pgl's offline stand-in for `cubecl-llvm` 0.11.3.
//!
//! `cubecl-cuda` 0.11.3 always depends on `cubecl-llvm`, its LLVM-based PTX kernel compiler,
//! whose build script downloads a prebuilt LLVM from the internet. pgl builds CUDA support
//! on machines without internet access and selects `cubecl-cuda`'s other kernel compiler
//! (CUDA C++ through NVRTC at run time, the `cpp` feature), so the LLVM compiler is never
//! called. This crate keeps the names `cubecl-cuda` refers to and implements none of the
//! compilation: [`PlironCompiler::compile`] returns an error that says why.
//!
//! It is swapped in with `[patch.crates-io]` in the workspace's `Cargo.toml`. Remove the
//! patch when `cubecl-cuda` makes its LLVM dependency optional.

use cubecl_core::ir::DeviceProperties;
use cubecl_core::ir::nvidia::SmArch;
use cubecl_runtime::kernel::KernelDefinition;
use cubecl_core::{CompilationError, Compiler};
use cubecl_runtime::kernel::BufferIOAttr;

/// What the real crate's PTX-version helpers are named.
pub mod nvptx {
    /// PTX ISA versions.
    pub mod ptx_version {
        use core::fmt;

        /// A PTX ISA version, as `major * 10 + minor` (e.g. 90 for PTX 9.0).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct PtxVersion(u32);

        impl PtxVersion {
            /// The stand-in emits no PTX, so it names no version for any driver: the CUDA
            /// runtime stores this only for the LLVM compiler, which is never selected.
            pub fn for_driver(_driver: i32) -> Option<Self> {
                None
            }
        }

        impl fmt::Display for PtxVersion {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}.{}", self.0 / 10, self.0 % 10)
            }
        }
    }
}

/// What the real crate's shared helpers are named.
pub mod shared {
    /// Device-feature restriction for the LLVM compiler.
    pub mod lowered_features {
        use super::super::DeviceProperties;

        /// GPU targets of the LLVM compiler.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum GpuTarget {
            /// NVIDIA PTX.
            Nvptx,
        }

        /// The real crate hides device features its LLVM compiler cannot lower. It is only
        /// called when that compiler is selected, which never happens with this stand-in,
        /// so the properties are left as the device reported them.
        pub fn restrict_features(_props: &mut DeviceProperties, _target: GpuTarget) {}
    }
}

/// Targets of the LLVM compiler.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LlvmTarget {
    /// The host CPU.
    #[default]
    Cpu,
    /// NVIDIA PTX.
    Nvptx,
}

/// Options of the LLVM compiler (accepted and ignored).
#[derive(Clone, Debug, Default)]
pub struct PlironOptions {
    /// AMD architecture (unused).
    pub arch: Option<()>,
    /// NVIDIA architecture.
    pub sm_arch: Option<SmArch>,
    /// PTX version to emit.
    pub ptx_version: Option<nvptx::ptx_version::PtxVersion>,
    /// Whether scalars travel in the kernel parameter block.
    pub grid_constants: bool,
}

/// A compiled PTX module; the stand-in never makes one.
#[derive(Clone, Debug)]
pub struct NvptxModule {
    /// NUL-terminated PTX assembly.
    pub ptx: Vec<core::ffi::c_char>,
    /// Kernel entry point symbol.
    pub entrypoint: String,
    /// IR for logging and cache keys.
    pub ir: String,
    /// Shared memory per launch, in bytes.
    pub shared_memory_size: usize,
    /// Buffer access modes in binding order.
    pub io: Vec<BufferIOAttr>,
}

/// Output of the LLVM compiler.
#[derive(Clone, Debug)]
pub enum PlironArtifact {
    /// PTX for NVIDIA devices.
    NvptxCode(NvptxModule),
    /// Other targets of the real crate (never produced).
    Unsupported,
}

impl core::fmt::Display for PlironArtifact {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PlironArtifact::NvptxCode(module) => f.write_str(&module.ir),
            PlironArtifact::Unsupported => f.write_str("<no artifact>"),
        }
    }
}

/// The LLVM kernel compiler's name, without LLVM behind it.
#[derive(Clone, Debug, Default)]
pub struct PlironCompiler {
    /// Target the kernels would be compiled for.
    pub target: LlvmTarget,
}

/// The message of every compile attempt.
pub const NOT_BUILT_MESSAGE: &str = "pgl was built without cubecl's LLVM kernel compiler \
     (offline stand-in); CUDA kernels are compiled with NVRTC (cubecl-cuda's `cpp` feature)";

impl Compiler for PlironCompiler {
    type Representation = PlironArtifact;
    type CompilationOptions = PlironOptions;

    fn compile(
        &mut self,
        _kernel: KernelDefinition,
        _options: &Self::CompilationOptions,
    ) -> Result<Self::Representation, CompilationError> {
        Err(CompilationError::Generic {
            reason: NOT_BUILT_MESSAGE.to_string(),
            backtrace: Default::default(),
        })
    }

    fn extension(&self) -> &'static str {
        "ll"
    }

    fn lang_tag(&self) -> &'static str {
        "llvm"
    }
}
