//! One section of text or rodata through a window of [`WINDOW`] bytes: its bytes read from the
//! file as the relocations (in address order, as `pack` writes them) reach them, each
//! relocation applied while the bytes it patches are in the window, and bytes no later
//! relocation can reach handed on to the flash pages. RAM: the window and a few patches,
//! whatever the section's size.
//!
//! Entries are in address order except RISC-V `PCREL_LO12`s, which `pack` puts right after the
//! `PCREL_HI20` they take their value from. One whose instruction lies ahead is applied at once
//! to that instruction's 4 bytes, kept as a patch laid over them when the window reaches them;
//! one whose instruction lies behind is applied in the window, which keeps [`BEHIND`] bytes.

use super::pages::{LinkIo, Pages};
use crate::Error;
use crate::arch::Arch;
use crate::elf::Class;
use crate::load::{Linking, PagedSection};

/// Bytes of a section held at once.
pub const WINDOW: usize = 1024;
/// Bytes behind the relocation being applied that a later one may still patch, so the window
/// keeps them: a RISC-V `PCREL_LO12` comes right after its `PCREL_HI20` in a packed file, and
/// its instruction may lie before the `auipc`. They also give every relocation the bytes before
/// its field that x86-64's `GOTPCRELX` relaxation reads and rewrites (up to 3: REX, opcode,
/// ModRM), as a whole section would.
const BEHIND: u32 = 256;
/// Bytes from a relocation's offset that must be in the window while it is applied (the
/// widest field, a ULEB128, and a `SET`/`SUB` pair at one offset).
const FIELD: u32 = 16;
/// Bytes of relocation entries read at once.
const ENTRIES: usize = 192;

/// Patches waiting for the window to reach their bytes.
const PATCHES: usize = 16;
/// `R_RISCV_PCREL_LO12_I` and `_S`.
const PCREL_LO12: [u32; 2] = [24, 25];

/// Relocation entries, aligned as the relocation loop reads them (words).
#[repr(C, align(8))]
struct Entries([u8; ENTRIES]);

/// A section's bytes `lo..hi` (offsets in the section) in `buf`.
pub(super) struct Window {
    buf: [u8; WINDOW],
    lo: u32,
    hi: u32,
    /// Instructions patched before the window reached them: section offset and bytes.
    patches: [Option<(u32, [u8; 4])>; PATCHES],
}

/// Where one section goes: its run-time address and its offset in the image.
#[derive(Clone, Copy)]
pub(super) struct Dest {
    pub addr: u64,
    pub image: u32,
}

/// The section being written and how to read its entries.
#[derive(Clone, Copy)]
struct Part {
    sec: PagedSection,
    /// Where its bytes start in the file.
    file: u32,
    to: Dest,
    rela: bool,
    wide: bool,
    arch: Arch,
}

impl Part {
    fn refused(&self, offset: u32) -> Error {
        Error::malformed(OUT_OF_ORDER, Some(self.sec.index), offset.into())
    }
}

const OUT_OF_ORDER: &str = "relocation entries out of address order for a page-at-a-time link in \
    place (pack it again with host-push pack, or install it without --xip)";

impl Window {
    pub(super) const fn new() -> Self {
        Window {
            buf: [0; WINDOW],
            lo: 0,
            hi: 0,
            patches: [None; PATCHES],
        }
    }

    /// Writes section `sec` (its relocations applied) to `pages`.
    pub(super) async fn section<G: LinkIo>(
        &mut self,
        l: &mut impl Linking,
        io: &mut G,
        sec: &PagedSection,
        to: Dest,
        pages: &mut Pages,
    ) -> Result<(), Error> {
        let Some(file) = sec.file else {
            return Ok(()); // no bytes: zeros, as the pages fill gaps
        };
        (self.lo, self.hi) = (0, 0);
        self.patches = [None; PATCHES];
        let (class, arch) = l.class_arch();
        let (at, count, rela) = sec.rel.unwrap_or((0, 0, false));
        let part = Part {
            sec: *sec,
            file,
            to,
            rela,
            wide: class == Class::Elf64,
            arch,
        };
        let esz = class.rel_size(rela);
        let mut e = Entries([0; ENTRIES]);
        l.begin();
        let mut done = 0;
        while done < count {
            let k = (count - done).min((ENTRIES / esz) as u32) as usize;
            let from = u64::from(at) + u64::from(done) * esz as u64;
            io.read(from, &mut e.0[..k * esz]).await?;
            // Entries whose bytes are in the window go to the relocation loop together; one
            // that moves the window (or is a patch) alone, after them.
            let mut batch = 0;
            for j in 0..k {
                let entry = &mut e.0[j * esz..(j + 1) * esz];
                if self.ready(&part, entry) {
                    continue;
                }
                self.flush(l, &part, &e.0[batch * esz..j * esz])?;
                self.apply(l, io, &part, pages, &mut e.0[j * esz..(j + 1) * esz])
                    .await?;
                batch = j + 1;
            }
            self.flush(l, &part, &e.0[batch * esz..k * esz])?;
            done += k as u32;
        }
        l.end(sec.index)?;
        self.drain(io, &part, pages).await
    }

    /// Whether `entry` can be applied in the window as it is (then its offset is made relative to
    /// the window).
    fn ready(&self, part: &Part, entry: &mut [u8]) -> bool {
        let o = offset(entry, part.wide);
        let in_window = o >= u64::from(self.lo)
            && o.saturating_add(u64::from(FIELD))
                .min(u64::from(part.sec.size))
                <= u64::from(self.hi);
        if !in_window || (o >= u64::from(self.hi) && is_pcrel_lo(part.arch, entry, part.wide)) {
            return false;
        }
        set_offset(entry, o - u64::from(self.lo), part.wide);
        true
    }

