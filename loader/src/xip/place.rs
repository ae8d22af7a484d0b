//! Where an execute-in-place link puts things: text, rodata and trampolines at addresses in the
//! flash slot, data and bss in a free range of the reserved RAM.

use core::ops::Range;
use core::ptr::NonNull;

use crate::memory::{Block, MemKind, MemoryProvider};

/// The five regions, in [`MemKind::ALL`] order.
pub(super) const REGIONS: [MemKind; 5] = [
    MemKind::Text,
    MemKind::Rodata,
    MemKind::Data,
    MemKind::Bss,
    MemKind::Trampoline,
];

/// Where an execute-in-place link puts things.
#[derive(Clone, Copy, Debug)]
pub struct Plan<'a> {
    /// The address the image's first byte has in the memory map (its slot in flash).
    pub flash: u64,
    /// Bytes the image may take (the slot size).
    pub room: u32,
    /// The RAM area the firmware reserves for installed extensions' data and bss.
    pub ram: &'a Range<u64>,
    /// Ranges of that area other installed images keep (start, length).
    pub taken: &'a [(u64, u64)],
    /// The firmware's exports table id, recorded in the image.
    pub table_id: u32,
    /// Build data and bss in scratch RAM too instead of at their addresses (linking for
    /// another machine: a host checking the link against GNU ld). A device leaves it `false`.
    pub ram_elsewhere: bool,
}

/// Where an execute-in-place link puts each region instead of the provider's address.
pub(crate) trait Place {
    /// The run-time address of a region of `kind`: in flash for text, rodata and trampolines
    /// (text and rodata written by the page link, trampolines built in scratch RAM), in the
    /// reserved RAM for data and bss (written there directly); `None` when there is no room.
    fn region(&mut self, kind: MemKind, size: usize, align: usize) -> Option<u64>;

    /// Whether data and bss are built in scratch RAM too (their addresses are not this
    /// machine's).
    fn ram_elsewhere(&self) -> bool;
}

/// A region for a placed load: text and rodata an address only (the page link builds their
/// bytes a window at a time, never whole), data and bss the reserved RAM itself (or zeroed
/// scratch when linking for another machine), trampolines zeroed scratch from `mem` given the
/// placed address.
pub(crate) fn alloc_placed<P: MemoryProvider + ?Sized>(
    mem: &mut P,
    place: &mut dyn Place,
    kind: MemKind,
    size: usize,
    align: usize,
) -> Option<Block> {
    let addr = place.region(kind, size, align)?;
    let b = match kind {
        MemKind::Text | MemKind::Rodata => {
            return Some(Block {
                ptr: NonNull::dangling(),
                addr,
                size,
                align,
            });
        }
        MemKind::Data | MemKind::Bss if !place.ram_elsewhere() => Block {
            ptr: NonNull::new(addr as usize as *mut u8)?,
            addr,
            size,
            align,
        },
        _ => Block {
            addr,
            ..mem.alloc(MemKind::Data, size, align)?
        },
    };
    // SAFETY: `size` writable bytes: fresh scratch, or the reserved RAM range `place` gave
    // this link alone. Zeroing gives bss its zeros and padding between sections known values.
    unsafe { core::ptr::write_bytes(b.ptr.as_ptr(), 0, size) };
    Some(b)
}

/// How a load's regions were allocated: by the provider, or placed (with data and bss at their
/// addresses, or in scratch RAM too).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Placed {
    No,
    RamInPlace,
    AllScratch,
}

impl Placed {
    /// How `place` places.
    pub(crate) fn of(place: Option<&dyn Place>) -> Self {
        match place {
            None => Placed::No,
            Some(p) if p.ram_elsewhere() => Placed::AllScratch,
            Some(_) => Placed::RamInPlace,
        }
    }
}

/// Gives back region `b` of `kind`, allocated as `placed` says.
///
/// # Safety
/// `b` came from `mem` that way and is freed once.
pub(crate) unsafe fn free_region<P: MemoryProvider + ?Sized>(
    mem: &mut P,
    placed: Placed,
    kind: MemKind,
    b: Block,
) {
    match (placed, kind) {
        // SAFETY: the caller's guarantee.
        (Placed::No, _) => unsafe { mem.free(kind, b) },
        // An address only (`alloc_placed`), or the reserved RAM itself.
        (_, MemKind::Text | MemKind::Rodata) => {}
        (Placed::RamInPlace, MemKind::Data | MemKind::Bss) => {}
        _ => {
            let b = Block {
                addr: b.ptr.as_ptr() as usize as u64,
                ..b
            };
            // SAFETY: scratch from `mem.alloc(Data, ..)`, its own address back.
            unsafe { mem.free(MemKind::Data, b) }
        }
    }
}

/// The placement of one link: flash addresses from the slot's start, RAM first-fit.
pub(super) struct XipPlace<'a> {
    pub plan: Plan<'a>,
    pub next_flash: u64,
    pub placed: [(u64, u64); 2],
}

impl XipPlace<'_> {
    /// The lowest `align`ed start of `size` free bytes in the reserved area.
    fn fit_ram(&self, size: u64, align: u64) -> Option<u64> {
        let ram = self.plan.ram;
        let mut at = ram.start.next_multiple_of(align);
        'again: loop {
            let end = at.checked_add(size)?;
            if end > ram.end {
                return None;
            }
            for &(s, l) in self.plan.taken.iter().chain(&self.placed) {
                if l > 0 && at < s + l && s < end {
                    at = (s + l).next_multiple_of(align);
                    continue 'again;
                }
            }
            return Some(at);
        }
    }
}

impl Place for XipPlace<'_> {
    fn ram_elsewhere(&self) -> bool {
        self.plan.ram_elsewhere
    }

    fn region(&mut self, kind: MemKind, size: usize, align: usize) -> Option<u64> {
        let (size, align) = (size as u64, align as u64);
        if let MemKind::Data | MemKind::Bss = kind {
            let at = self.fit_ram(size, align)?;
            self.placed[kind.index() - MemKind::Data.index()] = (at, size);
            return Some(at);
        }
        let at = self.next_flash.next_multiple_of(align);
        let end = at.checked_add(size)?;
        if end > self.plan.flash + u64::from(self.plan.room) {
            return None;
        }
        self.next_flash = end;
        Some(at)
    }
}
