//! Loading an execute-in-place image: check it, copy `.data`'s initial values, zero `.bss`. No
//! relocation, no copy of code, nothing taken from the memory provider.

use core::ops::Range;
use core::ptr::NonNull;

use super::image::{HEADER, Header};
use crate::arch::Arch;
use crate::extension::{ExtExport, Extension, LoadStats};
use crate::load::Table;
use crate::memory::{Block, MemKind, MemoryProvider};
use crate::registry::Registry;
use crate::symbols::Resolve;
use crate::{Error, Name};

fn bad(what: &'static str, value: u64) -> Error {
    Error::Malformed {
        what,
        section: None,
        value,
    }
}

/// Checks every address and offset `h` gives against the image (`base`, `len` bytes mapped)
/// and the reserved RAM area, so a damaged or hostile header cannot point anywhere else.
fn check(h: &Header, base: u64, len: usize, ram: &Range<u64>) -> Result<(), Error> {
    if h.len as usize > len || (h.len as usize) < HEADER {
        return Err(bad("execute-in-place image length", h.len.into()));
    }
    let inside = |(a, s): (u64, u64), r: Range<u64>| {
        s == 0 || (a >= r.start && a.checked_add(s).is_some_and(|e| e <= r.end))
    };
    let code = base + HEADER as u64..base + u64::from(h.data_init);
    for k in [MemKind::Text, MemKind::Rodata, MemKind::Trampoline] {
        if !inside(h.region(k), code.clone()) {
            return Err(bad(
                "execute-in-place region outside its image",
                h.region(k).0,
            ));
        }
    }
    for k in [MemKind::Data, MemKind::Bss] {
        if !inside(h.region(k), ram.clone()) {
            return Err(bad(
                "execute-in-place data outside this firmware's reserved RAM (install it again)",
                h.region(k).0,
            ));
        }
    }
    let data_end = u64::from(h.data_init) + h.region(MemKind::Data).1;
    let exports_end = u64::from(h.exports) + u64::from(h.n_exports) * 16;
    if data_end > h.len.into()
        || exports_end > h.len.into()
        || !h.exports.is_multiple_of(8)
        || !base.is_multiple_of(8)
    {
        return Err(bad("execute-in-place data or export index", exports_end));
    }
    let rodata = h.region(MemKind::Rodata).1;
    if h.spans
        .iter()
        .any(|s| u64::from(s.off) + u64::from(s.len) > rodata)
    {
        return Err(bad("execute-in-place init arrays outside rodata", rodata));
    }
    if usize::from(h.ptr_size) != size_of::<usize>() {
        return Err(bad("execute-in-place pointer size", h.ptr_size.into()));
    }
    Ok(())
}

/// Loads the execute-in-place image `image` (its slot, as mapped in memory) into `reg` under
/// `name`: checks it was linked for this architecture and for `table_id` (else
/// [`Error::Relink`]: install it again), copies `.data`'s initial values to its RAM range,
/// zeroes `.bss`. Constructors are the caller's, as for any load ([`Extension::bringup`]).
///
/// # Safety
/// `image` must stay mapped and unchanged while the extension is loaded, and `ram` must be the
/// area the firmware reserves for installed extensions: this writes the image's data and bss
/// ranges there, which no other loaded extension may use.
pub unsafe fn load_in_place<P: MemoryProvider, R: Resolve, const N: usize>(
    reg: &mut Registry<P, R, N>,
    name: &str,
    image: &'static [u8],
    ram: &Range<u64>,
    table_id: u32,
) -> Result<usize, Error> {
    let h = Header::parse(image)?;
    if Some(h.arch) != Arch::native() {
        return Err(Error::WrongMachine {
            found: h.arch.machine(),
            expected: Arch::native().map_or(0, Arch::machine),
        });
    }
    if h.table_id != table_id {
        return Err(Error::Relink {
            linked: h.table_id,
            firmware: table_id,
        });
    }
    let base = image.as_ptr() as usize as u64;
    check(&h, base, image.len(), ram)?;
    if reg.find(name).is_some() {
        return Err(Error::AlreadyLoaded);
    }
    let block = |k: MemKind| {
        let (addr, size) = h.region(k);
        let ptr = NonNull::new(addr as usize as *mut u8)?;
        (size > 0).then_some(Block {
            ptr,
            addr,
            size: size as usize,
            align: 1,
        })
    };
    let regions = super::place::REGIONS.map(block);
    if let Some(d) = regions[MemKind::Data.index()] {
        let init = &image[h.data_init as usize..h.data_init as usize + d.size];
        // SAFETY: `check` put the data range inside the reserved RAM, which the caller gives us.
        unsafe { core::ptr::copy_nonoverlapping(init.as_ptr(), d.ptr.as_ptr(), d.size) };
    }
    if let Some(b) = regions[MemKind::Bss.index()] {
        // SAFETY: as for data.
        unsafe { core::ptr::write_bytes(b.ptr.as_ptr(), 0, b.size) };
    }
    let exports = match NonNull::new(image[h.exports as usize..].as_ptr().cast_mut()) {
        Some(ptr) if h.n_exports > 0 => Table::in_place(
            Block {
                ptr,
                addr: ptr.as_ptr() as usize as u64,
                size: h.n_exports as usize * size_of::<ExtExport>(),
                align: 8,
            },
            h.n_exports as usize,
        ),
        _ => Table::EMPTY,
    };
    let [preinit, init, fini, exported] = h.spans;
    let stats = LoadStats {
        image_bytes: regions.iter().flatten().map(|b| b.size).sum(),
        ..LoadStats::default()
    };
    reg.insert(Extension {
        name: Name::new(name.as_bytes()),
        arch: h.arch,
        regions,
        exports,
        preinit,
        init,
        fini,
        exported,
        ptr_size: h.ptr_size.into(),
        deps: 0,
        use_count: 1,
        stats,
        in_place: true,
    })
}
