//! One section of text or rodata through a window of [`WINDOW`] bytes: its bytes read from the
//! file as the relocations (in address order, as `pack` writes them) reach them, each
//! relocation applied while the bytes it patches are in the window, and bytes no later
//! relocation can reach handed on to the flash pages. RAM: the window, whatever the section's
//! size.

use super::pages::{LinkIo, Pages};
use crate::Error;
use crate::elf::Class;
use crate::load::{Loader, NameReader, PagedSection};
use crate::memory::MemoryProvider;
use crate::symbols::Resolve;

/// Bytes of a section held at once.
pub const WINDOW: usize = 1024;
/// Bytes behind the relocation being applied that a later one may still patch, so the window
/// keeps them: a RISC-V `PCREL_LO12` comes right after its `PCREL_HI20` in a packed file, and
/// its instruction may lie before the `auipc`.
const BEHIND: u32 = 256;
/// Bytes from a relocation's offset that must be in the window while it is applied (the
/// widest field, a ULEB128, and a `SET`/`SUB` pair at one offset).
const FIELD: u32 = 16;
/// Bytes of relocation entries read at once.
const ENTRIES: usize = 192;

/// Relocation entries, aligned as the relocation loop reads them (words).
#[repr(C, align(8))]
struct Entries([u8; ENTRIES]);

/// A section's bytes `lo..hi` (offsets in the section) in `buf`.
pub(super) struct Window {
    buf: [u8; WINDOW],
    lo: u32,
    hi: u32,
}

/// Where one section goes: its run-time address and its offset in the image.
#[derive(Clone, Copy)]
pub(super) struct Dest {
    pub addr: u64,
    pub image: u32,
}

const OUT_OF_ORDER: &str = "relocation entries out of address order for a page-at-a-time link in \
    place (pack it again with host-push pack, or install it without --xip)";

impl Window {
    pub(super) const fn new() -> Self {
        Window {
            buf: [0; WINDOW],
            lo: 0,
            hi: 0,
        }
    }

    /// Writes section `sec` (its relocations applied) to `pages`.
    pub(super) async fn section<P, R, N, G>(
        &mut self,
        l: &mut Loader<'_, P, R, N>,
        io: &mut G,
        sec: &PagedSection,
        to: Dest,
        pages: &mut Pages,
    ) -> Result<(), Error>
    where
        P: MemoryProvider,
        R: Resolve + ?Sized,
        N: NameReader,
        G: LinkIo,
    {
        let Some(file) = sec.file else {
            return Ok(()); // no bytes: zeros, as the pages fill gaps
        };
        (self.lo, self.hi) = (0, 0);
        if let Some((at, count, rela)) = sec.rel {
            let class = l.class_arch().0;
            let esz = class.rel_size(rela);
            let mut e = Entries([0; ENTRIES]);
            l.paged_begin();
            let mut done = 0;
            while done < count {
                let k = (count - done).min((ENTRIES / esz) as u32) as usize;
                let from = u64::from(at) + u64::from(done) * esz as u64;
                io.read(from, &mut e.0[..k * esz]).await?;
                for entry in e.0[..k * esz].chunks_exact_mut(esz) {
                    self.apply(l, io, sec, file, to, pages, entry, rela).await?;
                }
                done += k as u32;
            }
            l.paged_end(sec.index)?;
        }
        self.drain(io, sec, file, to, pages).await
    }

