//! Section records: what each section is for, where it goes, and the region layout.

use object::elf;

use crate::Error;
use crate::elf::{Class, Shdr};
use crate::memory::MemKind;
use crate::symbols::SymName;

/// What the loader does with a section.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Role {
    /// Not loaded: not `SHF_ALLOC` (debug info, groups, attributes), or an unwind table.
    #[default]
    Skip,
    Text,
    Rodata,
    Data,
    Bss,
    Preinit,
    Init,
    Fini,
    /// `.exported_sym`: `{name, addr}` pairs of `LL_EXTENSION_SYMBOL`.
    ExportedSym,
    Rel,
    Rela,
    Symtab,
    Strtab,
    Shstrtab,
}

impl Role {
    /// The region a loaded section goes to.
    pub(crate) fn region(self) -> Option<MemKind> {
        Some(match self {
            Role::Text => MemKind::Text,
            Role::Rodata | Role::Preinit | Role::Init | Role::Fini | Role::ExportedSym => {
                MemKind::Rodata
            }
            Role::Data => MemKind::Data,
            Role::Bss => MemKind::Bss,
            _ => return None,
        })
    }

    /// Whether its bytes come from the file.
    pub(crate) fn has_contents(self) -> bool {
        self.region().is_some() && self != Role::Bss
    }
}

pub(crate) const LOADED: u8 = 1;
pub(crate) const NAMED: u8 = 2;

/// One section, 20 bytes: the loader keeps one per section for the length of a load.
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub(crate) struct SecRec {
    pub off: u32,
    pub size: u32,
    /// Offset in its region once laid out; the target section of a relocation section; the
    /// init/fini priority before layout.
    pub place: u32,
    /// For a loaded section whose name is a C identifier (the ones `__start_NAME` and
    /// `__stop_NAME` can bracket): the low 32 bits of the name's hash, never 0. Otherwise 0.
    pub ident: u32,
    pub role: Role,
    pub align_log2: u8,
    pub state: u8,
    pub _pad: u8,
}

/// `SHT_ARM_EXIDX` and `SHT_X86_64_UNWIND` (the same number): unwind tables.
const SHT_UNWIND: u32 = 0x7000_0001;

/// Default priority of an unsuffixed `.init_array`: after every numbered one, as `ld` sorts.
pub(crate) const NO_PRIORITY: u32 = 0x1_0000;

