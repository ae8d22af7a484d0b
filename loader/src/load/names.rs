//! The name phases: section names, then symbol names (each handed to `resolve.rs`, which resolves
//! undefined symbols and indexes exports). Two ways to read a string table: in one pass, in
//! lock-step with the entries it names (a forward-only stream, `docs/STREAM-ORDER.md`), or each
//! name where it is (a seekable source). A source picks one through
//! [`crate::source::Source::Names`]; the loader is generic over it, so a firmware that only
//! streams carries no code for the other.

use super::Report;
use super::machine::{Dest, Loader, Phase, SeekStep};
use super::sections::{self, NAMED, SecRec};
use super::strings::Splitter;
use super::symbols::{F_GLOBAL, F_NAMED};
use crate::elf::{Shdr, Sym};
use crate::memory::MemoryProvider;
use crate::symbols::{Resolve, SymName};
use crate::{Error, Name, Part};

mod sealed {
    pub trait Sealed {}
}

/// How names are read; implemented by [`Streamed`] and [`Seeked`] only.
pub trait NameReader: sealed::Sealed {
    /// Whether the source can go back.
    const SEEKABLE: bool;
}

/// Names read in one pass: the k-th string names the k-th named entry (`docs/STREAM-ORDER.md`).
pub struct Streamed;

/// Names read where they are: any file order.
pub struct Seeked;

impl sealed::Sealed for Streamed {}
impl sealed::Sealed for Seeked {}

impl NameReader for Streamed {
    const SEEKABLE: bool = false;
}

impl NameReader for Seeked {
    const SEEKABLE: bool = true;
}

/// Strong undefined symbols nothing exports: how many, and the first one's name.
#[derive(Clone, Copy, Debug, Default)]
pub struct Missing {
    pub(crate) count: u32,
    pub(crate) first: Name,
}

/// Bytes of a string table read at once.
const CHUNK: u32 = 64;