    /// Applies one relocation entry, moving the window over the bytes it patches.
    #[allow(clippy::too_many_arguments)]
    async fn apply<P, R, N, G>(
        &mut self,
        l: &mut Loader<'_, P, R, N>,
        io: &mut G,
        sec: &PagedSection,
        file: u32,
        to: Dest,
        pages: &mut Pages,
        entry: &mut [u8],
        rela: bool,
    ) -> Result<(), Error>
    where
        P: MemoryProvider,
        R: Resolve + ?Sized,
        N: NameReader,
        G: LinkIo,
    {
        let wide = l.class_arch().0 == Class::Elf64;
        let o = offset(entry, wide);
        if o > u64::from(sec.size) {
            return Err(Error::malformed(
                "relocation offset outside its section",
                Some(sec.index),
                o,
            ));
        }
        let o = o as u32;
        if o < self.lo {
            return Err(Error::malformed(OUT_OF_ORDER, Some(sec.index), o.into()));
        }
        let need = o.saturating_add(FIELD).min(sec.size);
        if need > self.hi {
            self.cover(l.paged_waiting(), o, need, io, sec, file, to, pages)
                .await?;
        }
        set_offset(entry, u64::from(o - self.lo), wide);
        let bytes = &mut self.buf[..(self.hi - self.lo) as usize];
        l.apply_to(sec.index, bytes, to.addr + u64::from(self.lo), entry, rela)
    }

    /// Reads the section up to at least `need`, handing on first what no relocation after the
    /// one at `o` can reach (none can while one is `waiting` for a later one).
    #[allow(clippy::too_many_arguments)]
    async fn cover<G: LinkIo>(
        &mut self,
        waiting: bool,
        o: u32,
        need: u32,
        io: &mut G,
        sec: &PagedSection,
        file: u32,
        to: Dest,
        pages: &mut Pages,
    ) -> Result<(), Error> {
        if need - self.lo > WINDOW as u32 {
            let keep = o.saturating_sub(BEHIND).clamp(self.lo, self.hi);
            if waiting || need - keep > WINDOW as u32 {
                return Err(Error::malformed(OUT_OF_ORDER, Some(sec.index), o.into()));
            }
            self.hand_on(io, keep, to, pages).await?;
        }
        let end = (self.lo + WINDOW as u32).min(sec.size);
        let (from, to_) = ((self.hi - self.lo) as usize, (end - self.lo) as usize);
        io.read(
            u64::from(file) + u64::from(self.hi),
            &mut self.buf[from..to_],
        )
        .await?;
        self.hi = end;
        Ok(())
    }

    /// Hands on the bytes before section offset `keep` and moves the rest to the front.
    async fn hand_on<G: LinkIo>(
        &mut self,
        io: &mut G,
        keep: u32,
        to: Dest,
        pages: &mut Pages,
    ) -> Result<(), Error> {
        let n = (keep - self.lo) as usize;
        pages.put(io, to.image + self.lo, &self.buf[..n]).await?;
        self.buf.copy_within(n..(self.hi - self.lo) as usize, 0);
        self.lo = keep;
        Ok(())
    }

    /// Hands on the rest of the section: the window, then the bytes after it.
    async fn drain<G: LinkIo>(
        &mut self,
        io: &mut G,
        sec: &PagedSection,
        file: u32,
        to: Dest,
        pages: &mut Pages,
    ) -> Result<(), Error> {
        self.hand_on(io, self.hi, to, pages).await?;
        while self.hi < sec.size {
            let n = (sec.size - self.hi).min(WINDOW as u32);
            io.read(
                u64::from(file) + u64::from(self.hi),
                &mut self.buf[..n as usize],
            )
            .await?;
            self.hi += n;
            self.hand_on(io, self.hi, to, pages).await?;
        }
        Ok(())
    }
}

/// The `r_offset` of a little-endian entry.
fn offset(e: &[u8], wide: bool) -> u64 {
    let w = |i: usize| u64::from(u32::from_le_bytes([e[i], e[i + 1], e[i + 2], e[i + 3]]));
    if wide { w(0) | w(4) << 32 } else { w(0) }
}

/// Sets the `r_offset` of a little-endian entry.
fn set_offset(e: &mut [u8], o: u64, wide: bool) {
    if wide {
        e[..8].copy_from_slice(&o.to_le_bytes());
    } else {
        e[..4].copy_from_slice(&(o as u32).to_le_bytes());
    }
}