/// Classifies one section header.
pub(crate) fn classify(
    class: Class,
    index: u32,
    shnum: u32,
    shstrndx: u32,
    sh: &Shdr,
) -> Result<SecRec, Error> {
    let s = Some(index);
    let off = u32::try_from(sh.offset).map_err(|_| Error::malformed("sh_offset", s, sh.offset))?;
    let size = u32::try_from(sh.size).map_err(|_| Error::malformed("sh_size", s, sh.size))?;
    let align = sh.align.max(1);
    if !align.is_power_of_two() || align > 1 << 20 {
        return Err(Error::malformed("sh_addralign", s, sh.align));
    }
    let mut rec = SecRec {
        off,
        size,
        place: 0,
        ident: 0,
        role: Role::Skip,
        align_log2: align.trailing_zeros() as u8,
        state: if sh.name != 0 { NAMED } else { 0 },
        _pad: 0,
    };
    let alloc = sh.flags & elf::SHF_ALLOC.0 != 0;
    let kind = sh.kind;
    if index == 0 {
        rec.state = 0;
        return Ok(rec);
    }
    rec.role = if index == shstrndx {
        if kind != elf::SHT_STRTAB.0 {
            return Err(Error::malformed(
                "e_shstrndx is not a string table",
                s,
                kind.into(),
            ));
        }
        Role::Shstrtab
    } else if kind == elf::SHT_SYMTAB.0 {
        if sh.entsize != class.sym_size() as u64 {
            return Err(Error::malformed("symbol table sh_entsize", s, sh.entsize));
        }
        if sh.link == 0 || sh.link >= shnum {
            return Err(Error::malformed("symbol table sh_link", s, sh.link.into()));
        }
        Role::Symtab
    } else if kind == elf::SHT_REL.0 || kind == elf::SHT_RELA.0 {
        let rela = kind == elf::SHT_RELA.0;
        if sh.entsize != class.rel_size(rela) as u64 {
            return Err(Error::malformed("relocation sh_entsize", s, sh.entsize));
        }
        if sh.info == 0 || sh.info >= shnum {
            return Err(Error::malformed(
                "relocation target (sh_info)",
                s,
                sh.info.into(),
            ));
        }
        rec.place = sh.info;
        if rela { Role::Rela } else { Role::Rel }
    } else if !alloc || kind == SHT_UNWIND {
        // Unwind tables are not loaded (docs/LINKING.md): nothing at run time unwinds.
        Role::Skip
    } else if sh.flags & elf::SHF_TLS.0 != 0 {
        return Err(Error::malformed(
            "thread-local storage is not supported",
            s,
            sh.flags,
        ));
    } else if kind == elf::SHT_NOBITS.0 {
        Role::Bss
    } else if kind == elf::SHT_INIT_ARRAY.0 {
        rec.place = NO_PRIORITY;
        Role::Init
    } else if kind == elf::SHT_FINI_ARRAY.0 {
        rec.place = NO_PRIORITY;
        Role::Fini
    } else if kind == elf::SHT_PREINIT_ARRAY.0 {
        Role::Preinit
    } else if sh.flags & elf::SHF_EXECINSTR.0 != 0 {
        // Every other allocated section, whatever its type (`PROGBITS`, `NOTE`, a processor's
        // own), and even when empty, gets an address as ld gives it one.
        Role::Text
    } else if sh.flags & elf::SHF_WRITE.0 != 0 {
        Role::Data
    } else {
        Role::Rodata
    };
    Ok(rec)
}

/// Whether `name` is a C identifier (ld defines `__start_`/`__stop_` symbols for such sections).
pub(crate) fn is_c_identifier(name: &[u8]) -> bool {
    matches!(name.first(), Some(c) if c.is_ascii_alphabetic() || *c == b'_')
        && name.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

/// The [`SecRec::ident`] of a section named `name`.
pub(crate) fn ident_of(name: &SymName<'_>) -> u32 {
    (name.hash as u32).max(1)
}

/// Refines a loaded section's role from its name: `.exported_sym`, unwind tables, the
/// priority of `.init_array.NNNNN`/`.fini_array.NNNNN`, and the hash of identifier names.
pub(crate) fn apply_name(rec: &mut SecRec, full: &SymName<'_>) {
    let name = full.prefix;
    if rec.role.region().is_some() && full.is_whole() && is_c_identifier(name) {
        rec.ident = ident_of(full);
    }
    let unwind = name == b".eh_frame" || name.starts_with(b".ARM.extab");
    match rec.role {
        Role::Rodata | Role::Data if name == b".exported_sym" => rec.role = Role::ExportedSym,
        Role::Rodata | Role::Data if unwind => rec.role = Role::Skip,
        Role::Init | Role::Fini => {
            let digits = name
                .strip_prefix(b".init_array.")
                .or_else(|| name.strip_prefix(b".fini_array."));
            if let Some(d) = digits
                && !d.is_empty()
                && d.len() <= 5
                && d.iter().all(u8::is_ascii_digit)
            {
                rec.place = d.iter().fold(0, |acc, c| acc * 10 + u32::from(c - b'0'));
            }
        }
        _ => {}
    }
}

/// A contiguous run inside the rodata region (the init array, ...).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// Offset in the region.
    pub off: u32,
    /// Length in bytes.
    pub len: u32,
}

/// Region sizes and alignments, and where the arrays ended up.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Layout {
    /// Bytes per region (at most `u32::MAX >> 4`).
    pub size: [u32; 5],
    /// Alignment per region (at most 1 MiB).
    pub align: [u32; 5],
    /// Regions holding at least one section, even an empty one (it still needs an address).
    pub used: u8,
    pub preinit: Span,
    pub init: Span,
    pub fini: Span,
    pub exported: Span,
}

