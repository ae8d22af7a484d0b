//! The ELF structures the loader reads, decoded from small slices into one class-neutral form.
//!
//! `object`'s pod structures do the byte layout; this module hides ELF32 versus ELF64. It is the
//! project's one view of ELF structures: the loader reads with it, and `pack` (host) reads and
//! writes with it ([`write`]).

use object::LittleEndian as LE;
use object::elf;
use object::pod::from_bytes;

use crate::Error;

#[cfg(feature = "alloc")]
pub mod write;

/// ELF32 or ELF64.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// 32-bit: ARM, RV32.
    Elf32,
    /// 64-bit: x86-64, RV64.
    Elf64,
}

impl Class {
    /// Size of the ELF file header.
    pub const fn ehdr_size(self) -> usize {
        match self {
            Class::Elf32 => 52,
            Class::Elf64 => 64,
        }
    }
    /// Size of a section header.
    pub const fn shdr_size(self) -> usize {
        match self {
            Class::Elf32 => 40,
            Class::Elf64 => 64,
        }
    }
    /// Size of a symbol table entry.
    pub const fn sym_size(self) -> usize {
        match self {
            Class::Elf32 => 16,
            Class::Elf64 => 24,
        }
    }
    /// Size of a relocation entry, with or without addend.
    pub const fn rel_size(self, rela: bool) -> usize {
        match (self, rela) {
            (Class::Elf32, false) => 8,
            (Class::Elf32, true) => 12,
            (Class::Elf64, false) => 16,
            (Class::Elf64, true) => 24,
        }
    }
    /// Size of an address.
    pub const fn addr_size(self) -> usize {
        match self {
            Class::Elf32 => 4,
            Class::Elf64 => 8,
        }
    }
}

/// The file header fields the loader uses.
#[derive(Clone, Copy, Debug)]
pub struct Header {
    /// ELF class.
    pub class: Class,
    /// `e_machine`.
    pub machine: u16,
    /// `e_flags` (float ABI on ARM and RISC-V).
    pub flags: u32,
    /// Section header table offset.
    pub shoff: u64,
    /// Number of section headers.
    pub shnum: u32,
    /// Index of the section name table.
    pub shstrndx: u32,
}

/// Bytes needed to decode [`Header`]: the larger of the two header sizes.
pub const HEADER_READ: usize = 64;

impl Header {
    /// Decodes the first [`HEADER_READ`] bytes (fewer for a short ELF32 file is fine: 52 suffice).
    pub fn parse(bytes: &[u8]) -> Result<Header, Error> {
        let ident = bytes.get(..16).ok_or(Error::NotElf)?;
        if ident[..4] != elf::ELFMAG || ident[6] != elf::EV_CURRENT.0 {
            return Err(Error::NotElf);
        }
        if ident[5] == elf::ELFDATA2MSB.0 {
            return Err(Error::BigEndian);
        }
        if ident[5] != elf::ELFDATA2LSB.0 {
            return Err(Error::NotElf);
        }
        const C32: u8 = elf::ELFCLASS32.0;
        const C64: u8 = elf::ELFCLASS64.0;
        let h = match ident[4] {
            C32 => {
                let (h, _) =
                    from_bytes::<elf::FileHeader32<LE>>(bytes).map_err(|_| Error::NotElf)?;
                Raw {
                    class: Class::Elf32,
                    e_type: h.e_type.get(LE).0,
                    machine: h.e_machine.get(LE).0,
                    flags: h.e_flags.get(LE).0,
                    shoff: h.e_shoff.get(LE).into(),
                    shentsize: h.e_shentsize.get(LE),
                    shnum: h.e_shnum.get(LE),
                    shstrndx: h.e_shstrndx.get(LE).0,
                }
            }
            C64 => {
                let (h, _) =
                    from_bytes::<elf::FileHeader64<LE>>(bytes).map_err(|_| Error::NotElf)?;
                Raw {
                    class: Class::Elf64,
                    e_type: h.e_type.get(LE).0,
                    machine: h.e_machine.get(LE).0,
                    flags: h.e_flags.get(LE).0,
                    shoff: h.e_shoff.get(LE),
                    shentsize: h.e_shentsize.get(LE),
                    shnum: h.e_shnum.get(LE),
                    shstrndx: h.e_shstrndx.get(LE).0,
                }
            }
            _ => return Err(Error::NotElf),
        };
        if h.e_type != elf::ET_REL.0 {
            return Err(Error::NotRelocatable { e_type: h.e_type });
        }
        if usize::from(h.shentsize) != h.class.shdr_size() {
            return Err(Error::malformed("e_shentsize", None, h.shentsize.into()));
        }
        if h.shnum == 0 || h.shstrndx == elf::SHN_XINDEX.0 {
            // Extended numbering (>= 0xff00 sections) is far past any extension's size.
            return Err(Error::malformed(
                "e_shnum (extended section numbering)",
                None,
                h.shnum.into(),
            ));
        }
        if h.shstrndx >= h.shnum {
            return Err(Error::malformed("e_shstrndx", None, h.shstrndx.into()));
        }
        Ok(Header {
            class: h.class,
            machine: h.machine,
            flags: h.flags,
            shoff: h.shoff,
            shnum: h.shnum.into(),
            shstrndx: h.shstrndx.into(),
        })
    }

    /// Size of the header itself.
    pub fn size(&self) -> u64 {
        self.class.ehdr_size() as u64
    }
}

