//! Resolution: each undefined symbol to an address (linker-provided, firmware, loaded
//! extensions, weak zero) or counted missing, each defined global indexed as an export; and, for
//! a seekable source, which missing symbols a loaded section's relocations actually use.

use super::Report;
use super::machine::{Loader, Phase, Resolver, SeekStep};
use super::names::NameReader;
use super::provided::provided;
use super::sections::Role;
use super::strings::{MAX_NAME, shown};
use super::symbols::{F_GLOBAL, F_WEAK, Slot};
use crate::elf::{Class, Reloc};
use crate::extension::ExtExport;
use crate::memory::MemoryProvider;
use crate::symbols::{Resolve, SymName};
use crate::{Error, Name};

impl<R: Resolve + ?Sized> Resolver<'_, R> {
    /// The address and, for an extension's export, its registry slot. The order
    /// (docs/LINKING.md): the firmware, then each loaded extension in slot order, its
    /// `.exported_sym` table before its global symbols.
    fn resolve(&self, name: &SymName<'_>) -> Option<(u64, Option<usize>)> {
        if let Some(a) = self.firmware.resolve(name) {
            return Some((a, None));
        }
        self.loaded.iter().enumerate().find_map(|(i, e)| {
            let e = e.as_ref()?;
            e.find_name(name).map(|a| (a, Some(i)))
        })
    }
}

impl<P: MemoryProvider, R: Resolve + ?Sized, N: NameReader> Loader<'_, P, R, N> {
    // --- Resolution -----------------------------------------------------------------------------

    /// Symbol `i` has `name`: index it as an export, or resolve it (linker-provided, firmware,
    /// loaded extensions, weak zero), or count it missing.
    pub(super) fn symbol_name(
        &mut self,
        i: u32,
        name: &SymName<'_>,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<(), Error> {
        let mut slot = self.w.syms.as_slice()[i as usize];
        if !(slot.is_pending() || (slot.is_defined() && slot.has(F_GLOBAL))) {
            return Ok(());
        }
        if slot.is_defined() {
            let e = self
                .w
                .exports
                .as_mut_slice()
                .get_mut(self.f.n_exp)
                .ok_or(Error::malformed("export count", None, i.into()))?;
            *e = ExtExport {
                hash: name.hash,
                addr: slot.0,
            };
            self.f.n_exp += 1;
            return Ok(());
        }
        if let Some(p) = provided(name, self.w.secs.as_slice(), &self.f.layout) {
            slot = slot.provided(p);
        } else if let Some((addr, from)) = self.resolver.resolve(name) {
            if let Some(k) = from {
                self.f.deps |= 1 << k;
            }
            slot = match u32::try_from(addr) {
                Ok(a) if self.f.class == Class::Elf32 => slot.imported(a, self.f.n_imports),
                _ => slot.resolved(addr),
            };
            self.f.n_imports += 1;
        } else if slot.has(F_WEAK) {
            slot = slot.resolved(0);
        } else {
            // A stream names it now; a seekable source first finds out whether a loaded
            // section uses it (the relocation scan below).
            slot = slot.missing();
            if N::SEEKABLE {
                self.f.missing.count += 1;
            } else {
                self.report_missing(name, report);
            }
        }
        self.w.syms.as_mut_slice()[i as usize] = slot;
        Ok(())
    }

    pub(super) fn report_missing(
        &mut self,
        name: &SymName<'_>,
        report: &mut dyn FnMut(Report<'_>),
    ) {
        let mut buf = [0u8; MAX_NAME];
        let shown = shown(name, &mut buf);
        if self.f.missing.count == 0 {
            self.f.missing.first = Name::new(shown.as_bytes());
        }
        self.f.missing.count += 1;
        report(Report::MissingSymbol(shown));
    }

    // --- Which missing symbols a loaded section uses (seekable sources) ---------------------

    /// Asks for the next chunk of relocations of a loaded section from section `from` on
    /// (`left` entries to go in it, 0 to find the next section).
    pub(super) fn next_scan(
        &mut self,
        from: u32,
        left: u32,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<(), Error> {
        let (class, shnum) = (self.f.class, self.f.shnum);
        let mut i = from;
        let mut left = left;
        while left == 0 {
            if i >= shnum {
                let first = self.next_to_name(SeekStep::Missing, 0);
                return self.seek_next(SeekStep::Missing, first, report);
            }
            let rec = self.w.secs.as_slice()[i as usize];
            let loaded = |r: u32| {
                self.w
                    .secs
                    .as_slice()
                    .get(r as usize)
                    .is_some_and(|s| s.role.has_contents())
            };
            if matches!(rec.role, Role::Rel | Role::Rela) && loaded(rec.place) {
                left = rec.size / class.rel_size(rec.role == Role::Rela) as u32;
            }
            if left == 0 {
                i += 1;
            }
        }
        self.phase = Phase::ScanRelocs { section: i, left };
        self.read_relocations(i, left)
    }

    pub(super) fn scan_relocs(
        &mut self,
        section: u32,
        left: u32,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<(), Error> {
        let rec = self.w.secs.as_slice()[section as usize];
        let rela = rec.role == Role::Rela;
        let esz = self.f.class.rel_size(rela);
        let syms = self.w.syms.as_mut_slice();
        for e in self.buf[..self.req.len].chunks_exact(esz) {
            let r = Reloc::parse(self.f.class, rela, e);
            let slot: &mut Slot = syms.get_mut(r.sym as usize).ok_or(Error::malformed(
                "relocation symbol index",
                Some(section),
                r.sym.into(),
            ))?;
            if slot.missing_state() == Some(false) {
                *slot = slot.missing_used();
            }
        }
        let k = (self.req.len / esz) as u32;
        if left > k {
            self.next_scan(section, left - k, report)
        } else {
            self.next_scan(section + 1, 0, report)
        }
    }
}
