//! The relocation phase's inner loop: one per back-end and entry format (the back-end's
//! `apply` inlined into it), entries decoded straight from the chunk the phase already checked,
//! each symbol's value and veneer or GOT slot an index away (its slot in [`Linked`] form).

// Without any back-end (a build that only packs or inspects) no relocation is applied.
#![cfg_attr(
    not(any(feature = "arch-x86_64", feature = "arch-arm", feature = "arch-riscv")),
    allow(dead_code)
)]

use super::machine::{Facts, Loader};
use super::names::NameReader;
use super::sections::SecRec;
use super::symbols::{Linked, Slot};
use crate::Error;
use crate::arch::{Backend, Rel32, RelocState, Site, Sym32, Target, Trampolines, with_backend};
use crate::elf::{Class, Reloc};
use crate::memory::MemoryProvider;
use crate::symbols::Resolve;

impl<P: MemoryProvider, R: Resolve + ?Sized, N: NameReader> Loader<'_, P, R, N> {
    /// Applies the relocation entries in the scratch buffer (whole entries: the chunk is a
    /// multiple of the entry size) to the target of `rel`.
    pub(super) fn apply_chunk(&mut self, rel: &SecRec, rela: bool) -> Result<(), Error> {
        let section = rel.place;
        let target = self.w.secs.as_slice()[section as usize];
        let (bytes, addr) = self.w.section_bytes(&target).ok_or(Error::malformed(
            "section placement",
            Some(section),
            0,
        ))?;
        let site = Site {
            bytes,
            addr,
            section,
        };
        run(
            &mut self.f,
            self.w.syms.as_slice(),
            site,
            &self.buf[..self.req.len],
            rela,
        )
    }
}

impl<P: MemoryProvider, R: Resolve + ?Sized, N: NameReader> Loader<'_, P, R, N> {
    /// Applies `entries` (whole entries of section `section`'s relocation section, their
    /// offsets made relative to `bytes`) to `bytes`, which hold part of that section at run-time
    /// address `addr`: the execute-in-place link's page window.
    pub(crate) fn apply_to(
        &mut self,
        section: u32,
        bytes: &mut [u8],
        addr: u64,
        entries: &[u8],
        rela: bool,
    ) -> Result<(), Error> {
        let site = Site {
            bytes,
            addr,
            section,
        };
        run(&mut self.f, self.w.syms.as_slice(), site, entries, rela)
    }
}

/// Applies `entries` (whole entries, `REL` or `RELA`) at `site` with the load's back-end,
/// symbols (`syms`), trampolines and relocation state (in `f`).
#[inline(always)]
fn run(
    f: &mut Facts,
    syms: &[Slot],
    site: Site<'_>,
    entries: &[u8],
    rela: bool,
) -> Result<(), Error> {
    let mut cx = Chunk {
        site,
        syms,
        first_global: f.first_global,
        tramp: &mut f.tramp,
        state: &mut f.rstate,
    };
    with_backend!(f.arch, B => cx.run::<B>(entries, rela), _ => {
        let _ = (&mut cx, entries, rela); // no back-end compiled in: nothing loads
        Ok(())
    })
}

/// What applying one chunk works with.
struct Chunk<'a, 's> {
    site: Site<'s>,
    /// Every symbol's [`Linked`] form (what `Loader::regions` left in the slots).
    syms: &'a [Slot],
    first_global: u32,
    tramp: &'a mut Trampolines,
    state: &'a mut RelocState,
}

impl Chunk<'_, '_> {
    /// Applies every entry of `entries` (`REL` or `RELA` of the back-end's class) with back-end
    /// `B`. A function of its own (the back-end's hot path inlined into it), so its registers
    /// are not those of the whole load.
    #[inline(never)]
    fn run<B: Backend>(&mut self, entries: &[u8], rela: bool) -> Result<(), Error> {
        let wide = B::CLASS == Class::Elf64;
        // Entries are whole words and the scratch buffer is aligned: read them as words (a
        // RISC-V core without misaligned loads would otherwise read bytes).
        let words = object::pod::slice_from_all_bytes::<u32>(entries)
            .map_err(|_| Error::malformed("relocation chunk", Some(self.site.section), 0))?;
        if B::NARROW && !wide {
            return self.run32::<B>(words, rela);
        }
        for e in words.chunks_exact(B::CLASS.rel_size(rela) / 4) {
            let r = decode(e, wide);
            if B::is_noop(r.kind) {
                // Still checked: its offset lies in the section, as ld checks it.
                self.site.field(r.offset, 0)?;
                continue;
            }
            let sym = self.target::<B>(&r, wide)?;
            B::apply(&r, &mut self.site, &sym, self.tramp, self.state)?;
        }
        Ok(())
    }

