//! A provider wrapper that measures what the loader holds: now, at peak, by kind.

use super::{Block, MemKind, MemoryProvider, SealError};

/// Bytes held from a provider.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Bytes held now, by [`MemKind::index`].
    pub by_kind: [usize; 6],
    /// Bytes held now, all kinds.
    pub total: usize,
    /// The most bytes held at once since the last [`Counting::reset_peak`].
    pub peak: usize,
    /// Blocks held now.
    pub blocks: usize,
}

/// Wraps a provider and counts every block that passes through it.
pub struct Counting<P> {
    inner: P,
    usage: Usage,
}

impl<P: MemoryProvider> Counting<P> {
    /// Counts for `inner`.
    pub fn new(inner: P) -> Self {
        Self {
            inner,
            usage: Usage::default(),
        }
    }

    /// What is held now and the peak.
    pub fn usage(&self) -> Usage {
        self.usage
    }

    /// Starts a new peak measurement from what is held now.
    pub fn reset_peak(&mut self) {
        self.usage.peak = self.usage.total;
    }

    /// The wrapped provider.
    pub fn inner(&self) -> &P {
        &self.inner
    }
}

// SAFETY: every call is forwarded unchanged to `inner`, which upholds the contract.
unsafe impl<P: MemoryProvider> MemoryProvider for Counting<P> {
    fn alloc(&mut self, kind: MemKind, size: usize, align: usize) -> Option<Block> {
        let block = self.inner.alloc(kind, size, align)?;
        let u = &mut self.usage;
        u.by_kind[kind.index()] += size;
        u.total += size;
        u.blocks += 1;
        u.peak = u.peak.max(u.total);
        Some(block)
    }

    unsafe fn free(&mut self, kind: MemKind, block: Block) {
        let u = &mut self.usage;
        u.by_kind[kind.index()] -= block.size;
        u.total -= block.size;
        u.blocks -= 1;
        // SAFETY: the caller's guarantee is passed on unchanged.
        unsafe { self.inner.free(kind, block) }
    }

    fn seal(&mut self, kind: MemKind, block: &Block) -> Result<(), SealError> {
        self.inner.seal(kind, block)
    }

    fn free_bytes(&self) -> Option<usize> {
        self.inner.free_bytes()
    }
}