struct Raw {
    class: Class,
    e_type: u16,
    machine: u16,
    flags: u32,
    shoff: u64,
    shentsize: u16,
    shnum: u16,
    shstrndx: u16,
}

/// A section header.
#[allow(missing_docs)] // fields as the ELF specification names them, without prefix
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shdr {
    pub name: u32,
    pub kind: u32,
    pub flags: u64,
    pub addr: u64,
    pub offset: u64,
    pub size: u64,
    pub link: u32,
    pub info: u32,
    pub align: u64,
    pub entsize: u64,
}

impl Shdr {
    /// Decodes one section header of `class`.
    pub fn parse(class: Class, b: &[u8]) -> Shdr {
        match class {
            Class::Elf32 => {
                let (s, _) = from_bytes::<elf::SectionHeader32<LE>>(b).expect("sized by caller");
                Shdr {
                    name: s.sh_name.get(LE),
                    kind: s.sh_type.get(LE).0,
                    flags: s.sh_flags.get_u64(LE).0,
                    addr: s.sh_addr.get(LE).into(),
                    offset: s.sh_offset.get(LE).into(),
                    size: s.sh_size.get(LE).into(),
                    link: s.sh_link.get(LE),
                    info: s.sh_info.get(LE),
                    align: s.sh_addralign.get(LE).into(),
                    entsize: s.sh_entsize.get(LE).into(),
                }
            }
            Class::Elf64 => {
                let (s, _) = from_bytes::<elf::SectionHeader64<LE>>(b).expect("sized by caller");
                Shdr {
                    name: s.sh_name.get(LE),
                    kind: s.sh_type.get(LE).0,
                    flags: s.sh_flags.get(LE).0,
                    addr: s.sh_addr.get(LE),
                    offset: s.sh_offset.get(LE),
                    size: s.sh_size.get(LE),
                    link: s.sh_link.get(LE),
                    info: s.sh_info.get(LE),
                    align: s.sh_addralign.get(LE),
                    entsize: s.sh_entsize.get(LE),
                }
            }
        }
    }
}

/// A symbol table entry.
#[allow(missing_docs)] // fields as the ELF specification names them, without prefix
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sym {
    pub name: u32,
    pub bind: u8,
    pub kind: u8,
    pub other: u8,
    pub shndx: u16,
    pub value: u64,
    pub size: u64,
}

impl Sym {
    /// `st_info`: binding and type together.
    pub fn info(&self) -> u8 {
        (self.bind << 4) | (self.kind & 0xf)
    }

    /// Decodes one symbol of `class`.
    pub fn parse(class: Class, b: &[u8]) -> Sym {
        match class {
            Class::Elf32 => {
                let (s, _) = from_bytes::<elf::Sym32<LE>>(b).expect("sized by caller");
                Sym {
                    name: s.st_name.get(LE),
                    bind: s.st_bind().0,
                    kind: s.st_type().0,
                    other: s.st_other.0,
                    shndx: s.st_shndx.get(LE).0,
                    value: s.st_value.get(LE).into(),
                    size: s.st_size.get(LE).into(),
                }
            }
            Class::Elf64 => {
                let (s, _) = from_bytes::<elf::Sym64<LE>>(b).expect("sized by caller");
                Sym {
                    name: s.st_name.get(LE),
                    bind: s.st_bind().0,
                    kind: s.st_type().0,
                    other: s.st_other.0,
                    shndx: s.st_shndx.get(LE).0,
                    value: s.st_value.get(LE),
                    size: s.st_size.get(LE),
                }
            }
        }
    }
}

/// A relocation entry; `addend` is `None` for `REL` (the addend is in place).
#[allow(missing_docs)] // fields as the ELF specification names them, without prefix
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reloc {
    pub offset: u64,
    pub sym: u32,
    pub kind: u32,
    pub addend: Option<i64>,
}

impl Reloc {
    /// Decodes one entry of `class`, with an addend when `rela`.
    pub fn parse(class: Class, rela: bool, b: &[u8]) -> Reloc {
        match (class, rela) {
            (Class::Elf32, false) => {
                let (r, _) = from_bytes::<elf::Rel32<LE>>(b).expect("sized by caller");
                Reloc {
                    offset: r.r_offset.get(LE).into(),
                    sym: r.r_sym(LE),
                    kind: r.r_type(LE).0,
                    addend: None,
                }
            }
            (Class::Elf32, true) => {
                let (r, _) = from_bytes::<elf::Rela32<LE>>(b).expect("sized by caller");
                Reloc {
                    offset: r.r_offset.get(LE).into(),
                    sym: r.r_sym(LE),
                    kind: r.r_type(LE).0,
                    addend: Some(r.r_addend.get(LE).into()),
                }
            }
            (Class::Elf64, false) => {
                let (r, _) = from_bytes::<elf::Rel64<LE>>(b).expect("sized by caller");
                Reloc {
                    offset: r.r_offset.get(LE),
                    sym: r.r_sym(LE),
                    kind: r.r_type(LE).0,
                    addend: None,
                }
            }
            (Class::Elf64, true) => {
                let (r, _) = from_bytes::<elf::Rela64<LE>>(b).expect("sized by caller");
                Reloc {
                    offset: r.r_offset.get(LE),
                    sym: r.r_sym(LE, false),
                    kind: r.r_type(LE, false).0,
                    addend: Some(r.r_addend.get(LE)),
                }
            }
        }
    }
}
