//! A memory budget around a provider, so the simulated device has a finite extension memory to
//! report (`free_memory`) and to run out of, like a firmware's pool.

use llext_loader::memory::{Block, MemKind, MemoryProvider, SealError};

/// Hands out at most `limit` bytes from `inner`.
pub struct Budget<P> {
    inner: P,
    limit: usize,
    used: usize,
}

impl<P> Budget<P> {
    /// Limits `inner` to `limit` bytes.
    pub fn new(inner: P, limit: usize) -> Self {
        Self {
            inner,
            limit,
            used: 0,
        }
    }
}

// SAFETY: blocks come unchanged from `inner`, which upholds the contract; this only refuses some.
unsafe impl<P: MemoryProvider> MemoryProvider for Budget<P> {
    fn alloc(&mut self, kind: MemKind, size: usize, align: usize) -> Option<Block> {
        if self.used.checked_add(size)? > self.limit {
            return None;
        }
        let b = self.inner.alloc(kind, size, align)?;
        self.used += size;
        Some(b)
    }

    unsafe fn free(&mut self, kind: MemKind, block: Block) {
        self.used -= block.size;
        // SAFETY: the caller's guarantee is passed on unchanged.
        unsafe { self.inner.free(kind, block) }
    }

    fn seal(&mut self, kind: MemKind, block: &Block) -> Result<(), SealError> {
        self.inner.seal(kind, block)
    }

    fn free_bytes(&self) -> Option<usize> {
        Some(self.limit - self.used)
    }
}
