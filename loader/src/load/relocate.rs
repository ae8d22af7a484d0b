//! Streams a relocation section, a chunk of entries at a time, into the back-end.

use super::sections::SecRec;
use super::work::Work;
use crate::Error;
use crate::arch::Trampolines;
use crate::arch::{Arch, RelocState, Site, Target};
use crate::elf::{Class, Reloc};
use crate::memory::MemoryProvider;
use crate::source::Source;

/// Relocation entries read per chunk.
const REL_CHUNK: usize = 16;

/// Streams one relocation section and applies each entry to `target`.
#[allow(clippy::too_many_arguments)]
pub(super) async fn relocate<S: Source, P: MemoryProvider>(
    src: &mut S,
    w: &Work<'_, P>,
    target: &SecRec,
    target_index: u32,
    class: Class,
    rela: bool,
    count: u32,
    arch: Arch,
    first_global: u32,
    tramp: &mut Trampolines,
) -> Result<(), Error> {
    let esz = class.rel_size(rela);
    let (bytes, addr) = w.section_bytes(target).ok_or(Error::malformed(
        "section placement",
        Some(target_index),
        0,
    ))?;
    let mut site = Site {
        bytes,
        addr,
        section: target_index,
    };
    let mut state = RelocState::default();
    let syms = w.syms.as_slice();
    let mut buf = [0u8; REL_CHUNK * 24];
    let mut left = count as usize;
    while left > 0 {
        let k = left.min(REL_CHUNK);
        src.read_exact(&mut buf[..k * esz]).await?;
        left -= k;
        for e in buf[..k * esz].chunks_exact(esz) {
            let r = Reloc::parse(class, rela, e);
            let slot = *syms.get(r.sym as usize).ok_or(Error::malformed(
                "relocation symbol index",
                Some(target_index),
                r.sym.into(),
            ))?;
            let value = if r.sym == 0 {
                0
            } else {
                w.value(slot).ok_or(Error::SymbolNotLoaded {
                    symbol: r.sym,
                    section: target_index,
                    offset: r.offset,
                })?
            };
            let t = Target {
                value,
                slot: r.sym.checked_sub(first_global),
                sym_bits: slot.0,
                weak_zero: slot.is_weak_zero(),
            };
            arch.apply(&r, &mut site, &t, tramp, &mut state)?;
        }
    }
    arch.finish(&state, target_index)
}
