//! Writing the class-neutral structures back in their class's layout (host side: `pack`).
//!
//! Each writer is the inverse of its `parse`; values wider than an ELF32 field are cut to 32
//! bits (`pack` checks offsets against the class first).

use object::LittleEndian as LE;
use object::elf;
use object::endian::{U16, U32, U64};
use object::pod::{Pod, bytes_of};

use super::{Class, Reloc, Shdr, Sym};

fn put<T: Pod>(out: &mut [u8], v: &T) {
    let b = bytes_of(v);
    out[..b.len()].copy_from_slice(b);
}

fn w32(v: u64) -> U32<LE> {
    U32::new(LE, v as u32)
}

fn w64(v: u64) -> U64<LE> {
    U64::new(LE, v)
}

impl Shdr {
    /// Writes this header in `class`'s layout at the start of `out` (at least
    /// [`Class::shdr_size`] bytes).
    pub fn write(&self, class: Class, out: &mut [u8]) {
        let (name, kind, link, info) = (
            U32::new(LE, self.name),
            U32::new(LE, elf::SectionType(self.kind)),
            U32::new(LE, self.link),
            U32::new(LE, self.info),
        );
        match class {
            Class::Elf32 => put(
                out,
                &elf::SectionHeader32::<LE> {
                    sh_name: name,
                    sh_type: kind,
                    sh_flags: U32::new_u64_truncate(LE, elf::SectionFlags(self.flags)),
                    sh_addr: w32(self.addr),
                    sh_offset: w32(self.offset),
                    sh_size: w32(self.size),
                    sh_link: link,
                    sh_info: info,
                    sh_addralign: w32(self.align),
                    sh_entsize: w32(self.entsize),
                },
            ),
            Class::Elf64 => put(
                out,
                &elf::SectionHeader64::<LE> {
                    sh_name: name,
                    sh_type: kind,
                    sh_flags: U64::new(LE, elf::SectionFlags(self.flags)),
                    sh_addr: w64(self.addr),
                    sh_offset: w64(self.offset),
                    sh_size: w64(self.size),
                    sh_link: link,
                    sh_info: info,
                    sh_addralign: w64(self.align),
                    sh_entsize: w64(self.entsize),
                },
            ),
        }
    }
}

impl Sym {
    /// Writes this symbol in `class`'s layout at the start of `out` (at least
    /// [`Class::sym_size`] bytes).
    pub fn write(&self, class: Class, out: &mut [u8]) {
        let (name, info, other, shndx) = (
            U32::new(LE, self.name),
            elf::SymbolInfo(self.info()),
            elf::SymbolOther(self.other),
            U16::new(LE, elf::SymbolSection(self.shndx)),
        );
        match class {
            Class::Elf32 => put(
                out,
                &elf::Sym32::<LE> {
                    st_name: name,
                    st_value: w32(self.value),
                    st_size: w32(self.size),
                    st_info: info,
                    st_other: other,
                    st_shndx: shndx,
                },
            ),
            Class::Elf64 => put(
                out,
                &elf::Sym64::<LE> {
                    st_name: name,
                    st_info: info,
                    st_other: other,
                    st_shndx: shndx,
                    st_value: w64(self.value),
                    st_size: w64(self.size),
                },
            ),
        }
    }
}

impl Reloc {
    /// Writes this entry in `class`'s layout at the start of `out` ([`Class::rel_size`] bytes);
    /// the addend only when the entry has one (`RELA`).
    pub fn write(&self, class: Class, out: &mut [u8]) {
        match (class, self.addend) {
            (Class::Elf32, addend) => {
                put(out, &w32(self.offset));
                put(
                    &mut out[4..],
                    &U32::<LE>::new(LE, (self.sym << 8) | (self.kind & 0xff)),
                );
                if let Some(a) = addend {
                    put(&mut out[8..], &U32::<LE>::new(LE, a as u32));
                }
            }
            (Class::Elf64, addend) => {
                put(out, &w64(self.offset));
                let info = (u64::from(self.sym) << 32) | u64::from(self.kind);
                put(&mut out[8..], &w64(info));
                if let Some(a) = addend {
                    put(&mut out[16..], &w64(a as u64));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every writer is the inverse of its parser, in both classes.
    #[test]
    fn written_structures_parse_back_the_same() {
        for class in [Class::Elf32, Class::Elf64] {
            let s = Shdr {
                name: 7,
                kind: 4,
                flags: 0x46,
                addr: 0x1000,
                offset: 0x340,
                size: 96,
                link: 3,
                info: 1,
                align: 8,
                entsize: 12,
            };
            let mut b = [0u8; 64];
            s.write(class, &mut b);
            let back = Shdr::parse(class, &b[..class.shdr_size()]);
            assert_eq!(back, s);

            let y = Sym {
                name: 9,
                bind: 1,
                kind: 2,
                other: 3,
                shndx: 5,
                value: 0x44,
                size: 16,
            };
            let mut b = [0u8; 24];
            y.write(class, &mut b);
            let back = Sym::parse(class, &b[..class.sym_size()]);
            assert_eq!(back, y);

            for addend in [None, Some(-8)] {
                let r = Reloc {
                    offset: 0x10,
                    sym: 6,
                    kind: 43,
                    addend,
                };
                let mut b = [0u8; 24];
                r.write(class, &mut b);
                let back = Reloc::parse(
                    class,
                    addend.is_some(),
                    &b[..class.rel_size(addend.is_some())],
                );
                assert_eq!(back, r);
            }
        }
    }
}
