//! Typed arrays in provider memory: the loader's bookkeeping never touches a global allocator.

use core::marker::PhantomData;

use crate::Error;
use crate::memory::{Block, MemKind, MemoryProvider};

/// `len` values of `T` in one metadata block (no block at all when `len` is 0).
pub(crate) struct Table<T> {
    block: Option<Block>,
    len: usize,
    _t: PhantomData<T>,
}

impl<T: Copy + Default> Table<T> {
    pub(crate) const EMPTY: Self = Self {
        block: None,
        len: 0,
        _t: PhantomData,
    };

    /// `len` values already in `block` (an export index in flash), never freed: a loaded
    /// extension that holds one does not give its blocks back ([`crate::xip`]).
    pub(crate) fn in_place(block: Block, len: usize) -> Self {
        Self {
            block: Some(block),
            len,
            _t: PhantomData,
        }
    }

    /// Allocates `len` default values.
    pub(crate) fn alloc<P: MemoryProvider + ?Sized>(
        mem: &mut P,
        len: usize,
    ) -> Result<Self, Error> {
        if len == 0 {
            return Ok(Self::EMPTY);
        }
        let size = len.checked_mul(size_of::<T>()).ok_or(Error::OutOfMemory {
            kind: MemKind::Metadata,
            size: usize::MAX,
        })?;
        let block =
            mem.alloc(MemKind::Metadata, size, align_of::<T>())
                .ok_or(Error::OutOfMemory {
                    kind: MemKind::Metadata,
                    size,
                })?;
        let mut t = Self {
            block: Some(block),
            len,
            _t: PhantomData,
        };
        t.as_mut_slice().fill(T::default());
        Ok(t)
    }

    /// The values.
    pub(crate) fn as_slice(&self) -> &[T] {
        match self.block {
            // SAFETY: the block holds `len` initialised `T`s (written in `alloc`), is aligned for
            // `T` (asked for in `alloc`) and is owned by this table alone.
            Some(b) => unsafe { core::slice::from_raw_parts(b.ptr.as_ptr().cast::<T>(), self.len) },
            None => &[],
        }
    }

    /// The values, mutably.
    pub(crate) fn as_mut_slice(&mut self) -> &mut [T] {
        match self.block {
            // SAFETY: as in `as_slice`; `&mut self` makes the access exclusive. Before the fill in
            // `alloc` the memory is uninitialised, but `T: Copy` has no drop glue and `fill` only
            // writes.
            Some(b) => unsafe {
                core::slice::from_raw_parts_mut(b.ptr.as_ptr().cast::<T>(), self.len)
            },
            None => &mut [],
        }
    }

    /// Number of values.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Returns the block to `mem`.
    pub(crate) fn free<P: MemoryProvider + ?Sized>(&mut self, mem: &mut P) {
        if let Some(b) = self.block.take() {
            // SAFETY: the block came from `mem.alloc(Metadata, ..)` in `alloc` and is freed once
            // (taken out of the table).
            unsafe { mem.free(MemKind::Metadata, b) };
        }
        self.len = 0;
    }

    /// Hands the block over (to an `Extension`).
    pub(crate) fn take(&mut self) -> Self {
        core::mem::replace(self, Self::EMPTY)
    }
}
