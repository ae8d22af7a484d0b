//! The RAM flash's bytes in an anonymous mapping that is also executable, so code linked in place
//! into the double runs from it, as it would from a memory-mapped flash.

use core::ops::{Deref, DerefMut};

/// `len` bytes, read-write-execute, page-aligned; freed on drop.
#[derive(Debug)]
pub(crate) struct ExecBytes {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the mapping is owned by this value alone, like a `Vec`'s buffer.
unsafe impl Send for ExecBytes {}
// SAFETY: shared access only reads.
unsafe impl Sync for ExecBytes {}

impl ExecBytes {
    /// `len` bytes of `fill`.
    pub fn new(len: usize, fill: u8) -> Self {
        // SAFETY: a fresh private anonymous mapping; the result is checked.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len.max(1),
                libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert!(p != libc::MAP_FAILED, "mmap of the RAM flash failed");
        let mut b = Self { ptr: p.cast(), len };
        b.fill(fill);
        b
    }
}

impl Deref for ExecBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `len` bytes mapped and initialised in `new`, owned by `self`.
        unsafe { core::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl DerefMut for ExecBytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`; `&mut self` makes the access exclusive.
        unsafe { core::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Clone for ExecBytes {
    fn clone(&self) -> Self {
        let mut b = Self::new(self.len, 0);
        b.copy_from_slice(self);
        b
    }
}

impl Drop for ExecBytes {
    fn drop(&mut self) {
        // SAFETY: mapped in `new` with this length, unmapped once.
        unsafe { libc::munmap(self.ptr.cast(), self.len.max(1)) };
    }
}
