//! What a load holds from the memory provider, given back on drop.

use super::Table;
use super::sections::{Layout, SecRec};
use super::symbols::Slot;
use crate::Error;
use crate::arch::{Arch, Trampolines};
use crate::extension::ExtExport;
use crate::memory::{Block, MemKind, MemoryProvider};
use crate::xip::{Place, Placed, alloc_placed, free_region};

/// Everything a load holds from the provider; dropping it (on any error, or if the load future
/// is dropped half-way) gives every byte back.
pub(super) struct Work<'m, P: MemoryProvider> {
    pub mem: &'m mut P,
    pub secs: Table<SecRec>,
    pub syms: Table<Slot>,
    pub exports: Table<ExtExport>,
    pub regions: [Option<Block>; 5],
    /// Where regions go instead of the provider's addresses (an execute-in-place link).
    pub place: Option<&'m mut dyn Place>,
}

impl<P: MemoryProvider> Drop for Work<'_, P> {
    fn drop(&mut self) {
        self.secs.free(self.mem);
        self.syms.free(self.mem);
        self.exports.free(self.mem);
        for (kind, r) in MemKind::ALL.iter().zip(self.regions.iter_mut()) {
            if let Some(b) = r.take() {
                let placed = Placed::of(self.place.as_deref());
                // SAFETY: allocated by `alloc_regions` (placed as `placed` says) from this
                // provider with this kind; taken out so it is freed once.
                unsafe { free_region(self.mem, placed, *kind, b) };
            }
        }
    }
}

impl<P: MemoryProvider> Work<'_, P> {
    /// The bytes and run-time address of loaded section `rec`.
    // The bytes live in a provider block, not in `self`: `&self` only reads the block table.
    #[allow(clippy::mut_from_ref)]
    pub fn section_bytes(&self, rec: &SecRec) -> Option<(&mut [u8], u64)> {
        let b = self.regions[rec.role.region()?.index()]?;
        let (off, len) = (rec.place as usize, rec.size as usize);
        if off.checked_add(len)? > b.size {
            return None;
        }
        // SAFETY: `off..off+len` lies inside the live block (checked above), which this load
        // owns. Callers hold one such slice at a time and never one over the metadata tables.
        let bytes = unsafe { core::slice::from_raw_parts_mut(b.ptr.as_ptr().add(off), len) };
        Some((bytes, b.addr + off as u64))
    }

    pub fn alloc_regions(
        &mut self,
        layout: &Layout,
        arch: Arch,
        slots: u32,
        max: u64,
    ) -> Result<Trampolines, Error> {
        let mut sizes = layout.size.map(u64::from);
        sizes[MemKind::Trampoline.index()] = u64::from(slots) * (8 + arch.slot_size() as u64);
        let total: u64 = sizes.iter().sum();
        if total > max {
            return Err(Error::Limit {
                what: "image size",
                value: total,
                limit: max,
            });
        }
        for (i, kind) in MemKind::ALL[..5].iter().enumerate() {
            // A region of only empty sections still gets an address (one byte).
            let used = layout.used & (1 << i) != 0;
            let size = if used { sizes[i].max(1) } else { sizes[i] } as usize;
            if size == 0 {
                continue;
            }
            let align = (layout.align[i] as usize).max(16);
            let b = match self.place.as_deref_mut() {
                // A placed region is zeroed where it has bytes (`alloc_placed`).
                Some(p) => alloc_placed(self.mem, p, *kind, size, align),
                None => self.mem.alloc(*kind, size, align).inspect(|b| {
                    // SAFETY: a fresh block of `size` writable bytes. Zeroing gives bss its
                    // zeros and padding between sections known values.
                    unsafe { core::ptr::write_bytes(b.ptr.as_ptr(), 0, size) }
                }),
            }
            .ok_or(Error::OutOfMemory { kind: *kind, size })?;
            self.regions[i] = Some(b);
        }
        let block = self.regions[MemKind::Trampoline.index()];
        Ok(Trampolines::new(block, slots, arch.slot_size()))
    }
}
