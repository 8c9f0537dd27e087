//! Peak-memory measurement of training steps.
//!
//! A [`MemoryProbe`] is asked to [`begin`](MemoryProbe::begin) just before a step and for its
//! [`peak`](MemoryProbe::peak) just after it. What a probe counts depends on the backend:
//!
//! - CPU: [`CountingAllocator`], installed as the binary's `#[global_allocator]`, counts every
//!   heap byte the process allocates. The probe reports the step's *transient* memory: the
//!   highest number of live bytes during the step minus the larger of the live bytes before
//!   and after it. That is the activations, the autodiff graph, the gradients and the optimizer
//!   temporaries of the step; not the weights, the dataset, or optimizer state (which is
//!   created during a module's first update and stays). Allocations of the background batch
//!   loader during the step (a few batches at most) are included.
//!
//! Every measurement synchronises the device first, so it covers the step's work.
//!
//! [`keep_freed_memory`] makes the C allocator reuse freed memory instead of handing it back
//! to the operating system: a training step allocates and frees the same large buffers (im2col
//! columns, activations, gradients) every step, and getting fresh pages from the kernel each
//! time (page faults and zeroing) cost about 7 % of a step's CPU time (docs/perf.md).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Measures the extra memory a step needs.
pub trait MemoryProbe: Send + Sync {
    /// Starts a measurement: remembers the current usage and resets the peak.
    fn begin(&self);
    /// Transient bytes since [`begin`](Self::begin): the highest usage minus the larger of the
    /// usage at `begin` and now.
    fn peak(&self) -> u64;
    /// What is counted, in a few words (shown next to the numbers).
    fn describe(&self) -> &'static str;
}

/// A global allocator that counts live heap bytes and their peak; wraps the system allocator.
///
/// Install it in a binary with
/// `#[global_allocator] static ALLOC: CountingAllocator = CountingAllocator::new();`.
#[derive(Debug)]
pub struct CountingAllocator {
    live: AtomicUsize,
    peak: AtomicUsize,
    baseline: AtomicUsize,
}

impl CountingAllocator {
    /// A counter starting at zero.
    pub const fn new() -> Self {
        Self {
            live: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            baseline: AtomicUsize::new(0),
        }
    }

    /// Bytes currently allocated through this allocator.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }

    fn added(&self, size: usize) {
        let now = self.live.fetch_add(size, Ordering::Relaxed) + size;
        self.peak.fetch_max(now, Ordering::Relaxed);
    }
}

impl Default for CountingAllocator {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are only
// bookkeeping and never influence the returned memory.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            self.added(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            self.added(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        self.live.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            if new_size >= layout.size() {
                self.added(new_size - layout.size());
            } else {
                self.live
                    .fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        new
    }
}

impl MemoryProbe for CountingAllocator {
    fn begin(&self) {
        let live = self.live();
        self.baseline.store(live, Ordering::Relaxed);
        self.peak.store(live, Ordering::Relaxed);
    }

    fn peak(&self) -> u64 {
        let peak = self.peak.load(Ordering::Relaxed);
        let settled = self.baseline.load(Ordering::Relaxed).max(self.live());
        peak.saturating_sub(settled) as u64
    }

    fn describe(&self) -> &'static str {
        "transient heap bytes of a step (CPU allocator count)"
    }
}

/// Makes the process's C allocator keep freed memory for reuse instead of returning it to the
/// operating system (glibc: no `mmap` for large blocks, no trimming of the heap). Call it once,
/// first thing in `main`. It changes only where memory comes from, never a computed value, and
/// does nothing on platforms without glibc. Returns whether the allocator took the settings.
pub fn keep_freed_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes allocator parameters; it is called before any thread
        // of ours starts and takes plain integers.
        unsafe {
            libc::mallopt(libc::M_MMAP_MAX, 0) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX) == 1
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// A probe held by reference, e.g. the binary's `static` counting allocator.
impl<P: MemoryProbe + ?Sized> MemoryProbe for &'static P {
    fn begin(&self) {
        (**self).begin()
    }
    fn peak(&self) -> u64 {
        (**self).peak()
    }
    fn describe(&self) -> &'static str {
        (**self).describe()
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    #[test]
    fn glibc_takes_the_settings_and_large_blocks_still_work() {
        assert!(super::keep_freed_memory());
        // Larger than glibc's largest mmap threshold (32 MiB): now served from the heap.
        for round in 0..3u8 {
            let block = vec![round; 48 << 20];
            assert!(block.iter().all(|&b| b == round));
        }
    }
}