impl<P: MemoryProvider, R: Resolve + ?Sized, N: NameReader> Loader<'_, P, R, N> {
    pub(super) fn start_names(
        &mut self,
        symbols: bool,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<(), Error> {
        if N::SEEKABLE {
            let step = if symbols {
                SeekStep::Symbols
            } else {
                SeekStep::Sections
            };
            let first = self.next_to_name(step, 0);
            self.seek_next(step, first, report)
        } else {
            self.split = Splitter::new();
            self.f.got = Default::default();
            self.f.cursor = 0;
            let (_, rec) = self.table(symbols);
            self.next_strings(symbols, rec.size, report)
        }
    }

    fn table(&self, symbols: bool) -> (u32, SecRec) {
        let index = if symbols {
            self.f.strtab
        } else {
            self.f.shstrndx
        };
        (index, self.w.secs.as_slice()[index as usize])
    }

    // --- One pass over a string table ---------------------------------------------------------

    fn next_strings(
        &mut self,
        symbols: bool,
        left: u32,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<(), Error> {
        let (index, rec) = self.table(symbols);
        let part = if symbols {
            Part::SymbolNames
        } else {
            Part::SectionNames
        };
        if left == 0 {
            let want = if symbols {
                self.f.st_names
            } else {
                self.f.sh_names
            };
            if self.f.got != want {
                return Err(Error::StreamOrder {
                    part,
                    section: index,
                    offset: rec.off.into(),
                    position: self.pos,
                });
            }
            return self.after_names(symbols, report);
        }
        self.phase = Phase::Strings { symbols, left };
        let at = u64::from(rec.off) + u64::from(rec.size - left);
        self.read(part, index, at, left.min(CHUNK) as usize, Dest::Scratch)
    }

    pub(super) fn strings(
        &mut self,
        symbols: bool,
        left: u32,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<(), Error> {
        let len = self.req.len;
        let mut split = core::mem::replace(&mut self.split, Splitter::new());
        let chunk = self.buf;
        let r = split.feed(&chunk[..len], |start, name| {
            if start == 0 {
                return Ok(());
            }
            self.f.got.add(start);
            self.streamed_name(symbols, &name, report)
        });
        self.split = split;
        r?;
        self.next_strings(symbols, left - len as u32, report)
    }

    /// The next streamed name belongs to the next named section or symbol.
    fn streamed_name(
        &mut self,
        symbols: bool,
        name: &SymName<'_>,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<(), Error> {
        let mut next = self.f.cursor + 1;
        if symbols {
            let syms = self.w.syms.as_slice();
            while next < syms.len() && !syms[next].has(F_NAMED) {
                next += 1;
            }
            self.f.cursor = next;
            if next < syms.len() {
                return self.symbol_name(next as u32, name, report);
            }
        } else {
            let secs = self.w.secs.as_mut_slice();
            while next < secs.len() && secs[next].state & NAMED == 0 {
                next += 1;
            }
            self.f.cursor = next;
            if let Some(s) = secs.get_mut(next) {
                sections::apply_name(s, name);
            }
        }
        Ok(())
    }

    fn after_names(
        &mut self,
        symbols: bool,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<(), Error> {
        if !symbols {
            return self.after_section_names(report);
        }
        if self.w.syms.as_slice().iter().any(|s| s.is_pending()) {
            // A named undefined symbol whose name never came: the string table is short.
            return Err(Error::malformed(
                "undefined symbol without a name",
                Some(self.f.strtab),
                0,
            ));
        }
        if self.f.missing.count == 0 {
            return self.regions();
        }
        if N::SEEKABLE {
            self.f.missing.count = 0;
            return self.next_scan(0, 0, report);
        }
        Err(self.missing_error())
    }

    fn missing_error(&self) -> Error {
        Error::MissingSymbols {
            count: self.f.missing.count,
            first: self.f.missing.first,
        }
    }

    // --- Names read where they are --------------------------------------------------------------

    /// The first entry from `from` on that `step` names.
    pub(super) fn next_to_name(&self, step: SeekStep, from: usize) -> u32 {
        let found = match step {
            SeekStep::Sections => self.w.secs.as_slice()[from.min(self.w.secs.len())..]
                .iter()
                .position(|r| r.state & NAMED != 0 && r.role.region().is_some()),
            SeekStep::Symbols => self.w.syms.as_slice()[from.min(self.w.syms.len())..]
                .iter()
                .position(|s| {
                    s.has(F_NAMED) && (s.is_pending() || (s.is_defined() && s.has(F_GLOBAL)))
                }),
            SeekStep::Missing => self.w.syms.as_slice()[from.min(self.w.syms.len())..]
                .iter()
                .position(|s| s.missing_state() == Some(true)),
        };
        found.map_or(u32::MAX, |k| (from + k) as u32)
    }

    /// Asks for the entry of `index` (`u32::MAX`: none left, the phase is over).
    pub(super) fn seek_next(
        &mut self,
        step: SeekStep,
        index: u32,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<(), Error> {
        if index == u32::MAX {
            return match step {
                SeekStep::Sections => self.after_names(false, report),
                SeekStep::Symbols => self.after_names(true, report),
                SeekStep::Missing if self.f.missing.count > 0 => Err(self.missing_error()),
                SeekStep::Missing => self.regions(),
            };
        }
        self.phase = Phase::SeekName { step, index, at: 0 };
        let class = self.f.class;
        let (part, section, at, len) = if step == SeekStep::Sections {
            let n = class.shdr_size();
            let at = self.f.shoff + u64::from(index) * n as u64;
            (Part::SectionHeaders, 0, at, n)
        } else {
            let n = class.sym_size();
            let symtab = self.w.secs.as_slice()[self.f.symtab as usize];
            let at = u64::from(symtab.off) + u64::from(index) * n as u64;
            (Part::Symbols, self.f.symtab, at, n)
        };
        self.read(part, section, at, len, Dest::Scratch)
    }

    pub(super) fn seek_name(
        &mut self,
        step: SeekStep,
        index: u32,
        at: u64,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<(), Error> {
        let (table_index, table) = self.table(step != SeekStep::Sections);
        let end = u64::from(table.off) + u64::from(table.size);
        let at = if at == 0 {
            // The entry: where its name starts.
            let off = if step == SeekStep::Sections {
                Shdr::parse(self.f.class, &self.buf[..self.req.len]).name
            } else {
                Sym::parse(self.f.class, &self.buf[..self.req.len]).name
            };
            if off >= table.size {
                return Err(Error::malformed(
                    "name offset past the end of its string table",
                    None,
                    off.into(),
                ));
            }
            self.split.name.clear();
            u64::from(table.off) + u64::from(off)
        } else {
            let len = self.req.len;
            let chunk = self.buf;
            if let Some(p) = chunk[..len].iter().position(|&c| c == 0) {
                for &c in &chunk[..p] {
                    self.split.name.push(c);
                }
                self.named(step, index, report)?;
                let next = self.next_to_name(step, index as usize + 1);
                return self.seek_next(step, next, report);
            }
            for &c in &chunk[..len] {
                self.split.name.push(c);
            }
            if at + len as u64 >= end {
                return Err(Error::malformed(
                    "string table does not end with NUL",
                    Some(table_index),
                    at,
                ));
            }
            at + len as u64
        };
        self.phase = Phase::SeekName { step, index, at };
        let len = (end - at).min(u64::from(CHUNK)) as usize;
        let part = if step == SeekStep::Sections {
            Part::SectionNames
        } else {
            Part::SymbolNames
        };
        self.read(part, table_index, at, len, Dest::Scratch)
    }

    /// A name read where it is is complete in the name buffer.
    fn named(
        &mut self,
        step: SeekStep,
        index: u32,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<(), Error> {
        let mut name_buf = core::mem::replace(&mut self.split.name, super::strings::NameBuf::new());
        let name = name_buf.name();
        let r = match step {
            SeekStep::Sections => {
                sections::apply_name(&mut self.w.secs.as_mut_slice()[index as usize], &name);
                Ok(())
            }
            SeekStep::Symbols => self.symbol_name(index, &name, report),
            SeekStep::Missing => {
                self.report_missing(&name, report);
                Ok(())
            }
        };
        name_buf.clear();
        self.split.name = name_buf;
        r
    }
}
