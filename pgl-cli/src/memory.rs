//! The process's counting allocator and its memory probe: every heap allocation of `pgl` is
//! counted, so that the peak memory of local and global steps can be measured on the CPU
//! backend (see `pgl_burn::memory`). A leaf module: the runner asks it for the probe.

use std::sync::Arc;

use pgl_burn::memory::{CountingAllocator, MemoryProbe};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::new();

/// The memory probe of this process.
pub fn probe() -> Arc<dyn MemoryProbe> {
    Arc::new(&ALLOC)
}
