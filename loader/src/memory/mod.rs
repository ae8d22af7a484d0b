//! Memory providers: every byte the loader holds comes from one, by kind, and goes back to it.

use core::ptr::NonNull;

#[cfg(feature = "std")]
mod arena;
mod counting;
#[cfg(feature = "std")]
mod host;
mod pool;

pub use counting::{Counting, Usage};
#[cfg(feature = "std")]
pub use host::{CHUNK, HostProvider};
pub use pool::PoolProvider;

/// What a block of memory is for. Providers may place kinds differently (text in executable
/// memory, rodata in flash-friendly areas) and account for them separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemKind {
    /// Executable code.
    Text,
    /// Read-only data, init/fini arrays, export tables of the extension.
    Rodata,
    /// Initialised writable data.
    Data,
    /// Zero-initialised data (`NOBITS` sections and `COMMON` symbols).
    Bss,
    /// Loader-made veneers, stubs and GOT entries.
    Trampoline,
    /// The loader's own bookkeeping (transient during a load, plus a small export index).
    Metadata,
}

impl MemKind {
    /// Every kind, in region order.
    pub const ALL: [MemKind; 6] = [
        MemKind::Text,
        MemKind::Rodata,
        MemKind::Data,
        MemKind::Bss,
        MemKind::Trampoline,
        MemKind::Metadata,
    ];

    /// Index of this kind in [`MemKind::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Its name as `host-push status` prints it: `text`, `rodata`, `data`, `bss`,
    /// `trampoline`, `metadata`.
    pub const fn name(self) -> &'static str {
        match self {
            MemKind::Text => "text",
            MemKind::Rodata => "rodata",
            MemKind::Data => "data",
            MemKind::Bss => "bss",
            MemKind::Trampoline => "trampoline",
            MemKind::Metadata => "metadata",
        }
    }

    /// Whether code runs from this kind (it must be made executable after linking).
    pub const fn is_code(self) -> bool {
        matches!(self, MemKind::Text | MemKind::Trampoline)
    }
}

/// A block handed out by a provider.
///
/// `ptr` is where the loader writes; `addr` is the address the linked code will see. They are the
/// same on a device; a provider that prepares an image for elsewhere (`host-push link`) differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block {
    /// Where the bytes are written.
    pub ptr: NonNull<u8>,
    /// The run-time address of the first byte.
    pub addr: u64,
    /// Size in bytes.
    pub size: usize,
    /// Alignment asked for.
    pub align: usize,
}

impl Block {
    /// Whether `addr..addr+len` lies inside this block.
    pub fn contains(&self, addr: u64, len: u64) -> bool {
        addr >= self.addr
            && addr
                .checked_add(len)
                .is_some_and(|end| end <= self.addr + self.size as u64)
    }
}

/// A provider could not change a region's protection or sync its caches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealError;

/// Hands the loader memory, by kind.
///
/// # Safety
/// A block returned by `alloc` must be valid for reads and writes of `size` bytes through `ptr`,
/// aligned to `align`, and not overlap any other live block, until it is passed to `free`.
pub unsafe trait MemoryProvider {
    /// A block of at least `size` bytes (`size > 0`), aligned to `align` (a power of two), or
    /// `None` when there is no room.
    fn alloc(&mut self, kind: MemKind, size: usize, align: usize) -> Option<Block>;

    /// Takes a block back.
    ///
    /// # Safety
    /// `block` came from `alloc` on this provider with the same `kind` and was not freed since.
    unsafe fn free(&mut self, kind: MemKind, block: Block);

    /// Called once a region is fully written: make code executable (W^X), sync caches.
    fn seal(&mut self, kind: MemKind, block: &Block) -> Result<(), SealError> {
        let _ = (kind, block);
        Ok(())
    }

    /// Bytes still available (for status reports); `None` if unknown.
    fn free_bytes(&self) -> Option<usize> {
        None
    }
}

// SAFETY: forwards to the provider behind the reference, which upholds the contract.
unsafe impl<P: MemoryProvider + ?Sized> MemoryProvider for &mut P {
    fn alloc(&mut self, kind: MemKind, size: usize, align: usize) -> Option<Block> {
        (**self).alloc(kind, size, align)
    }
    unsafe fn free(&mut self, kind: MemKind, block: Block) {
        // SAFETY: the caller's guarantee is passed on unchanged.
        unsafe { (**self).free(kind, block) }
    }
    fn seal(&mut self, kind: MemKind, block: &Block) -> Result<(), SealError> {
        (**self).seal(kind, block)
    }
    fn free_bytes(&self) -> Option<usize> {
        (**self).free_bytes()
    }
}
