//! The ELF32/ELF64 difference, behind one small trait.
//!
//! The rest of `pack` works on the class-neutral [`Ehdr`] and the loader's own view of section
//! headers and symbols ([`crate::elf::Shdr`], [`crate::elf::Sym`]: fields widened to `u64`, read
//! and written by `crate::elf`), and converts at the edges with [`Class`].

use object::LittleEndian as LE;
use object::elf::{
    FileHeader32, FileHeader64, Ident, Rel32, Rel64, SectionHeader32, SectionHeader64, Sym32, Sym64,
};
use object::endian::{U16, U32, U64};
use object::pod::Pod;

/// Class-neutral ELF file header.
#[derive(Debug, Clone, Copy)]
pub(super) struct Ehdr {
    pub ident: Ident,
    pub e_type: u16,
    pub machine: u16,
    pub version: u32,
    pub entry: u64,
    pub phoff: u64,
    pub shoff: u64,
    pub flags: u32,
    pub ehsize: u16,
    pub phentsize: u16,
    pub phnum: u16,
    pub shentsize: u16,
    pub shnum: u16,
    pub shstrndx: u16,
}

pub(super) use crate::elf::{Shdr, Sym};

/// One ELF class: its pod types and the conversions to and from the neutral model.
///
/// Writing narrows `u64` back to the class width; values read from an ELF32 file always fit,
/// and the offsets `pack` computes are checked against [`Class::MAX_OFFSET`] first.
pub(super) trait Class {
    type Ehdr: Pod;
    type Shdr: Pod;
    type Sym: Pod;
    /// The `r_offset`, `r_info` prefix shared by `Rel` and `Rela` entries.
    type Rel: Pod;
    /// Size of a `Rela` entry (a `Rel` entry is `size_of::<Self::Rel>()`).
    const RELA_SIZE: usize;
    /// Largest file offset the class can express.
    const MAX_OFFSET: u64;

    /// The class in the loader's ELF view.
    const ELF: crate::elf::Class;

    fn read_ehdr(h: &Self::Ehdr) -> Ehdr;
    fn write_ehdr(h: &Ehdr) -> Self::Ehdr;
    /// `r_sym` of a relocation entry.
    fn r_sym(r: &Self::Rel) -> u32;
    /// Replaces `r_sym`, keeping `r_type`.
    fn set_r_sym(r: &mut Self::Rel, sym: u32);
    /// `r_offset` of a relocation entry.
    fn r_offset(r: &Self::Rel) -> u64;
    /// `r_type` of a relocation entry.
    fn r_type(r: &Self::Rel) -> u32;
}

/// ELF32 (ARM, RV32).
pub(super) struct Elf32;
/// ELF64 (x86-64, RV64).
pub(super) struct Elf64;

