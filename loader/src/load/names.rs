//! Two ways to read the string tables: in one pass, in lock-step with the entries they name
//! (a forward-only stream), or each name where it is (a seekable source). A source picks one
//! through [`crate::source::Source::Names`], so a firmware that only streams carries no code for
//! the other (an `async fn` keeps the states of a branch even when it can never be taken).

// The trait is sealed and its methods take the loader's own bookkeeping types: nothing outside
// the crate can implement or call them.
#![allow(private_interfaces)]

use super::sections::{self, NAMED, Role, SecRec};
use super::strings::{MAX_NAME, shown};
use super::strings::{NameBuf, OrderCheck, Splitter};
use super::symbols::{F_GLOBAL, F_NAMED, Slot};
use crate::elf::{Class, Reloc, Shdr, Sym};
use crate::source::Source;
use crate::symbols::SymName;
use crate::{Error, Name, Part, Report};

/// Where the string tables and the tables they name are.
pub struct Tables {
    pub(crate) class: Class,
    pub(crate) shoff: u64,
    pub(crate) shstrndx: u32,
    pub(crate) shstr: SecRec,
    pub(crate) sh_names: OrderCheck,
    pub(crate) symtab_off: u64,
    pub(crate) strtab: u32,
    pub(crate) strtab_rec: SecRec,
    pub(crate) st_names: OrderCheck,
}

/// Called with each symbol that needs its name: the symbol, the name and its index.
pub type OnName<'a> = dyn FnMut(&mut Slot, &SymName<'_>, u32) -> Result<(), Error> + 'a;

mod sealed {
    pub trait Sealed {}
}

/// Strong undefined symbols nothing exports: how many, and the first one's name.
#[derive(Clone, Copy, Debug, Default)]
pub struct Missing {
    pub(crate) count: u32,
    pub(crate) first: Name,
}

/// How names are read; implemented by [`Streamed`] and [`Seeked`] only.
#[allow(async_fn_in_trait)]
pub trait NameReader: sealed::Sealed {
    /// Whether the source can go back.
    const SEEKABLE: bool;

    /// Gives every loaded section its name (`.exported_sym`, init priorities, ...).
    #[doc(hidden)]
    async fn section_names<S: Source>(
        src: &mut S,
        t: &Tables,
        secs: &mut [SecRec],
    ) -> Result<(), Error>;

    /// Calls `each` for every symbol that needs its name (undefined and exported ones).
    #[doc(hidden)]
    async fn symbol_names<S: Source>(
        src: &mut S,
        t: &Tables,
        syms: &mut [Slot],
        each: &mut OnName<'_>,
    ) -> Result<(), Error>;

    /// Of the symbols found missing, the ones a loaded section's relocation uses (ld requires
    /// no other), each reported by name. A stream cannot look ahead: it keeps them all (pack
    /// drops the undefined symbols only unloaded sections use, so none is left over).
    #[doc(hidden)]
    async fn confirm<S: Source>(
        src: &mut S,
        t: &Tables,
        secs: &[SecRec],
        syms: &mut [Slot],
        missing: Missing,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<Missing, Error>;
}

/// Names read in one pass: the k-th string names the k-th named entry (`docs/STREAM-ORDER.md`).
pub struct Streamed;

/// Names read where they are: any file order.
pub struct Seeked;

impl sealed::Sealed for Streamed {}
impl sealed::Sealed for Seeked {}

impl NameReader for Streamed {
    const SEEKABLE: bool = false;

    async fn section_names<S: Source>(
        src: &mut S,
        t: &Tables,
        secs: &mut [SecRec],
    ) -> Result<(), Error> {
        let mut next = 0usize;
        let got = stream(src, Part::SectionNames, t.shstrndx, &t.shstr, |name| {
            next += 1;
            while next < secs.len() && secs[next].state & NAMED == 0 {
                next += 1;
            }
            if let Some(s) = secs.get_mut(next) {
                sections::apply_name(s, &name);
            }
            Ok(())
        })
        .await?;
        check(
            src,
            got,
            t.sh_names,
            Part::SectionNames,
            t.shstrndx,
            &t.shstr,
        )
    }

    async fn symbol_names<S: Source>(
        src: &mut S,
        t: &Tables,
        syms: &mut [Slot],
        each: &mut OnName<'_>,
    ) -> Result<(), Error> {
        let mut next = 0usize;
        let got = stream(src, Part::SymbolNames, t.strtab, &t.strtab_rec, |name| {
            next += 1;
            while next < syms.len() && !syms[next].has(F_NAMED) {
                next += 1;
            }
            match syms.get_mut(next) {
                Some(slot) => each(slot, &name, next as u32),
                None => Ok(()),
            }
        })
        .await?;
        check(
            src,
            got,
            t.st_names,
            Part::SymbolNames,
            t.strtab,
            &t.strtab_rec,
        )
    }

    async fn confirm<S: Source>(
        _: &mut S,
        _: &Tables,
        _: &[SecRec],
        _: &mut [Slot],
        missing: Missing,
        _: &mut dyn FnMut(Report<'_>),
    ) -> Result<Missing, Error> {
        Ok(missing)
    }
}

impl NameReader for Seeked {
    const SEEKABLE: bool = true;

