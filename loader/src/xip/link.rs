//! Linking for execute-in-place: the ordinary load, with text, rodata and trampolines given flash
//! addresses (their bytes built in scratch RAM) and data and bss given their fixed RAM range.

use core::ops::Range;
use core::ptr::NonNull;

use super::image::{HEADER, Header};
use crate::extension::{ExtExport, Extension};
use crate::load::{self, LoadParams, Loader, Report};
use crate::memory::{Block, MemKind, MemoryProvider};
use crate::registry::Registry;
use crate::source::Source;
use crate::symbols::Resolve;
use crate::{Error, Name};

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
    /// (their bytes are built in scratch RAM), in the reserved RAM for data and bss (written
    /// there directly); `None` when there is no room.
    fn region(&mut self, kind: MemKind, size: usize, align: usize) -> Option<u64>;

    /// Whether data and bss are built in scratch RAM too (their addresses are not this
    /// machine's).
    fn ram_elsewhere(&self) -> bool;
}

/// A region for a placed load: scratch from `mem` given the placed address, or the reserved RAM
/// itself.
pub(crate) fn alloc_placed<P: MemoryProvider + ?Sized>(
    mem: &mut P,
    place: &mut dyn Place,
    kind: MemKind,
    size: usize,
    align: usize,
) -> Option<Block> {
    let addr = place.region(kind, size, align)?;
    match kind {
        MemKind::Data | MemKind::Bss if !place.ram_elsewhere() => Some(Block {
            ptr: NonNull::new(addr as usize as *mut u8)?,
            addr,
            size,
            align,
        }),
        _ => Some(Block {
            addr,
            ..mem.alloc(MemKind::Data, size, align)?
        }),
    }
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
struct XipPlace<'a> {
    plan: Plan<'a>,
    next_flash: u64,
    placed: [(u64, u64); 2],
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

/// A linked execute-in-place image, its bytes in scratch RAM until [`Linked::release`].
pub struct Linked {
    ext: Extension,
    header: Header,
    /// The address of the image's first byte.
    base: u64,
    /// How its regions were allocated.
    placed: Placed,
}

/// Links the extension in `src` (any section order) for execute-in-place under `plan`: its
/// undefined symbols resolve against the firmware only (an image in flash cannot follow an
/// extension that moves at each boot). Scratch RAM for text, rodata and trampolines comes from
/// `reg`'s provider; give it back with [`Linked::release`].
pub async fn link<S: Source, P: MemoryProvider, R: Resolve, const N: usize>(
    reg: &mut Registry<P, R, N>,
    name: &str,
    plan: &Plan<'_>,
    src: &mut S,
    params: &LoadParams,
    report: &mut dyn FnMut(Report<'_>),
) -> Result<Linked, Error> {
    let (pool, firmware, _) = reg.parts();
    let mut place = XipPlace {
        plan: *plan,
        next_flash: plan.flash + HEADER as u64,
        placed: [(0, 0); 2],
    };
    let loader: Loader<'_, P, R, S::Names> =
        Loader::new(Name::new(name.as_bytes()), pool, firmware, &[], params).placed(&mut place);
    let ext = load::drive(loader, src, report).await?;
    let (pool, ..) = reg.parts();
    let placed = Placed::of(Some(&place));
    match header_of(&ext, plan, place.next_flash) {
        Ok(header) => Ok(Linked {
            ext,
            header,
            base: plan.flash,
            placed,
        }),
        Err(err) => {
            let mut ext = ext;
            release_ext(&mut ext, pool, placed);
            Err(err)
        }
    }
}

/// The header of `ext` linked under `plan`, the flash regions ending at `flash_end`.
fn header_of(ext: &Extension, plan: &Plan<'_>, flash_end: u64) -> Result<Header, Error> {
    let region = |k: MemKind| ext.regions[k.index()].map_or((0, 0), |b| (b.addr, b.size as u64));
    let data_init = (flash_end - plan.flash).next_multiple_of(8);
    let exports = (data_init + region(MemKind::Data).1).next_multiple_of(8);
    let len = exports + ext.exports.len() as u64 * size_of::<ExtExport>() as u64;
    if len > u64::from(plan.room) {
        return Err(Error::Limit {
            what: "execute-in-place image size (the flash slot)",
            value: len,
            limit: plan.room.into(),
        });
    }
    Ok(Header {
        arch: ext.arch,
        ptr_size: ext.ptr_size as u8,
        table_id: plan.table_id,
        n_exports: ext.exports.len() as u32,
        regions: REGIONS.map(region),
        data_init: data_init as u32,
        exports: exports as u32,
        spans: [ext.preinit, ext.init, ext.fini, ext.exported],
        len: len as u32,
    })
}

/// Gives back everything the placed load of `ext` holds from `mem`.
fn release_ext<M: MemoryProvider>(ext: &mut Extension, mem: &mut M, placed: Placed) {
    ext.exports.free(mem);
    for (kind, r) in MemKind::ALL.iter().zip(ext.regions.iter_mut()) {
        if let Some(b) = r.take() {
            // SAFETY: allocated by `alloc_placed` from `mem` with this kind; taken out, freed
            // once.
            unsafe { free_region(mem, placed, *kind, b) };
        }
    }
}

impl Linked {
    /// The image's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Bytes of the whole image.
    pub fn len(&self) -> u32 {
        self.header.len
    }

    /// Whether the image is empty (never: it has a header).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The RAM range its data and bss were given (start, length).
    pub fn ram(&self) -> (u64, u64) {
        self.header.ram()
    }

    /// Fills `buf` with the image's bytes from `offset` (zero between its parts and past its end).
    pub fn read(&self, offset: u32, buf: &mut [u8]) {
        buf.fill(0);
        let head = self.header.to_bytes();
        let flash = self.base;
        let mut put = |at: u64, src: &[u8]| {
            let (o, end) = (u64::from(offset), u64::from(offset) + buf.len() as u64);
            let (s, e) = (at.max(o), (at + src.len() as u64).min(end));
            if s < e {
                buf[(s - o) as usize..(e - o) as usize]
                    .copy_from_slice(&src[(s - at) as usize..(e - at) as usize]);
            }
        };
        put(0, &head);
        for k in [MemKind::Text, MemKind::Rodata, MemKind::Trampoline] {
            if let (Some(b), Some(bytes)) = (self.ext.regions[k.index()], self.bytes(k)) {
                put(b.addr - flash, bytes);
            }
        }
        if let Some(bytes) = self.bytes(MemKind::Data) {
            put(self.header.data_init.into(), bytes);
        }
        for (i, e) in self.ext.exports.as_slice().iter().enumerate() {
            let at = u64::from(self.header.exports) + i as u64 * 16;
            put(at, &e.hash.to_le_bytes());
            put(at + 8, &e.addr.to_le_bytes());
        }
    }

    /// The bytes of region `kind` (where the load wrote them).
    fn bytes(&self, kind: MemKind) -> Option<&[u8]> {
        self.ext.region_bytes(kind)
    }

    /// Gives the scratch RAM back to `reg`'s provider.
    pub fn release<P: MemoryProvider, R: Resolve, const N: usize>(
        mut self,
        reg: &mut Registry<P, R, N>,
    ) {
        let (pool, ..) = reg.parts();
        let placed = self.placed;
        release_ext(&mut self.ext, pool, placed);
    }
}
