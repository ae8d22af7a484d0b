//! A fixed pool over a `&'static mut [u8]`, for firmware without a global allocator.

use core::alloc::Layout;

use linked_list_allocator::Heap;

use super::{Block, MemKind, MemoryProvider, SealError};

/// All kinds of memory from one static buffer, managed by `linked_list_allocator`.
///
/// On a microcontroller RAM is executable (or the MPU is set by the application), so `seal` only
/// orders memory; applications with caches wrap this provider to flush them.
pub struct PoolProvider {
    heap: Heap,
    size: usize,
}

impl PoolProvider {
    /// Manages `memory`.
    pub fn new(memory: &'static mut [core::mem::MaybeUninit<u8>]) -> Self {
        let size = memory.len();
        Self {
            heap: Heap::from_slice(memory),
            size,
        }
    }

    /// Total size of the pool.
    pub fn capacity(&self) -> usize {
        self.size
    }

    /// Bytes free now.
    pub fn free_bytes_now(&self) -> usize {
        self.heap.free()
    }

    /// Bytes currently handed out.
    pub fn used(&self) -> usize {
        self.heap.used()
    }
}

// SAFETY: blocks come from `linked_list_allocator`, which hands out disjoint, aligned ranges of
// the buffer this provider owns for `'static`.
unsafe impl MemoryProvider for PoolProvider {
    fn alloc(&mut self, _kind: MemKind, size: usize, align: usize) -> Option<Block> {
        let layout = Layout::from_size_align(size, align).ok()?;
        let ptr = self.heap.allocate_first_fit(layout).ok()?;
        Some(Block {
            ptr,
            addr: ptr.as_ptr() as usize as u64,
            size,
            align,
        })
    }

    unsafe fn free(&mut self, _kind: MemKind, block: Block) {
        // The layout is rebuilt exactly as `alloc` made it, so it is valid.
        let layout = Layout::from_size_align(block.size, block.align).expect("layout from alloc");
        // SAFETY: the caller guarantees the block came from `alloc` and is live.
        unsafe { self.heap.deallocate(block.ptr, layout) }
    }

    fn seal(&mut self, _kind: MemKind, _block: &Block) -> Result<(), SealError> {
        core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
        Ok(())
    }

    fn free_bytes(&self) -> Option<usize> {
        Some(self.heap.free())
    }
}
