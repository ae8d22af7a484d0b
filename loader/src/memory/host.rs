//! A provider for host processes (`ext-run`, `sim-device`): one `mmap` per block, W^X, and every
//! block within ±2 GiB of the host's exported functions so `call rel32` reaches them.

use core::ptr::NonNull;

use super::{Block, MemKind, MemoryProvider, SealError};

const REACH: u64 = 0x7fff_0000;

/// Maps each block separately near an anchor address (use the address of an exported function).
///
/// Text is mapped read-write while the loader writes it and read-execute once sealed: no page is
/// ever writable and executable at once.
pub struct HostProvider {
    anchor: u64,
    next: u64,
    page: usize,
    mapped: usize,
}

impl HostProvider {
    /// Places blocks near `anchor`.
    pub fn near(anchor: usize) -> Self {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
        let anchor = anchor as u64;
        Self {
            anchor,
            // Leave room for the host's own heap growing after its image.
            next: (anchor & !0xf_ffff) + 0x1000_0000,
            page,
            mapped: 0,
        }
    }

    /// Places blocks near this function's code, i.e. near the host program's text.
    pub fn near_host() -> Self {
        Self::near(Self::near_host as *const () as usize)
    }

    /// Bytes currently mapped (page-rounded).
    pub fn mapped(&self) -> usize {
        self.mapped
    }

    fn round(&self, size: usize) -> usize {
        size.div_ceil(self.page) * self.page
    }

    fn in_reach(&self, addr: u64, len: u64) -> bool {
        let end = addr + len;
        addr.abs_diff(self.anchor) < REACH && end.abs_diff(self.anchor) < REACH
    }
}

// SAFETY: each block is its own fresh anonymous mapping of at least `size` bytes, page-aligned
// (so aligned to any `align` up to the page size, larger alignments are rejected), readable and
// writable until sealed, and unmapped only in `free`.
unsafe impl MemoryProvider for HostProvider {
    fn alloc(&mut self, _kind: MemKind, size: usize, align: usize) -> Option<Block> {
        let len = self.round(size);
        let align = align.max(1);
        if align > self.page {
            // Over-map and trim would work too; page alignment covers every real section.
            return None;
        }
        for _ in 0..64 {
            let hint = self.next;
            // SAFETY: an anonymous private mapping at a hint; MAP_FIXED_NOREPLACE never replaces
            // an existing mapping.
            let p = unsafe {
                libc::mmap(
                    hint as *mut libc::c_void,
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                    -1,
                    0,
                )
            };
            if p == libc::MAP_FAILED {
                self.next += 0x10_0000;
                continue;
            }
            let addr = p as u64;
            if !self.in_reach(addr, len as u64) {
                // SAFETY: `p` is the mapping just made, of `len` bytes.
                unsafe { libc::munmap(p, len) };
                return None;
            }
            self.next = addr + len as u64;
            self.mapped += len;
            return Some(Block {
                ptr: NonNull::new(p.cast())?,
                addr,
                size,
                align,
            });
        }
        None
    }

    unsafe fn free(&mut self, _kind: MemKind, block: Block) {
        let len = self.round(block.size);
        self.mapped -= len;
        // SAFETY: the caller guarantees the block is a live mapping made by `alloc`.
        unsafe { libc::munmap(block.ptr.as_ptr().cast(), len) };
    }

    fn seal(&mut self, kind: MemKind, block: &Block) -> Result<(), SealError> {
        if !kind.is_code() {
            return Ok(());
        }
        // SAFETY: the block is a live mapping of this length made by `alloc`.
        let rc = unsafe {
            libc::mprotect(
                block.ptr.as_ptr().cast(),
                self.round(block.size),
                libc::PROT_READ | libc::PROT_EXEC,
            )
        };
        if rc == 0 { Ok(()) } else { Err(SealError) }
    }
}