    async fn section_names<S: Source>(
        src: &mut S,
        t: &Tables,
        secs: &mut [SecRec],
    ) -> Result<(), Error> {
        let mut nb = NameBuf::new();
        let mut sb = [0u8; 64];
        let n = t.class.shdr_size();
        for (i, rec) in secs.iter_mut().enumerate() {
            if rec.state & NAMED == 0 || rec.role.region().is_none() {
                continue;
            }
            src.seek_to(t.shoff + (i * n) as u64).await?;
            src.read_exact(&mut sb[..n]).await?;
            let sh = Shdr::parse(t.class, &sb[..n]);
            let name = read_name(src, &t.shstr, sh.name, &mut nb).await?;
            sections::apply_name(rec, &name);
        }
        Ok(())
    }

    async fn symbol_names<S: Source>(
        src: &mut S,
        t: &Tables,
        syms: &mut [Slot],
        each: &mut OnName<'_>,
    ) -> Result<(), Error> {
        let mut nb = NameBuf::new();
        let n = t.class.sym_size();
        for (i, slot) in syms.iter_mut().enumerate() {
            let s = *slot;
            if !(s.has(F_NAMED) && (s.is_pending() || (s.is_defined() && s.has(F_GLOBAL)))) {
                continue;
            }
            let mut eb = [0u8; 24];
            src.seek_to(t.symtab_off + (i * n) as u64).await?;
            src.read_exact(&mut eb[..n]).await?;
            let sym = Sym::parse(t.class, &eb[..n]);
            let name = read_name(src, &t.strtab_rec, sym.name, &mut nb).await?;
            each(slot, &name, i as u32)?;
        }
        Ok(())
    }

    async fn confirm<S: Source>(
        src: &mut S,
        t: &Tables,
        secs: &[SecRec],
        syms: &mut [Slot],
        _: Missing,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<Missing, Error> {
        for (i, rec) in secs.iter().enumerate() {
            let rela = rec.role == Role::Rela;
            let loaded = |r: u32| secs.get(r as usize).is_some_and(|s| s.role.has_contents());
            if !(rela || rec.role == Role::Rel) || !loaded(rec.place) {
                continue;
            }
            let esz = t.class.rel_size(rela);
            src.seek_to(rec.off.into()).await?;
            let mut eb = [0u8; 24];
            for _ in 0..rec.size as usize / esz {
                src.read_exact(&mut eb[..esz]).await?;
                let r = Reloc::parse(t.class, rela, &eb[..esz]);
                let slot = syms.get_mut(r.sym as usize).ok_or(Error::malformed(
                    "relocation symbol index",
                    Some(i as u32),
                    r.sym.into(),
                ))?;
                if slot.missing_state() == Some(false) {
                    *slot = slot.missing_used();
                }
            }
        }
        let mut missing = Missing::default();
        let (mut nb, mut eb, n) = (NameBuf::new(), [0u8; 24], t.class.sym_size());
        for (i, slot) in syms.iter().enumerate() {
            if slot.missing_state() != Some(true) {
                continue;
            }
            src.seek_to(t.symtab_off + (i * n) as u64).await?;
            src.read_exact(&mut eb[..n]).await?;
            let sym = Sym::parse(t.class, &eb[..n]);
            let name = read_name(src, &t.strtab_rec, sym.name, &mut nb).await?;
            let mut buf = [0u8; MAX_NAME];
            let shown = shown(&name, &mut buf);
            if missing.count == 0 {
                missing.first = Name::new(shown.as_bytes());
            }
            missing.count += 1;
            report(Report::MissingSymbol(shown));
        }
        Ok(missing)
    }
}

/// The stream check: the strings' offsets, in order, must be the entries' name offsets.
fn check<S: Source>(
    src: &S,
    got: OrderCheck,
    want: OrderCheck,
    part: Part,
    section: u32,
    table: &SecRec,
) -> Result<(), Error> {
    if got == want {
        Ok(())
    } else {
        Err(Error::StreamOrder {
            part,
            section,
            offset: table.off.into(),
            position: src.position(),
        })
    }
}

/// Streams string table `table` and calls `each(name)` for its strings after the leading empty
/// one. Returns the running check of the strings' offsets.
async fn stream<S: Source>(
    src: &mut S,
    part: Part,
    index: u32,
    table: &SecRec,
    mut each: impl FnMut(SymName<'_>) -> Result<(), Error>,
) -> Result<OrderCheck, Error> {
    super::driver::goto(src, part, index, table.off.into()).await?;
    let mut got = OrderCheck::default();
    let mut split = Splitter::new();
    let mut chunk = [0u8; 64];
    let mut left = table.size as usize;
    while left > 0 {
        let k = left.min(chunk.len());
        src.read_exact(&mut chunk[..k]).await?;
        left -= k;
        split.feed(&chunk[..k], |start, name| {
            if start != 0 {
                got.add(start);
                each(name)?;
            }
            Ok(())
        })?;
    }
    Ok(got)
}

/// Reads the NUL-terminated name at `off` of string table `table` (seekable sources only).
async fn read_name<'b, S: Source>(
    src: &mut S,
    table: &SecRec,
    off: u32,
    buf: &'b mut NameBuf,
) -> Result<SymName<'b>, Error> {
    if off >= table.size {
        return Err(Error::malformed(
            "name offset past the end of its string table",
            None,
            off.into(),
        ));
    }
    src.seek_to(u64::from(table.off) + u64::from(off)).await?;
    buf.clear();
    let mut left = (table.size - off) as usize;
    while left > 0 {
        let n = left.min(32);
        let mut tmp = [0u8; 32];
        src.read_exact(&mut tmp[..n]).await?;
        left -= n;
        for &c in &tmp[..n] {
            if c == 0 {
                return Ok(buf.name());
            }
            buf.push(c);
        }
    }
    Err(Error::malformed(
        "string table does not end with NUL",
        None,
        off.into(),
    ))
}
