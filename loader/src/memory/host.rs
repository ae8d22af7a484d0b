//! A provider for host processes (`ext-run`, `sim-device`): regions carved from mapped chunks,
//! W^X, every block in the low 2 GiB of the address space so code built with `-fno-pic`
//! (absolute 32-bit addresses, `R_X86_64_32`/`32S`) runs as it would in a program linked by ld.
//!
//! A load costs few system calls: its regions come from one chunk of at least [`CHUNK`] bytes
//! (one `mmap`, `MAP_32BIT` on x86-64 Linux: between 1 and 2 GiB; elsewhere anywhere), each
//! region on its own pages so code gets `PROT_READ | PROT_EXEC` alone (one `mprotect` per code
//! region when sealed, one to make it writable again when freed). The loader's bookkeeping
//! (`MemKind::Metadata`) has no address constraint and comes from the global allocator. A chunk
//! left empty is unmapped, except one chunk of [`CHUNK`] bytes kept for the next load; so memory
//! and address space freed are reused forever. Calls from extensions to the host's C library,
//! mapped far above, go through the loader's stubs (a GOT entry and an indirect jump per
//! imported function).

use core::ptr::NonNull;
use std::alloc::Layout;
use std::vec::Vec;

use super::arena::Arena;
use super::{Block, MemKind, MemoryProvider, SealError};

/// Where blocks may go: below 2 GiB, so absolute addresses fit a sign-extended 32-bit field.
const LOW_END: u64 = 0x8000_0000;

/// Bytes reserved per chunk (a larger region gets a chunk of its own size). Pages not touched
/// cost nothing; one empty chunk of this size stays mapped for the next load.
pub const CHUNK: usize = 1 << 20;

#[cfg(target_arch = "x86_64")]
const LOW: libc::c_int = libc::MAP_32BIT;
#[cfg(not(target_arch = "x86_64"))]
const LOW: libc::c_int = 0;

/// One mapping regions are carved from (`base` is an address, so the provider stays `Send`).
struct Chunk {
    base: usize,
    len: usize,
    arena: Arena,
    /// Some page was made executable since the chunk was last wholly writable.
    sealed: bool,
}

/// Carves blocks from chunks mapped in the low 2 GiB; see the module documentation.
///
/// Text is writable while the loader writes it and read-execute once sealed: no page is ever
/// writable and executable at once.
pub struct HostProvider {
    page: usize,
    mapped: usize,
    chunks: Vec<Chunk>,
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
        Self {
            page,
            mapped: 0,
            chunks: Vec::new(),
        }
    }

    /// The same as [`HostProvider::new`] (blocks once went next to the host's code; the low
    /// 2 GiB serve `-fno-pic` code too, and the host is reached through stubs).
    pub fn near_host() -> Self {
        Self::new()
    }

    /// Bytes currently mapped for extensions (whole chunks, page-rounded).
    pub fn mapped(&self) -> usize {
        self.mapped
    }

    fn round(&self, size: usize) -> Option<usize> {
        Some(size.checked_next_multiple_of(self.page)?.max(self.page))
    }

    /// Maps a new chunk of at least `len` bytes; `None` if the kernel has no room low enough.
    fn map_chunk(&mut self, len: usize) -> Option<&mut Chunk> {
        let len = len.max(CHUNK);
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
        let high = (p as u64)
            .checked_add(len as u64)
            .is_none_or(|end| end > LOW_END);
        if high && LOW != 0 {
            // MAP_32BIT did not hold: absolute addresses would not fit. (Other hosts cannot run
            // the code anyway; there blocks go wherever the kernel puts them.)
            // SAFETY: `p` is the mapping just made, of `len` bytes.
            unsafe { libc::munmap(p, len) };
            return None;
        }
        self.mapped += len;
        self.chunks.push(Chunk {
            base: p as usize,
            len,
            arena: Arena::new(len),
            sealed: false,
        });
        self.chunks.last_mut()
    }

    /// Makes `len` bytes at `at` writable again (they were sealed as code).
    fn unseal(at: usize, len: usize) {
        // SAFETY: `at..at+len` lies in a live chunk of this provider, and no block in it is
        // live, so nobody runs or reads it as code.
        let rc = unsafe { libc::mprotect(at as *mut _, len, libc::PROT_READ | libc::PROT_WRITE) };
        // Only fails for a range that is not mapped, which a chunk always is.
        debug_assert_eq!(rc, 0);
    }
}

