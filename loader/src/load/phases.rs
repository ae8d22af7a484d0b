//! The phases of a load that read fixed-size parts: the ELF header, the section header table,
//! the symbol table, then the regions, the contents and relocations, and the finish.

use object::elf;

use super::machine::{Dest, Loader, Phase, SCRATCH};
use super::names::NameReader;
use super::sections::{self, LOADED, NAMED, Role, SecRec};
use super::symbols::{F_GLOBAL, F_NAMED, Linked, Slot, slot_for};
use super::{Report, Table};
use crate::arch::{Arch, RelocState};
use crate::elf::{Class, HEADER_READ, Header, Shdr, Sym};
use crate::extension::{ExtExport, Extension};
use crate::memory::{MemKind, MemoryProvider};
use crate::symbols::Resolve;
use crate::{Error, Part};

impl<P: MemoryProvider, R: Resolve + ?Sized, N: NameReader> Loader<'_, P, R, N> {
    /// Hands the bytes just read to the phase that asked for them.
    pub(super) fn consume(&mut self, report: &mut dyn FnMut(Report<'_>)) -> Result<(), Error> {
        match self.phase {
            Phase::Ident => self.ident(),
            Phase::Header => self.header(),
            Phase::SectionHeaders { next } => self.section_headers(next, report),
            // Each name path only where its source can reach it: a firmware that only streams
            // keeps no code for the other (the guards are constants per source type).
            Phase::Strings { symbols, left } if !N::SEEKABLE => self.strings(symbols, left, report),
            Phase::SeekName { step, index, at } if N::SEEKABLE => {
                self.seek_name(step, index, at, report)
            }
            Phase::ScanRelocs { section, left } if N::SEEKABLE => {
                self.scan_relocs(section, left, report)
            }
            Phase::Strings { .. } | Phase::SeekName { .. } | Phase::ScanRelocs { .. } => Ok(()),
            Phase::Symbols { next } => self.symbols(next, report),
            Phase::Place {
                pass,
                section,
                rel_left,
            } => self.place(pass, section, rel_left, report),
            Phase::Done => Ok(()),
        }
    }

    // --- ELF header ---------------------------------------------------------------------------

    fn ident(&mut self) -> Result<(), Error> {
        if self.buf[..4] != elf::ELFMAG {
            return Err(Error::NotElf);
        }
        let class = if self.buf[4] == elf::ELFCLASS64.0 {
            Class::Elf64
        } else {
            Class::Elf32
        };
        let size = class.ehdr_size();
        self.phase = Phase::Header;
        self.read(Part::SectionHeaders, 0, 16, size - 16, Dest::ScratchAt(16))
    }

    fn header(&mut self) -> Result<(), Error> {
        let hdr = Header::parse(&self.buf[..HEADER_READ])?;
        let lim = &self.params.limits;
        let expected = self.params.arch.map_or(0, Arch::machine);
        let want = self.params.arch;
        self.f.arch = Arch::from_machine(hdr.machine, hdr.class)
            .filter(|a| want.is_none_or(|p| p == *a))
            .ok_or(Error::WrongMachine {
                found: hdr.machine,
                expected,
            })?;
        if hdr.shnum > lim.max_sections {
            return Err(Error::Limit {
                what: "section count",
                value: hdr.shnum.into(),
                limit: lim.max_sections.into(),
            });
        }
        if hdr.shoff < hdr.size() {
            return Err(Error::malformed(
                "e_shoff overlaps the ELF header",
                None,
                hdr.shoff,
            ));
        }
        self.f.class = hdr.class;
        self.f.shnum = hdr.shnum;
        self.f.shoff = hdr.shoff;
        self.f.shstrndx = hdr.shstrndx;
        self.f.stats.sections = hdr.shnum;
        self.w.secs = Table::alloc(self.w.mem, hdr.shnum as usize)?;
        self.next_headers(0)
    }

    // --- Section headers ------------------------------------------------------------------------

    /// Asks for the headers from `next` on, as many as the scratch buffer holds.
    fn next_headers(&mut self, next: u32) -> Result<(), Error> {
        let n = self.f.class.shdr_size();
        let k = (self.f.shnum - next).min((SCRATCH / n) as u32);
        self.phase = Phase::SectionHeaders { next };
        let at = self.f.shoff + u64::from(next) * n as u64;
        self.read(Part::SectionHeaders, 0, at, k as usize * n, Dest::Scratch)
    }

    fn section_headers(
        &mut self,
        next: u32,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<(), Error> {
        let (class, shnum, shstrndx) = (self.f.class, self.f.shnum, self.f.shstrndx);
        let n = class.shdr_size();
        let k = self.req.len / n;
        for j in 0..k {
            let i = next + j as u32;
            let sh = Shdr::parse(class, &self.buf[j * n..(j + 1) * n]);
            let rec = sections::classify(class, i, shnum, shstrndx, &sh)?;
            if rec.state & NAMED != 0 {
                self.f.sh_names.add(sh.name.into());
            }
            if rec.role == Role::Symtab {
                if self.f.symtab != 0 {
                    return Err(Error::malformed("more than one symbol table", Some(i), 0));
                }
                (self.f.symtab, self.f.strtab, self.f.first_global) = (i, sh.link, sh.info);
            }
            self.w.secs.as_mut_slice()[i as usize] = rec;
        }
        let next = next + k as u32;
        if next < shnum {
            return self.next_headers(next);
        }
        self.check_tables()?;
        self.start_names(false, report)
    }

    /// The symbol and string tables exist, and no section overlaps another or the headers.
    fn check_tables(&mut self) -> Result<(), Error> {
        let (symtab, strtab) = (self.f.symtab, self.f.strtab);
        if symtab == 0 {
            return Err(Error::malformed("no symbol table", None, 0));
        }
        let s = &mut self.w.secs.as_mut_slice()[strtab as usize];
        match s.role {
            Role::Skip => s.role = Role::Strtab,
            Role::Shstrtab => {}
            _ => {
                return Err(Error::malformed(
                    "symbol table sh_link is not a string table",
                    Some(symtab),
                    strtab.into(),
                ));
            }
        }
        let ehsize = self.f.class.ehdr_size() as u64;
        let sht_end = self
            .f
            .shoff
            .saturating_add(u64::from(self.f.shnum) * self.f.class.shdr_size() as u64);
        check_overlaps(self.w.secs.as_slice(), ehsize, self.f.shoff, sht_end)
    }

    /// After the section names: lays the regions out and reads the symbol table.
    pub(super) fn after_section_names(
        &mut self,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<(), Error> {
        self.f.layout = sections::lay_out(self.w.secs.as_mut_slice())?;
        for (i, s) in self.w.secs.as_slice().iter().enumerate() {
            if let Some(kind) = s.role.region() {
                report(Report::Placed {
                    section: i as u32,
                    kind,
                    offset: s.place,
                    size: s.size,
                });
            }
        }
        let symrec = self.w.secs.as_slice()[self.f.symtab as usize];
        let symsz = self.f.class.sym_size() as u32;
        if !symrec.size.is_multiple_of(symsz) {
            return Err(Error::malformed(
                "symbol table size is not a multiple of its entry size",
                Some(self.f.symtab),
                symrec.size.into(),
            ));
        }
        let nsyms = symrec.size / symsz;
        let lim = &self.params.limits;
        if nsyms > lim.max_symbols {
            return Err(Error::Limit {
                what: "symbol count",
                value: nsyms.into(),
                limit: lim.max_symbols.into(),
            });
        }
        if self.f.first_global > nsyms {
            return Err(Error::malformed(
                "symbol table sh_info (first global)",
                Some(self.f.symtab),
                self.f.first_global.into(),
            ));
        }
        self.f.stats.symbols = nsyms;
        self.w.syms = Table::alloc(self.w.mem, nsyms as usize)?;
        self.next_symbols(0, report)
    }

    // --- Symbols --------------------------------------------------------------------------------

    fn next_symbols(&mut self, next: u32, report: &mut dyn FnMut(Report<'_>)) -> Result<(), Error> {
        let n = self.f.class.sym_size();
        let total = self.f.stats.symbols;
        if next == total {
            self.w.exports = Table::alloc(self.w.mem, self.f.n_exports)?;
            return self.start_names(true, report);
        }
        let k = (total - next).min((SCRATCH / n) as u32);
        let symtab = self.w.secs.as_slice()[self.f.symtab as usize];
        self.phase = Phase::Symbols { next };
        let at = u64::from(symtab.off) + u64::from(next) * n as u64;
        self.read(
            Part::Symbols,
            self.f.symtab,
            at,
            k as usize * n,
            Dest::Scratch,
        )
    }

    fn symbols(&mut self, next: u32, report: &mut dyn FnMut(Report<'_>)) -> Result<(), Error> {
        let n = self.f.class.sym_size();
        let k = self.req.len / n;
        for j in 0..k {
            let i = next + j as u32;
            let sym = Sym::parse(self.f.class, &self.buf[j * n..(j + 1) * n]);
            let slot = slot_for(i, &sym, self.w.secs.as_slice(), &mut self.f.layout)?;
            if slot.has(F_NAMED) {
                self.f.st_names.add(sym.name.into());
            }
            if slot.is_defined() && slot.has(F_GLOBAL) {
                self.f.n_exports += 1;
            }
            self.w.syms.as_mut_slice()[i as usize] = slot;
        }
        self.next_symbols(next + k as u32, report)
    }

    // --- Regions --------------------------------------------------------------------------------

    /// Allocates the regions (trampolines: on x86-64 a GOT entry and stub per global symbol;
    /// elsewhere at most one veneer per import) and starts on the contents.
    pub(super) fn regions(&mut self) -> Result<(), Error> {
        let slots = if self.f.arch.slot_per_global() {
            self.f.stats.symbols - self.f.first_global
        } else {
            self.f.n_imports
        };
        let max = self.params.limits.max_image;
        self.f.tramp = self
            .w
            .alloc_regions(&self.f.layout, self.f.arch, slots, max)?;
        self.f.stats.image_bytes = self.w.regions.iter().flatten().map(|b| b.size).sum();
        self.link_symbols();
        self.next_part(0, 0)
    }

    /// Turns every symbol's slot into its [`Linked`] form, what the relocations read (nothing
    /// reads the slots' earlier form after this).
    fn link_symbols(&mut self) {
        let wide = self.f.class == Class::Elf64;
        let w = &mut self.w;
        let regions = w.regions;
        for (i, s) in w.syms.as_mut_slice().iter_mut().enumerate() {
            let l = if i == 0 {
                Linked::NULL
            } else {
                Linked::new(*s, s.address(&regions), wide)
            };
            *s = Slot(l.0);
        }
    }

    // --- Contents and relocations ---------------------------------------------------------------

    /// Finds the next part to read from section `from` on: a stream reads contents and
    /// relocations in index order in one pass; a seekable source all contents, then all
    /// relocations.
    fn next_part(&mut self, pass: u8, from: u32) -> Result<(), Error> {
        let (contents, rels) = match (N::SEEKABLE, pass) {
            (false, _) => (true, true),
            (true, 0) => (true, false),
            (true, _) => (false, true),
        };
        for i in from..self.f.shnum {
            let rec = self.w.secs.as_slice()[i as usize];
            if contents && rec.role.has_contents() {
                // Empty, or bytes the page link reads (a placed load's text and rodata).
                if rec.size == 0 || self.deferred(rec.role) {
                    self.w.secs.as_mut_slice()[i as usize].state |= LOADED;
                    continue;
                }
                self.w.section_bytes(&rec).ok_or(Error::malformed(
                    "section placement",
                    Some(i),
                    0,
                ))?;
                self.phase = Phase::Place {
                    pass,
                    section: i,
                    rel_left: 0,
                };
                let (at, len) = (rec.off.into(), rec.size as usize);
                return self.read(Part::Contents, i, at, len, Dest::Section(i));
            }
            if rels && matches!(rec.role, Role::Rel | Role::Rela) {
                let count = self.start_relocations(i, &rec)?;
                if count > 0 {
                    return self.next_relocations(pass, i, count);
                }
            }
        }
        if N::SEEKABLE && pass == 0 {
            return self.next_part(1, 0);
        }
        self.f.stats.relocations = self.f.relocs;
        self.f.stats.file_bytes = self.pos;
        self.phase = Phase::Done;
        Ok(())
    }

    /// Checks relocation section `i` and returns how many entries to apply (0: its target is
    /// not loaded, like debug info).
    fn start_relocations(&mut self, i: u32, rec: &SecRec) -> Result<u32, Error> {
        let target = self.w.secs.as_slice()[rec.place as usize];
        if !target.role.has_contents() {
            return Ok(0);
        }
        if target.state & LOADED == 0 {
            return Err(Error::StreamOrder {
                part: Part::Relocations,
                section: i,
                offset: rec.off.into(),
                position: self.pos,
            });
        }
        let esz = self.f.class.rel_size(rec.role == Role::Rela);
        if !(rec.size as usize).is_multiple_of(esz) {
            return Err(Error::malformed(
                "relocation section size",
                Some(i),
                rec.size.into(),
            ));
        }
        let count = rec.size / esz as u32;
        self.f.relocs = self.f.relocs.saturating_add(count);
        let lim = self.params.limits.max_relocations;
        if self.f.relocs > lim {
            return Err(Error::Limit {
                what: "relocation count",
                value: self.f.relocs.into(),
                limit: lim.into(),
            });
        }
        if self.deferred(target.role) {
            return Ok(0); // applied by the page link, a window at a time
        }
        self.f.rstate = RelocState::default();
        Ok(count)
    }

    /// Asks for the next chunk of relocation section `i`, `left` entries to go.
    fn next_relocations(&mut self, pass: u8, i: u32, left: u32) -> Result<(), Error> {
        self.phase = Phase::Place {
            pass,
            section: i,
            rel_left: left,
        };
        self.read_relocations(i, left)
    }

    /// Asks for the next chunk (as many entries as the scratch buffer holds) of relocation
    /// section `i`, `left` entries to go.
    pub(super) fn read_relocations(&mut self, i: u32, left: u32) -> Result<(), Error> {
        let rec = self.w.secs.as_slice()[i as usize];
        let esz = self.f.class.rel_size(rec.role == Role::Rela);
        let done = rec.size / esz as u32 - left;
        let k = left.min((SCRATCH / esz) as u32);
        let at = u64::from(rec.off) + u64::from(done) * esz as u64;
        self.read(Part::Relocations, i, at, k as usize * esz, Dest::Scratch)
    }

    fn place(
        &mut self,
        pass: u8,
        i: u32,
        rel_left: u32,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<(), Error> {
        if rel_left == 0 {
            // Contents of section `i` are in place.
            self.w.secs.as_mut_slice()[i as usize].state |= LOADED;
            return self.next_part(pass, i + 1);
        }
        let rec = self.w.secs.as_slice()[i as usize];
        let rela = rec.role == Role::Rela;
        let k = (self.req.len / self.f.class.rel_size(rela)) as u32;
        self.apply_chunk(&rec, rela)?;
        if rel_left > k {
            return self.next_relocations(pass, i, rel_left - k);
        }
        self.f.arch.finish(&self.f.rstate, rec.place)?;
        report(Report::Relocated {
            section: rec.place,
            relocations: rec.size / self.f.class.rel_size(rela) as u32,
            trampolines: self.f.tramp.made(),
        });
        self.next_part(pass, i + 1)
    }

    // --- Finish ---------------------------------------------------------------------------------

    /// Seals code, indexes exports, gives back what was transient.
    pub(super) fn finish_load(mut self) -> Result<Extension, Error> {
        // A placed link's regions are scratch, never run: nothing to seal.
        let seal = self.w.place.is_none();
        for (i, kind) in MemKind::ALL[..5].iter().enumerate().filter(|_| seal) {
            if let Some(b) = self.w.regions[i] {
                self.w
                    .mem
                    .seal(*kind, &b)
                    .map_err(|_| Error::Protect { kind: *kind })?;
            }
        }
        let regions = self.w.regions;
        let exports = self.w.exports.as_mut_slice();
        for e in exports.iter_mut() {
            e.addr = Slot(e.addr).address(&regions).unwrap_or(0);
        }
        sort_by_hash(exports);
        if exports.windows(2).any(|p| p[0].hash == p[1].hash) {
            return Err(Error::malformed(
                "two exported symbols with the same name (or name hash)",
                None,
                0,
            ));
        }
        let w = &mut self.w;
        let transient = w.secs.len() * size_of::<SecRec>() + w.syms.len() * size_of::<Slot>();
        w.secs.free(w.mem);
        w.syms.free(w.mem);
        let mut stats = self.f.stats;
        stats.kept_metadata = w.exports.len() * size_of::<ExtExport>();
        stats.transient_peak = transient;
        let layout = &self.f.layout;
        Ok(Extension {
            name: self.name,
            arch: self.f.arch,
            regions: core::mem::take(&mut w.regions),
            exports: w.exports.take(),
            preinit: layout.preinit,
            init: layout.init,
            fini: layout.fini,
            exported: layout.exported,
            ptr_size: self.f.class.addr_size(),
            deps: self.f.deps,
            use_count: 1,
            stats,
            in_place: false,
        })
    }
}

/// Rejects sections that overlap each other or the headers.
fn check_overlaps(secs: &[SecRec], ehsize: u64, shoff: u64, sht_end: u64) -> Result<(), Error> {
    let read = |s: &SecRec| s.role != Role::Skip && s.role != Role::Bss && s.size > 0;
    for (i, a) in secs.iter().enumerate().filter(|(_, s)| read(s)) {
        let (a0, a1) = (u64::from(a.off), u64::from(a.off) + u64::from(a.size));
        if a0 < ehsize || (a0 < sht_end && shoff < a1) {
            return Err(Error::malformed(
                "section overlaps the ELF or section headers",
                Some(i as u32),
                a0,
            ));
        }
        for b in secs[i + 1..].iter().filter(|s| read(s)) {
            let (b0, b1) = (u64::from(b.off), u64::from(b.off) + u64::from(b.size));
            if a0 < b1 && b0 < a1 {
                return Err(Error::malformed("sections overlap", Some(i as u32), a0));
            }
        }
    }
    Ok(())
}

/// Shell sort by hash: a few dozen bytes of code instead of core's sort (this runs once per load
/// on a handful of exports, and code size matters more on a microcontroller).
fn sort_by_hash(e: &mut [ExtExport]) {
    let mut gap = e.len() / 2;
    while gap > 0 {
        for i in gap..e.len() {
            let mut j = i;
            // Insertion by copies: `swap` of two 16-byte records became a call to `memmove`,
            // which nothing else needs (1.6 KB on a Cortex-M).
            let x = e[i];
            while j >= gap && e[j - gap].hash > x.hash {
                e[j] = e[j - gap];
                j -= gap;
            }
            e[j] = x;
        }
        gap /= 2;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    #[test]
    fn exports_sort_by_hash_keeping_their_addresses() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for n in [0usize, 1, 2, 7, 16, 33] {
            let mut e: Vec<ExtExport> = (0..n)
                .map(|i| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    ExtExport {
                        hash: x % 50,
                        addr: i as u64,
                    }
                })
                .collect();
            let mut want: Vec<(u64, u64)> = e.iter().map(|e| (e.hash, e.addr)).collect();
            want.sort_by_key(|p| p.0);
            sort_by_hash(&mut e);
            let got: Vec<u64> = e.iter().map(|e| e.hash).collect();
            assert!(got.windows(2).all(|w| w[0] <= w[1]), "{got:?}");
            let mut pairs: Vec<(u64, u64)> = e.iter().map(|e| (e.hash, e.addr)).collect();
            pairs.sort();
            want.sort();
            assert_eq!(pairs, want, "every record kept");
        }
    }
}
