//! The ELF32/ELF64 difference, behind one small trait.
//!
//! The rest of `pack` works on the class-neutral [`Ehdr`], [`Shdr`] and [`Sym`] (all fields
//! widened to `u64`) and converts at the edges with [`Class`].

use object::LittleEndian as LE;
use object::elf::{
    FileHeader32, FileHeader64, Ident, Rel32, Rel64, SectionFlags, SectionHeader32,
    SectionHeader64, Sym32, Sym64,
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

/// Class-neutral section header.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Shdr {
    pub name: u32,
    pub sh_type: u32,
    pub flags: u64,
    pub addr: u64,
    pub offset: u64,
    pub size: u64,
    pub link: u32,
    pub info: u32,
    pub addralign: u64,
    pub entsize: u64,
}

/// Class-neutral symbol.
#[derive(Debug, Clone, Copy)]
pub(super) struct Sym {
    pub name: u32,
    pub info: u8,
    pub other: u8,
    pub shndx: u16,
    pub value: u64,
    pub size: u64,
}

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

    fn read_ehdr(h: &Self::Ehdr) -> Ehdr;
    fn write_ehdr(h: &Ehdr) -> Self::Ehdr;
    fn read_shdr(s: &Self::Shdr) -> Shdr;
    fn write_shdr(s: &Shdr) -> Self::Shdr;
    fn read_sym(s: &Self::Sym) -> Sym;
    fn write_sym(s: &Sym) -> Self::Sym;
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

macro_rules! read_shdr {
    ($s:expr) => {{
        let s = $s;
        Shdr {
            name: s.sh_name.get(LE),
            sh_type: s.sh_type.get(LE).0,
            flags: s.sh_flags.flags(),
            addr: s.sh_addr.get(LE).into(),
            offset: s.sh_offset.get(LE).into(),
            size: s.sh_size.get(LE).into(),
            link: s.sh_link.get(LE),
            info: s.sh_info.get(LE),
            addralign: s.sh_addralign.get(LE).into(),
            entsize: s.sh_entsize.get(LE).into(),
        }
    }};
}

macro_rules! read_sym {
    ($s:expr) => {{
        let s = $s;
        Sym {
            name: s.st_name.get(LE),
            info: s.st_info.0,
            other: s.st_other.0,
            shndx: s.st_shndx.get(LE).0,
            value: s.st_value.get(LE).into(),
            size: s.st_size.get(LE).into(),
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

macro_rules! write_shdr {
    ($ty:ident, $s:expr, $w:ident) => {{
        let s = $s;
        $ty {
            sh_name: U32::new(LE, s.name),
            sh_type: U32::new(LE, object::elf::SectionType(s.sh_type)),
            sh_flags: FlagsField::from_flags(s.flags),
            sh_addr: $w(s.addr),
            sh_offset: $w(s.offset),
            sh_size: $w(s.size),
            sh_link: U32::new(LE, s.link),
            sh_info: U32::new(LE, s.info),
            sh_addralign: $w(s.addralign),
            sh_entsize: $w(s.entsize),
        }
    }};
}

macro_rules! write_sym {
    ($ty:ident, $s:expr, $w:ident) => {{
        let s = $s;
        $ty {
            st_name: U32::new(LE, s.name),
            st_info: object::elf::SymbolInfo(s.info),
            st_other: object::elf::SymbolOther(s.other),
            st_shndx: u16le(object::elf::SymbolSection(s.shndx)),
            st_value: $w(s.value),
            st_size: $w(s.size),
        }
    }};
}

/// `sh_flags` is 32 or 64 bits wide but always tagged with the `u64` [`SectionFlags`].
trait FlagsField {
    fn flags(&self) -> u64;
    fn from_flags(v: u64) -> Self;
}

impl FlagsField for U32<LE, SectionFlags> {
    fn flags(&self) -> u64 {
        self.get_u64(LE).0
    }
    fn from_flags(v: u64) -> Self {
        Self::new_u64_truncate(LE, SectionFlags(v))
    }
}

impl FlagsField for U64<LE, SectionFlags> {
    fn flags(&self) -> u64 {
        self.get(LE).0
    }
    fn from_flags(v: u64) -> Self {
        Self::new(LE, SectionFlags(v))
    }
}

impl Class for Elf32 {
    type Ehdr = FileHeader32<LE>;
    type Shdr = SectionHeader32<LE>;
    type Sym = Sym32<LE>;
    type Rel = Rel32<LE>;
    const RELA_SIZE: usize = 12;
    const MAX_OFFSET: u64 = u32::MAX as u64;

    fn read_ehdr(h: &Self::Ehdr) -> Ehdr {
        read_ehdr!(h)
    }
    fn write_ehdr(h: &Ehdr) -> Self::Ehdr {
        write_ehdr!(FileHeader32, h, u32le)
    }
    fn read_shdr(s: &Self::Shdr) -> Shdr {
        read_shdr!(s)
    }
    fn write_shdr(s: &Shdr) -> Self::Shdr {
        write_shdr!(SectionHeader32, s, u32le)
    }
    fn read_sym(s: &Self::Sym) -> Sym {
        read_sym!(s)
    }
    fn write_sym(s: &Sym) -> Self::Sym {
        write_sym!(Sym32, s, u32le)
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

    fn read_ehdr(h: &Self::Ehdr) -> Ehdr {
        read_ehdr!(h)
    }
    fn write_ehdr(h: &Ehdr) -> Self::Ehdr {
        write_ehdr!(FileHeader64, h, u64le)
    }
    fn read_shdr(s: &Self::Shdr) -> Shdr {
        read_shdr!(s)
    }
    fn write_shdr(s: &Shdr) -> Self::Shdr {
        write_shdr!(SectionHeader64, s, u64le)
    }
    fn read_sym(s: &Self::Sym) -> Sym {
        read_sym!(s)
    }
    fn write_sym(s: &Sym) -> Self::Sym {
        write_sym!(Sym64, s, u64le)
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