    /// [`Chunk::run`] for a [`Backend::NARROW`] back-end: each entry's words and its symbol's
    /// linked word handed over as they are, so the common classes keep them in registers.
    #[inline(always)]
    fn run32<B: Backend>(&mut self, words: &[u32], rela: bool) -> Result<(), Error> {
        let syms = self.syms;
        for e in words.chunks_exact(if rela { 3 } else { 2 }) {
            let [o, i, rest @ ..] = e else { continue };
            let e = Rel32 {
                offset: u32::from_le(*o),
                info: u32::from_le(*i),
                addend: rest.first().map(|a| u32::from_le(*a) as i32),
            };
            let sym = e.info >> 8;
            let Some(&Slot(bits)) = syms.get(sym as usize) else {
                return Err(bad_symbol(&e.reloc(), self.site.section));
            };
            if Linked(bits).unavailable() {
                return Err(not_loaded(&e.reloc(), self.site.section));
            }
            if B::is_noop(e.kind()) {
                self.site.field(e.offset.into(), 0)?;
                continue;
            }
            B::apply32(e, Sym32(bits), &mut self.site, self.tramp, self.state)?;
        }
        Ok(())
    }

    /// The symbol of `r`: its value, its slot (see [`Backend::SLOT_PER_GLOBAL`]), whether it is
    /// an undefined weak nobody exports.
    #[inline(always)]
    fn target<B: Backend>(&self, r: &Reloc, wide: bool) -> Result<Target, Error> {
        let Some(&Slot(bits)) = self.syms.get(r.sym as usize) else {
            return Err(bad_symbol(r, self.site.section));
        };
        let l = Linked(bits);
        if l.unavailable() {
            return Err(not_loaded(r, self.site.section));
        }
        let slot = if B::SLOT_PER_GLOBAL {
            r.sym.checked_sub(self.first_global)
        } else if wide {
            None
        } else {
            l.narrow_slot()
        };
        Ok(Target {
            value: if wide {
                l.wide_value()
            } else {
                l.narrow_value()
            },
            slot,
            weak_zero: l.weak_zero(),
        })
    }
}

#[cold]
fn not_loaded(r: &Reloc, section: u32) -> Error {
    Error::SymbolNotLoaded {
        symbol: r.sym,
        section,
        offset: r.offset,
    }
}

#[cold]
fn bad_symbol(r: &Reloc, section: u32) -> Error {
    Error::malformed("relocation symbol index", Some(section), r.sym.into())
}

/// One `Elf32_Rel`/`Elf32_Rela` (`r_info`: symbol in bits 8..32, type in 0..8) or
/// `Elf64_Rel`/`Elf64_Rela` (symbol in bits 32..64, type in 0..32) entry, as little-endian
/// words; `r_addend` when the entry has one.
#[inline(always)]
fn decode(e: &[u32], wide: bool) -> Reloc {
    let w = |x: &u32| u32::from_le(*x);
    match (wide, e) {
        (true, [o0, o1, i0, i1, rest @ ..]) => Reloc {
            offset: u64::from(w(o0)) | u64::from(w(o1)) << 32,
            sym: w(i1),
            kind: w(i0),
            addend: match rest {
                [a0, a1, ..] => Some((u64::from(w(a0)) | u64::from(w(a1)) << 32) as i64),
                _ => None,
            },
        },
        (false, [o, i, rest @ ..]) => Reloc {
            offset: w(o).into(),
            sym: w(i) >> 8,
            kind: w(i) & 0xff,
            addend: rest.first().map(|a| (w(a) as i32).into()),
        },
        // Not reached: the loop hands whole entries of the class.
        _ => Reloc {
            offset: u64::MAX,
            sym: 0,
            kind: 0,
            addend: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loop's decoders agree with the ELF view's (`object`'s structures).
    #[test]
    fn entries_decode_as_the_elf_view_reads_them() {
        let words: [u32; 6] =
            core::array::from_fn(|i| (i as u32).wrapping_mul(0x9e37_79b9).wrapping_add(5));
        let bytes: [u8; 24] = core::array::from_fn(|i| words[i / 4].to_le_bytes()[i % 4]);
        let same = |a: Reloc, b: Reloc| {
            assert_eq!(
                (a.offset, a.sym, a.kind, a.addend),
                (b.offset, b.sym, b.kind, b.addend)
            )
        };
        for (class, rela) in [
            (Class::Elf32, false),
            (Class::Elf32, true),
            (Class::Elf64, false),
            (Class::Elf64, true),
        ] {
            let n = class.rel_size(rela);
            let e: [u32; 6] = core::array::from_fn(|i| words[i].to_le());
            same(
                decode(&e[..n / 4], class == Class::Elf64),
                Reloc::parse(class, rela, &bytes[..n]),
            );
        }
    }
}
