//! A provider for host processes (`ext-run`, `sim-device`): one `mmap` per block, W^X, every
//! block in the low 2 GiB of the address space so code built with `-fno-pic` (absolute 32-bit
//! addresses, `R_X86_64_32`/`32S`) runs as it would in a program linked by ld.
//!
//! Blocks come from the kernel's own allocator of that window (`MAP_32BIT` on x86-64 Linux:
//! between 1 and 2 GiB; elsewhere anywhere), and `free` unmaps them, so memory and address space freed are reused
//! forever. Calls from extensions to the host's C library, mapped far above, go through the
//! loader's stubs (a GOT entry and an indirect jump per imported function).

use core::ptr::NonNull;

use super::{Block, MemKind, MemoryProvider, SealError};

/// Where blocks may go: below 2 GiB, so absolute addresses fit a sign-extended 32-bit field.
const LOW_END: u64 = 0x8000_0000;

#[cfg(target_arch = "x86_64")]
const LOW: libc::c_int = libc::MAP_32BIT;
#[cfg(not(target_arch = "x86_64"))]
const LOW: libc::c_int = 0;

/// Maps each block separately in the low 2 GiB, and unmaps it on free.
///
/// Text is mapped read-write while the loader writes it and read-execute once sealed: no page is
/// ever writable and executable at once.
pub struct HostProvider {
    page: usize,
    mapped: usize,
}

impl Default for HostProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl HostProvider {
    /// A provider placing blocks in the low 2 GiB.
    pub fn new() -> Self {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
        Self { page, mapped: 0 }
    }

    /// The same as [`HostProvider::new`] (blocks once went next to the host's code; the low
    /// 2 GiB serve `-fno-pic` code too, and the host is reached through stubs).
    pub fn near_host() -> Self {
        Self::new()
    }

    /// Bytes currently mapped (page-rounded).
    pub fn mapped(&self) -> usize {
        self.mapped
    }

    fn round(&self, size: usize) -> Option<usize> {
        Some(size.checked_next_multiple_of(self.page)?.max(self.page))
    }
}

// SAFETY: each block is its own fresh anonymous mapping of at least `size` bytes, page-aligned
// (so aligned to any `align` up to the page size, larger alignments are rejected), readable and
// writable until sealed, and unmapped only in `free`.
unsafe impl MemoryProvider for HostProvider {
    fn alloc(&mut self, _kind: MemKind, size: usize, align: usize) -> Option<Block> {
        let len = self.round(size)?;
        if align.max(1) > self.page {
            // Over-map and trim would work too; page alignment covers every real section.
            return None;
        }
        // SAFETY: an anonymous private mapping wherever the kernel finds room in the low window;
        // it replaces nothing.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | LOW,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        let addr = p as u64;
        let high = addr.checked_add(len as u64).is_none_or(|end| end > LOW_END);
        if high && LOW != 0 {
            // MAP_32BIT did not hold: absolute addresses would not fit. (Other hosts cannot run
            // the code anyway; there blocks go wherever the kernel puts them.)
            // SAFETY: `p` is the mapping just made, of `len` bytes.
            unsafe { libc::munmap(p, len) };
            return None;
        }
        self.mapped += len;
        Some(Block {
            ptr: NonNull::new(p.cast())?,
            addr,
            size,
            align: align.max(1),
        })
    }

    unsafe fn free(&mut self, _kind: MemKind, block: Block) {
        let len = self.round(block.size).expect("rounded at alloc");
        self.mapped -= len;
        // SAFETY: the caller guarantees the block is a live mapping made by `alloc`.
        unsafe { libc::munmap(block.ptr.as_ptr().cast(), len) };
    }

    fn seal(&mut self, kind: MemKind, block: &Block) -> Result<(), SealError> {
        if !kind.is_code() {
            return Ok(());
        }
        let len = self.round(block.size).ok_or(SealError)?;
        // SAFETY: the block is a live mapping of this length made by `alloc`.
        let rc = unsafe {
            libc::mprotect(
                block.ptr.as_ptr().cast(),
                len,
                libc::PROT_READ | libc::PROT_EXEC,
            )
        };
        if rc == 0 { Ok(()) } else { Err(SealError) }
    }
}
