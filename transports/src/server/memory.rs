//! How the server learns how much extension memory is used and free, for `Hello` and `Status`.

use llext_loader::memory::{Counting, MemoryProvider, PoolProvider};

/// Usage figures of a memory provider.
pub trait MemoryInfo {
    /// Bytes held by loaded extensions (and any load in progress).
    fn used_memory(&self) -> u64;
    /// Bytes still available, when known.
    fn free_memory(&self) -> Option<u64>;
}

impl<P: MemoryProvider> MemoryInfo for Counting<P> {
    fn used_memory(&self) -> u64 {
        self.usage().total as u64
    }

    fn free_memory(&self) -> Option<u64> {
        self.inner().free_bytes().map(|b| b as u64)
    }
}

impl MemoryInfo for PoolProvider {
    fn used_memory(&self) -> u64 {
        self.used() as u64
    }

    fn free_memory(&self) -> Option<u64> {
        Some(self.free_bytes_now() as u64)
    }
}