/// Narrows a value known to fit (see [`Class`]); saturates rather than wrapping if it does not.
fn narrow(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn u16le<T: object::Wrap<Inner = u16>>(v: T) -> U16<LE, T> {
    U16::new(LE, v)
}

fn u32le(v: u64) -> U32<LE> {
    U32::new(LE, narrow(v))
}

fn u64le(v: u64) -> U64<LE> {
    U64::new(LE, v)
}

/// Expands to the body of `read_ehdr`; the field names are the same in both classes.
macro_rules! read_ehdr {
    ($h:expr) => {{
        let h = $h;
        Ehdr {
            ident: h.e_ident,
            e_type: h.e_type.get(LE).0,
            machine: h.e_machine.get(LE).0,
            version: h.e_version.get(LE),
            entry: h.e_entry.get(LE).into(),
            phoff: h.e_phoff.get(LE).into(),
            shoff: h.e_shoff.get(LE).into(),
            flags: h.e_flags.get(LE).0,
            ehsize: h.e_ehsize.get(LE),
            phentsize: h.e_phentsize.get(LE),
            phnum: h.e_phnum.get(LE),
            shentsize: h.e_shentsize.get(LE),
            shnum: h.e_shnum.get(LE),
            shstrndx: h.e_shstrndx.get(LE).0,
        }
    }};
}

/// Expands to the body of `write_ehdr`; `$w` widens a `u64` to the class word.
macro_rules! write_ehdr {
    ($ty:ident, $h:expr, $w:ident) => {{
        let h = $h;
        $ty {
            e_ident: h.ident,
            e_type: u16le(object::elf::FileType(h.e_type)),
            e_machine: u16le(object::elf::Machine(h.machine)),
            e_version: U32::new(LE, h.version),
            e_entry: $w(h.entry),
            e_phoff: $w(h.phoff),
            e_shoff: $w(h.shoff),
            e_flags: U32::new(LE, object::elf::FileFlags(h.flags)),
            e_ehsize: u16le(h.ehsize),
            e_phentsize: u16le(h.phentsize),
            e_phnum: u16le(h.phnum),
            e_shentsize: u16le(h.shentsize),
            e_shnum: u16le(h.shnum),
            e_shstrndx: u16le(object::elf::SymbolSection(h.shstrndx)),
        }
    }};
}

impl Class for Elf32 {
    type Ehdr = FileHeader32<LE>;
    type Shdr = SectionHeader32<LE>;
    type Sym = Sym32<LE>;
    type Rel = Rel32<LE>;
    const RELA_SIZE: usize = 12;
    const MAX_OFFSET: u64 = u32::MAX as u64;
    const ELF: crate::elf::Class = crate::elf::Class::Elf32;

    fn read_ehdr(h: &Self::Ehdr) -> Ehdr {
        read_ehdr!(h)
    }
    fn write_ehdr(h: &Ehdr) -> Self::Ehdr {
        write_ehdr!(FileHeader32, h, u32le)
    }
    fn r_sym(r: &Self::Rel) -> u32 {
        r.r_info.get(LE) >> 8
    }
    fn set_r_sym(r: &mut Self::Rel, sym: u32) {
        let info = r.r_info.get(LE);
        r.r_info.set(LE, (sym << 8) | (info & 0xff));
    }
    fn r_offset(r: &Self::Rel) -> u64 {
        r.r_offset.get(LE).into()
    }
    fn r_type(r: &Self::Rel) -> u32 {
        r.r_info.get(LE) & 0xff
    }
}

impl Class for Elf64 {
    type Ehdr = FileHeader64<LE>;
    type Shdr = SectionHeader64<LE>;
    type Sym = Sym64<LE>;
    type Rel = Rel64<LE>;
    const RELA_SIZE: usize = 24;
    const MAX_OFFSET: u64 = u64::MAX;
    const ELF: crate::elf::Class = crate::elf::Class::Elf64;

    fn read_ehdr(h: &Self::Ehdr) -> Ehdr {
        read_ehdr!(h)
    }
    fn write_ehdr(h: &Ehdr) -> Self::Ehdr {
        write_ehdr!(FileHeader64, h, u64le)
    }
    fn r_sym(r: &Self::Rel) -> u32 {
        // Standard ELF64 layout; MIPS64's split r_info is rejected when reading the header.
        (r.r_info.get(LE) >> 32) as u32
    }
    fn set_r_sym(r: &mut Self::Rel, sym: u32) {
        let info = r.r_info.get(LE);
        r.r_info
            .set(LE, (u64::from(sym) << 32) | (info & 0xffff_ffff));
    }
    fn r_offset(r: &Self::Rel) -> u64 {
        r.r_offset.get(LE)
    }
    fn r_type(r: &Self::Rel) -> u32 {
        r.r_info.get(LE) as u32
    }
}

/// A section header of class `C` in the loader's view.
pub(super) fn read_shdr<C: Class>(raw: &C::Shdr) -> Shdr {
    Shdr::parse(C::ELF, object::pod::bytes_of(raw))
}

/// A symbol of class `C` in the loader's view.
pub(super) fn read_sym<C: Class>(raw: &C::Sym) -> Sym {
    Sym::parse(C::ELF, object::pod::bytes_of(raw))
}

/// Appends `s` to `out` in class `C`'s layout.
pub(super) fn push_shdr<C: Class>(s: &Shdr, out: &mut alloc::vec::Vec<u8>) {
    let at = out.len();
    out.resize(at + C::ELF.shdr_size(), 0);
    s.write(C::ELF, &mut out[at..]);
}

/// Appends `s` to `out` in class `C`'s layout.
pub(super) fn push_sym<C: Class>(s: &Sym, out: &mut alloc::vec::Vec<u8>) {
    let at = out.len();
    out.resize(at + C::ELF.sym_size(), 0);
    s.write(C::ELF, &mut out[at..]);
}