// SAFETY: a non-metadata block is `size` bytes rounded up to whole pages of a live chunk, taken
// from its arena (so no two live blocks overlap), page-aligned (larger alignments are
// rejected), readable and writable until sealed, given back only in `free`. A metadata block is
// a global-allocator allocation of its size and alignment.
unsafe impl MemoryProvider for HostProvider {
    fn alloc(&mut self, kind: MemKind, size: usize, align: usize) -> Option<Block> {
        let align = align.max(1);
        if kind == MemKind::Metadata {
            let layout = Layout::from_size_align(size.max(1), align).ok()?;
            // SAFETY: the layout has a non-zero size.
            let ptr = NonNull::new(unsafe { std::alloc::alloc(layout) })?;
            let addr = ptr.as_ptr() as u64;
            return Some(Block {
                ptr,
                addr,
                size,
                align,
            });
        }
        let len = self.round(size)?;
        if align > self.page {
            // Over-allocate and trim would work too; page alignment covers every real section.
            return None;
        }
        let found = self
            .chunks
            .iter_mut()
            .find_map(|c| Some(c.base + c.arena.take(len)?));
        let at = match found {
            Some(at) => at,
            None => {
                let c = self.map_chunk(len)?;
                c.base + c.arena.take(len)?
            }
        };
        Some(Block {
            ptr: NonNull::new(at as *mut u8)?,
            addr: at as u64,
            size,
            align,
        })
    }

    unsafe fn free(&mut self, kind: MemKind, block: Block) {
        if kind == MemKind::Metadata {
            let layout =
                Layout::from_size_align(block.size.max(1), block.align).expect("valid at alloc");
            // SAFETY: the caller guarantees the block came from `alloc` with this layout.
            unsafe { std::alloc::dealloc(block.ptr.as_ptr(), layout) };
            return;
        }
        let len = self.round(block.size).expect("rounded at alloc");
        let at = block.ptr.as_ptr() as usize;
        let i = self
            .chunks
            .iter()
            .position(|c| (c.base..c.base + c.len).contains(&at))
            .expect("a block of a live chunk");
        let c = &mut self.chunks[i];
        c.arena.give(at - c.base, len);
        if !c.arena.is_empty() {
            if kind.is_code() {
                Self::unseal(at, len);
            }
            return;
        }
        let keep = c.len == CHUNK && self.chunks.iter().filter(|c| c.arena.is_empty()).count() == 1;
        let c = &mut self.chunks[i];
        if keep {
            if c.sealed {
                Self::unseal(c.base, c.len);
                c.sealed = false;
            }
            return;
        }
        let c = self.chunks.swap_remove(i);
        self.mapped -= c.len;
        // SAFETY: the chunk is a live mapping of `len` bytes with no live block left.
        unsafe { libc::munmap(c.base as *mut _, c.len) };
    }

    fn seal(&mut self, kind: MemKind, block: &Block) -> Result<(), SealError> {
        if !kind.is_code() {
            return Ok(());
        }
        let len = self.round(block.size).ok_or(SealError)?;
        let at = block.ptr.as_ptr() as usize;
        let c = self
            .chunks
            .iter_mut()
            .find(|c| (c.base..c.base + c.len).contains(&at))
            .ok_or(SealError)?;
        c.sealed = true;
        // SAFETY: the block is `len` bytes of a live chunk, on pages no other block shares.
        let rc = unsafe { libc::mprotect(at as *mut _, len, libc::PROT_READ | libc::PROT_EXEC) };
        if rc == 0 { Ok(()) } else { Err(SealError) }
    }
}

impl Drop for HostProvider {
    /// Unmaps the chunks no block lives in (a block still live stays mapped: code may run).
    fn drop(&mut self) {
        for c in self.chunks.iter().filter(|c| c.arena.is_empty()) {
            // SAFETY: a live mapping of `len` bytes with no live block.
            unsafe { libc::munmap(c.base as *mut _, c.len) };
        }
    }
}
