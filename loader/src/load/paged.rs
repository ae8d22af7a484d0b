//! What the execute-in-place page link (`crate::xip`) needs from a load run to its end with
//! text and rodata left out (a placed load reads neither, see `next_part`): the sections of a
//! region in address order with their relocation sections, and the relocation loop applied to
//! a window over part of a section.

use super::machine::Loader;
use super::names::NameReader;
use super::sections::Role;
use crate::Error;
use crate::arch::{Arch, RelocState};
use crate::elf::Class;
use crate::memory::{Block, MemKind, MemoryProvider};
use crate::symbols::Resolve;

/// One section of a region the page link writes, and the relocation section that patches it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PagedSection {
    /// Its index in the file.
    pub index: u32,
    /// Offset in its region.
    pub place: u32,
    /// Bytes.
    pub size: u32,
    /// Where its bytes start in the file (none: zeros).
    pub file: Option<u32>,
    /// Its relocation section: file offset, entry count, whether `RELA`.
    pub rel: Option<(u32, u32, bool)>,
}

impl<P: MemoryProvider, R: Resolve + ?Sized, N: NameReader> Loader<'_, P, R, N> {
    /// Whether the bytes of a section of `role` are left to the page link: a placed load's text
    /// and rodata are never held whole.
    pub(super) fn deferred(&self, role: Role) -> bool {
        self.w.place.is_some() && matches!(role.region(), Some(MemKind::Text | MemKind::Rodata))
    }

    /// The regions as allocated (text and rodata of a placed load: addresses only).
    pub(crate) fn placed_regions(&self) -> [Option<Block>; 5] {
        self.w.regions
    }

    /// The rodata spans: preinit, init and fini arrays, exported symbols.
    pub(crate) fn spans(&self) -> [super::Span; 4] {
        let l = &self.f.layout;
        [l.preinit, l.init, l.fini, l.exported]
    }

    /// How many symbols the extension exports.
    pub(crate) fn export_count(&self) -> usize {
        self.w.exports.len()
    }

    /// The section of region `kind` that comes next in address order after `after` (its
    /// `(place, index)`), with its relocation section; a section patched by two relocation
    /// sections is refused (a merge walks one).
    pub(crate) fn paged_next(
        &self,
        kind: MemKind,
        after: Option<(u32, u32)>,
    ) -> Result<Option<PagedSection>, Error> {
        let secs = self.w.secs.as_slice();
        let next = secs
            .iter()
            .enumerate()
            .filter(|(_, s)| s.role.region() == Some(kind))
            .map(|(i, s)| (s.place, i as u32))
            .filter(|k| after.is_none_or(|a| *k > a))
            .min();
        let Some((place, index)) = next else {
            return Ok(None);
        };
        let s = secs[index as usize];
        let mut rel = None;
        for (i, r) in secs.iter().enumerate() {
            if matches!(r.role, Role::Rel | Role::Rela) && r.place == index && r.size > 0 {
                if rel.is_some() {
                    return Err(Error::malformed(
                        "two relocation sections for one section (an in-place link walks one)",
                        Some(i as u32),
                        index.into(),
                    ));
                }
                let rela = r.role == Role::Rela;
                rel = Some((r.off, r.size / self.f.class.rel_size(rela) as u32, rela));
            }
        }
        Ok(Some(PagedSection {
            index,
            place,
            size: s.size,
            file: s.role.has_contents().then_some(s.off),
            rel,
        }))
    }

    /// The loader-made trampolines' bytes (veneers, GOT entries), built as relocations need
    /// them: complete once every relocation is applied.
    pub(crate) fn trampoline_bytes(&self) -> Option<&[u8]> {
        let b = self.w.regions[MemKind::Trampoline.index()]?;
        // SAFETY: a scratch block this load owns and keeps until it is dropped or finished;
        // no mutable reference into it is live while `&self` is borrowed.
        Some(unsafe { core::slice::from_raw_parts(b.ptr.as_ptr(), b.size) })
    }
}

/// The load a page link's window relocates for: a [`Loader`] run to its end with text and
/// rodata left out.
pub(crate) trait Linking {
    /// The ELF class and the architecture.
    fn class_arch(&self) -> (Class, Arch);
    /// Starts a section's relocations (what they carry from entry to entry is reset).
    fn begin(&mut self);
    /// After the last relocation of `section` (a RISC-V `PCREL_LO12` still waiting fails).
    fn end(&self, section: u32) -> Result<(), Error>;
    /// Whether an applied relocation waits to patch its bytes when a later one comes (the
    /// window holding them must stay).
    fn waiting(&self) -> bool;
    /// Applies `entries` to `bytes`, part of section `section` at run-time address `addr`
    /// (see `Loader::apply_to`).
    fn apply(
        &mut self,
        section: u32,
        bytes: &mut [u8],
        addr: u64,
        entries: &[u8],
        rela: bool,
    ) -> Result<(), Error>;
}

impl<P: MemoryProvider, R: Resolve + ?Sized, N: NameReader> Linking for Loader<'_, P, R, N> {
    fn class_arch(&self) -> (Class, Arch) {
        (self.f.class, self.f.arch)
    }

    fn begin(&mut self) {
        self.f.rstate = RelocState::default();
    }

    fn end(&self, section: u32) -> Result<(), Error> {
        self.f.arch.finish(&self.f.rstate, section)
    }

    fn waiting(&self) -> bool {
        self.f.rstate.waiting()
    }

    fn apply(
        &mut self,
        section: u32,
        bytes: &mut [u8],
        addr: u64,
        entries: &[u8],
        rela: bool,
    ) -> Result<(), Error> {
        self.apply_to(section, bytes, addr, entries, rela)
    }
}