    /// Applies `entries` (offsets made relative to the window) in the window.
    fn flush(&mut self, l: &mut impl Linking, part: &Part, entries: &[u8]) -> Result<(), Error> {
        if entries.is_empty() {
            return Ok(());
        }
        let bytes = &mut self.buf[..(self.hi - self.lo) as usize];
        let addr = part.to.addr + u64::from(self.lo);
        l.apply(part.sec.index, bytes, addr, entries, part.rela)
    }

    /// Applies one relocation entry, moving the window over the bytes it patches.
    async fn apply<G: LinkIo>(
        &mut self,
        l: &mut impl Linking,
        io: &mut G,
        part: &Part,
        pages: &mut Pages,
        entry: &mut [u8],
    ) -> Result<(), Error> {
        let size = part.sec.size;
        let o = offset(entry, part.wide);
        if o > u64::from(size) {
            return Err(Error::malformed(
                "relocation offset outside its section",
                Some(part.sec.index),
                o,
            ));
        }
        let o = o as u32;
        if o < self.lo {
            return Err(part.refused(o));
        }
        if o >= self.hi && is_pcrel_lo(part.arch, entry, part.wide) {
            return self.patch_ahead(l, io, part, o, entry).await;
        }
        let need = o.saturating_add(FIELD).min(size);
        if need > self.hi {
            self.cover(l.waiting(), o, need, io, part, pages).await?;
        }
        set_offset(entry, u64::from(o - self.lo), part.wide);
        self.flush(l, part, entry)
    }

    /// Applies entry `entry` (a `PCREL_LO12` right after its `PCREL_HI20`, at offset `o`) to its
    /// instruction ahead of the window, kept as a patch.
    async fn patch_ahead<G: LinkIo>(
        &mut self,
        l: &mut impl Linking,
        io: &mut G,
        part: &Part,
        o: u32,
        entry: &mut [u8],
    ) -> Result<(), Error> {
        let free = self.patches.iter().position(Option::is_none);
        let (Some(free), true) = (free, o.saturating_add(4) <= part.sec.size) else {
            return Err(part.refused(o));
        };
        let mut insn = [0u8; 4];
        io.read(u64::from(part.file) + u64::from(o), &mut insn)
            .await?;
        set_offset(entry, 0, part.wide);
        let addr = part.to.addr + u64::from(o);
        l.apply(part.sec.index, &mut insn, addr, entry, part.rela)?;
        if l.waiting() {
            return Err(part.refused(o)); // not after its PCREL_HI20: it would patch another window
        }
        self.patches[free] = Some((o, insn));
        Ok(())
    }

    /// Lays the patches over the bytes just read, section offsets `from..self.hi`.
    fn lay_patches(&mut self, from: u32) {
        let (lo, hi) = (self.lo, self.hi);
        for p in self.patches.iter_mut() {
            let Some((at, insn)) = *p else { continue };
            for (k, b) in insn.iter().enumerate() {
                let pos = at + k as u32;
                if (from..hi).contains(&pos) {
                    self.buf[(pos - lo) as usize] = *b;
                }
            }
            if at + 4 <= hi {
                *p = None;
            }
        }
    }

    /// Reads the section up to at least `need`, handing on first what no relocation after the
    /// one at `o` can reach (none can while one is `waiting` for a later one).
    async fn cover<G: LinkIo>(
        &mut self,
        waiting: bool,
        o: u32,
        need: u32,
        io: &mut G,
        part: &Part,
        pages: &mut Pages,
    ) -> Result<(), Error> {
        if need - self.lo > WINDOW as u32 {
            let keep = o.saturating_sub(BEHIND).clamp(self.lo, self.hi);
            if waiting || need - keep > WINDOW as u32 {
                return Err(part.refused(o));
            }
            self.hand_on(io, keep, part.to, pages).await?;
        }
        let end = (self.lo + WINDOW as u32).min(part.sec.size);
        self.read_to(io, part, end).await
    }

    /// Reads the section's bytes from `self.hi` to `end` into the window, patches laid over.
    async fn read_to<G: LinkIo>(&mut self, io: &mut G, part: &Part, end: u32) -> Result<(), Error> {
        let (from, to) = ((self.hi - self.lo) as usize, (end - self.lo) as usize);
        let at = u64::from(part.file) + u64::from(self.hi);
        io.read(at, &mut self.buf[from..to]).await?;
        let read_from = self.hi;
        self.hi = end;
        self.lay_patches(read_from);
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

    /// Hands on the rest of the section: the window, then the bytes after it, a window at a time.
    async fn drain<G: LinkIo>(
        &mut self,
        io: &mut G,
        part: &Part,
        pages: &mut Pages,
    ) -> Result<(), Error> {
        self.hand_on(io, self.hi, part.to, pages).await?;
        while self.hi < part.sec.size {
            let end = (self.hi + WINDOW as u32).min(part.sec.size);
            self.read_to(io, part, end).await?;
            self.hand_on(io, self.hi, part.to, pages).await?;
        }
        Ok(())
    }
}

/// Whether a little-endian entry is a RISC-V `PCREL_LO12`.
fn is_pcrel_lo(arch: Arch, e: &[u8], wide: bool) -> bool {
    let info = if wide { &e[8..12] } else { &e[4..8] };
    let kind = u32::from_le_bytes([info[0], info[1], info[2], info[3]]);
    let kind = if wide { kind } else { kind & 0xff };
    matches!(arch, Arch::RiscV32 | Arch::RiscV64) && PCREL_LO12.contains(&kind)
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
