//! Linking for execute-in-place, a page at a time: the ordinary load over the installed file
//! with its regions placed (text, rodata and trampolines at flash addresses, data and bss in
//! their fixed RAM range) that leaves text and rodata out; then the image written in address
//! order through a [`Window`] and [`Pages`]: header, each text and rodata section with its
//! relocations applied, trampolines, `.data`'s initial values, the export index.

use super::image::{HEADER, Header};
use super::pages::{LinkIo, Pages};
use super::place::{Placed, Plan, REGIONS, XipPlace, free_region};
use super::window::{Dest, Window};
use crate::extension::{ExtExport, Extension};
use crate::load::{Linking, LoadParams, Loader, NameReader, Need, Report, Seeked};
use crate::memory::{MemKind, MemoryProvider};
use crate::registry::Registry;
use crate::symbols::Resolve;
use crate::{Error, Name};

/// What a link made: the image's header (its bytes went to [`LinkIo::program`]).
#[derive(Clone, Copy, Debug)]
pub struct Linked {
    header: Header,
}

/// Links the extension that `io` reads (the slot it was installed into: any offset, any
/// section order) for execute-in-place under `plan` and hands the image to `io` a chunk at a
/// time, in address order. Its undefined symbols resolve against the firmware only (an image
/// in flash cannot follow an extension that moves at each boot). RAM from `reg`'s provider while
/// it links: the loader's tables (sections, symbols, exports) and the trampolines, never text or
/// rodata; besides, a window of [`super::WINDOW`] section bytes and one chunk, on the stack.
/// Each text or rodata section's relocations must come in address order, as `pack` writes them.
pub async fn link<P: MemoryProvider, R: Resolve, G: LinkIo, const N: usize>(
    reg: &mut Registry<P, R, N>,
    name: &str,
    plan: &Plan<'_>,
    io: &mut G,
    params: &LoadParams,
    report: &mut dyn FnMut(Report<'_>),
) -> Result<Linked, Error> {
    let (pool, firmware, _) = reg.parts();
    let mut place = XipPlace {
        plan: *plan,
        next_flash: plan.flash + HEADER as u64,
        placed: [(0, 0); 2],
    };
    let mut l: Loader<'_, P, R, Seeked> =
        Loader::new(Name::new(name.as_bytes()), pool, firmware, &[], params).placed(&mut place);
    while let Need::Bytes { offset, .. } = l.need() {
        io.read(offset, l.buffer()).await?;
        l.filled(report)?;
    }
    let header = header_of(&l, plan)?;
    let mut pages = Pages::new(io, header).await?;
    write_code(&mut l, io, plan, &mut pages).await?;
    let mut ext = l.finish()?;
    let written = write_data(&ext, &header, io, &mut pages).await;
    let (pool, ..) = reg.parts();
    let placed = match plan.ram_elsewhere {
        true => Placed::AllScratch,
        false => Placed::RamInPlace,
    };
    release_ext(&mut ext, pool, placed);
    written?;
    pages.finish(io).await?;
    Ok(Linked { header })
}

/// Text and rodata section by section in address order, then the trampolines.
async fn write_code<P, R, N, G>(
    l: &mut Loader<'_, P, R, N>,
    io: &mut G,
    plan: &Plan<'_>,
    pages: &mut Pages,
) -> Result<(), Error>
where
    P: MemoryProvider,
    R: Resolve + ?Sized,
    N: NameReader,
    G: LinkIo,
{
    let regions = l.placed_regions();
    let mut win = Window::new();
    for kind in [MemKind::Text, MemKind::Rodata] {
        let Some(region) = regions[kind.index()] else {
            continue;
        };
        let mut after = None;
        while let Some(sec) = l.paged_next(kind, after)? {
            after = Some((sec.place, sec.index));
            let addr = region.addr + u64::from(sec.place);
            let to = Dest {
                addr,
                image: (addr - plan.flash) as u32,
            };
            win.section(l, io, &sec, to, pages).await?;
        }
    }
    if let (Some(b), Some(bytes)) = (regions[MemKind::Trampoline.index()], l.trampoline_bytes()) {
        pages.put(io, (b.addr - plan.flash) as u32, bytes).await?;
    }
    Ok(())
}

/// `.data`'s initial values and the export index.
async fn write_data<G: LinkIo>(
    ext: &Extension,
    h: &Header,
    io: &mut G,
    pages: &mut Pages,
) -> Result<(), Error> {
    if let Some(bytes) = ext.region_bytes(MemKind::Data) {
        pages.put(io, h.data_init, bytes).await?;
    }
    for (i, e) in ext.exports.as_slice().iter().enumerate() {
        let mut entry = [0u8; 16];
        entry[..8].copy_from_slice(&e.hash.to_le_bytes());
        entry[8..].copy_from_slice(&e.addr.to_le_bytes());
        pages.put(io, h.exports + i as u32 * 16, &entry).await?;
    }
    Ok(())
}

/// The header of the load `l` placed under `plan`.
fn header_of<P, R, N>(l: &Loader<'_, P, R, N>, plan: &Plan<'_>) -> Result<Header, Error>
where
    P: MemoryProvider,
    R: Resolve + ?Sized,
    N: NameReader,
{
    let regions = l.placed_regions();
    let region = |k: MemKind| regions[k.index()].map_or((0, 0), |b| (b.addr, b.size as u64));
    let flash_end = [MemKind::Text, MemKind::Rodata, MemKind::Trampoline]
        .map(region)
        .iter()
        .filter(|r| r.1 > 0)
        .map(|r| r.0 + r.1)
        .fold(plan.flash + HEADER as u64, u64::max);
    let data_init = (flash_end - plan.flash).next_multiple_of(8);
    let exports = (data_init + region(MemKind::Data).1).next_multiple_of(8);
    let n_exports = l.export_count();
    let len = exports + n_exports as u64 * size_of::<ExtExport>() as u64;
    if len > u64::from(plan.room) {
        return Err(Error::Limit {
            what: "execute-in-place image size (the flash slot)",
            value: len,
            limit: plan.room.into(),
        });
    }
    let (class, arch) = l.class_arch();
    Ok(Header {
        arch,
        ptr_size: class.addr_size() as u8,
        table_id: plan.table_id,
        n_exports: n_exports as u32,
        regions: REGIONS.map(region),
        data_init: data_init as u32,
        exports: exports as u32,
        spans: l.spans(),
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
}