impl Layout {
    /// Places `size` bytes aligned to `align` at the end of `region`; returns the offset.
    pub(crate) fn place(&mut self, region: MemKind, size: u64, align: u64) -> Result<u32, Error> {
        let r = region.index();
        const MAX: u64 = (u32::MAX >> 4) as u64;
        // Sizes come from the file (COMMON symbols too): never let them wrap.
        let off = (u64::from(self.size[r]) + align - 1) & !(align - 1);
        let end = off.saturating_add(size);
        if end > MAX {
            return Err(Error::Limit {
                what: "region size",
                value: end,
                limit: MAX,
            });
        }
        self.size[r] = end as u32;
        self.align[r] = self.align[r].max(align as u32);
        self.used |= 1 << r;
        Ok(off as u32)
    }
}

/// Assigns every loaded section its offset: arrays first in rodata (preinit, init by priority,
/// fini by priority, exported symbols), then the rest in index order, sections of one
/// identifier name next to each other (so `__start_NAME`..`__stop_NAME` spans them all).
pub(crate) fn lay_out(secs: &mut [SecRec]) -> Result<Layout, Error> {
    let mut l = Layout::default();
    for role in [Role::Preinit, Role::Init, Role::Fini, Role::ExportedSym] {
        let start = l.size[MemKind::Rodata.index()];
        let mut first = None;
        loop {
            // Lowest priority first, then index order: a stable selection, as ld's sort.
            let next = secs
                .iter()
                .enumerate()
                .filter(|(_, s)| s.role == role && s.state & LOADED == 0)
                .min_by_key(|(i, s)| (if role == Role::Preinit { 0 } else { s.place }, *i));
            let Some((i, _)) = next else { break };
            let s = &mut secs[i];
            let off = l.place(MemKind::Rodata, s.size.into(), 1 << s.align_log2)?;
            first.get_or_insert(off);
            s.place = off;
            s.state |= LOADED; // temporarily: "placed"
        }
        let span = match first {
            Some(off) => Span {
                off,
                len: l.size[MemKind::Rodata.index()] - off,
            },
            None => Span { off: start, len: 0 },
        };
        match role {
            Role::Preinit => l.preinit = span,
            Role::Init => l.init = span,
            Role::Fini => l.fini = span,
            _ => l.exported = span,
        }
    }
    for i in 0..secs.len() {
        let s = secs[i];
        let Some(region) = s.role.region() else {
            continue;
        };
        if s.state & LOADED != 0 {
            continue; // an array, or placed with an earlier section of its name
        }
        secs[i].place = l.place(region, s.size.into(), 1 << s.align_log2)?;
        secs[i].state |= LOADED;
        // Once per identifier name (names with dots, like `-ffunction-sections` ones, have none).
        if s.ident != 0 {
            for t in secs[i + 1..].iter_mut() {
                if t.ident == s.ident && t.role.region() == Some(region) && t.state & LOADED == 0 {
                    t.place = l.place(region, t.size.into(), 1 << t.align_log2)?;
                    t.state |= LOADED;
                }
            }
        }
    }
    for s in secs.iter_mut() {
        s.state &= !LOADED;
    }
    Ok(l)
}

/// Where ld's `__start_NAME`/`__stop_NAME` point for sections with identifier hash `ident`:
/// the region and the offsets of the first byte and one past the last.
pub(crate) fn bracket(secs: &[SecRec], ident: u32) -> Option<(MemKind, u32, u32)> {
    let mut found: Option<(MemKind, u32, u32)> = None;
    for s in secs.iter().filter(|s| s.ident == ident) {
        let region = s.role.region()?;
        let (a, b) = (s.place, s.place + s.size);
        found = Some(match found {
            Some((k, lo, hi)) if k == region => (k, lo.min(a), hi.max(b)),
            Some(f) => f,
            None => (region, a, b),
        });
    }
    found
}
