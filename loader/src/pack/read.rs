//! Reading and validating the input: header, section headers, names, symbols.
//!
//! Everything that later stages index is checked here, so they can index without panicking.

use alloc::string::String;
use alloc::vec::Vec;
use core::mem::size_of;

use object::elf::{
    EM_MIPS, ET_REL, SHF_INFO_LINK, SHN_LORESERVE, SHN_XINDEX, SHT_GROUP, SHT_NOBITS, SHT_REL,
    SHT_RELA, SHT_STRTAB, SHT_SYMTAB, SHT_SYMTAB_SHNDX,
};
use object::pod;

use super::class::{Class, Ehdr, Shdr, Sym, read_shdr, read_sym};
use super::error::{PackError, SectionProblem, SymbolProblem};
use super::strings::cstr_at;

/// One input section.
pub(super) struct Section<'a> {
    pub hdr: Shdr,
    /// Name from the section name table (empty for section 0).
    pub name: &'a [u8],
    /// File bytes (empty for `SHT_NOBITS`).
    pub data: &'a [u8],
}

impl Section<'_> {
    pub(super) fn is_reloc(&self) -> bool {
        self.hdr.kind == SHT_REL.0 || self.hdr.kind == SHT_RELA.0
    }

    /// Whether `sh_info` holds a section index (relocation target or `SHF_INFO_LINK`).
    pub(super) fn info_is_section(&self) -> bool {
        self.is_reloc() || self.hdr.flags & SHF_INFO_LINK.0 != 0
    }

    /// Bytes of one entry of this relocation section (`Rel` or `Rela` of class `C`).
    pub(super) fn rel_entry_size<C: Class>(&self) -> usize {
        if self.hdr.kind == SHT_RELA.0 {
            C::RELA_SIZE
        } else {
            size_of::<C::Rel>()
        }
    }

    pub(super) fn is_group(&self) -> bool {
        self.hdr.kind == SHT_GROUP.0
    }

    /// The 32-bit words of a `SHT_GROUP` section: flags, then member section indices.
    pub(super) fn words(&self) -> impl Iterator<Item = u32> + '_ {
        self.data
            .chunks_exact(4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
    }
}

/// One input symbol.
pub(super) struct Symbol<'a> {
    pub sym: Sym,
    pub name: &'a [u8],
}

/// A validated `ET_REL` file.
pub(super) struct Input<'a> {
    pub ehdr: Ehdr,
    pub sections: Vec<Section<'a>>,
    pub shstrndx: usize,
    pub symtab: usize,
    pub strtab: usize,
    pub symbols: Vec<Symbol<'a>>,
}

impl Input<'_> {
    /// An error about section `index`, carrying its name.
    pub(super) fn error(&self, index: usize, problem: SectionProblem) -> PackError {
        let name = self.sections.get(index).map_or(&[][..], |s| s.name);
        section_error(index, name, problem)
    }
}

pub(super) fn section_error(index: usize, name: &[u8], problem: SectionProblem) -> PackError {
    PackError::Section {
        index,
        name: String::from_utf8_lossy(name).into_owned(),
        problem,
    }
}

fn header_error(field: &'static str, value: u64, expected: &'static str) -> PackError {
    PackError::Header {
        field,
        value,
        expected,
    }
}

/// `file[offset..offset + size]`, or `None` if that is not inside the file.
fn slice(file: &[u8], offset: u64, size: u64) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(size).ok()?)?;
    file.get(start..end)
}

/// Parses and validates `file` as an ELF of class `C` (magic, class and byte order are
/// already checked by the caller).
pub(super) fn read<C: Class>(file: &[u8]) -> Result<Input<'_>, PackError> {
    let len = file.len() as u64;
    let (raw, _) = pod::from_bytes::<C::Ehdr>(file).map_err(|()| PackError::Truncated {
        what: "ELF header",
        end: size_of::<C::Ehdr>() as u64,
        len,
    })?;
    let ehdr = C::read_ehdr(raw);
    check_header::<C>(&ehdr)?;

    let shnum = usize::from(ehdr.shnum);
    let table_end = ehdr
        .shoff
        .saturating_add(shnum as u64 * size_of::<C::Shdr>() as u64);
    let table = slice(file, ehdr.shoff, table_end - ehdr.shoff)
        .and_then(|t| pod::slice_from_all_bytes::<C::Shdr>(t).ok())
        .ok_or(PackError::Truncated {
            what: "section header table",
            end: table_end,
            len,
        })?;
    let headers: Vec<Shdr> = table.iter().map(read_shdr::<C>).collect();

    let shstrndx = usize::from(ehdr.shstrndx);
    let names = section_data(file, shstrndx, &headers[shstrndx], &[])?;
    if headers[shstrndx].kind != SHT_STRTAB.0 {
        let problem = SectionProblem::BadType(headers[shstrndx].kind);
        return Err(section_error(shstrndx, &[], problem));
    }

    let mut sections = Vec::with_capacity(shnum);
    for (index, hdr) in headers.iter().enumerate() {
        let name = if index == 0 {
            &[][..]
        } else {
            cstr_at(names, hdr.name)
                .ok_or_else(|| section_error(index, &[], SectionProblem::BadName(hdr.name)))?
        };
        let data = if index == 0 {
            &[][..]
        } else {
            section_data(file, index, hdr, name)?
        };
        sections.push(Section {
            hdr: *hdr,
            name,
            data,
        });
    }

    let symtab = find_symtab(&sections)?;
    let strtab = sections[symtab].hdr.link as usize;
    let mut input = Input {
        ehdr,
        sections,
        shstrndx,
        symtab,
        strtab,
        symbols: Vec::new(),
    };
    input.symbols = read_symbols::<C>(&input)?;
    for index in 1..input.sections.len() {
        check_links::<C>(&input, index)?;
    }
    Ok(input)
}

fn check_header<C: Class>(h: &Ehdr) -> Result<(), PackError> {
    if h.e_type != ET_REL.0 {
        return Err(header_error(
            "e_type",
            h.e_type.into(),
            "ET_REL (1), a relocatable object",
        ));
    }
    if h.machine == EM_MIPS.0 && size_of::<C::Ehdr>() == 64 {
        // MIPS64 splits r_info differently from every other ELF64 machine.
        return Err(header_error(
            "e_machine",
            h.machine.into(),
            "not EM_MIPS with ELF64 (its r_info layout is not supported)",
        ));
    }
    if usize::from(h.shentsize) != size_of::<C::Shdr>() {
        return Err(header_error(
            "e_shentsize",
            h.shentsize.into(),
            "40 for ELF32, 64 for ELF64",
        ));
    }
    if h.shnum == 0 || h.shnum >= SHN_LORESERVE {
        return Err(header_error(
            "e_shnum",
            h.shnum.into(),
            "1..0xff00 (extended section numbering is not supported)",
        ));
    }
    if h.shstrndx == 0 || h.shstrndx >= h.shnum {
        return Err(header_error(
            "e_shstrndx",
            h.shstrndx.into(),
            "a section index below e_shnum",
        ));
    }
    Ok(())
}

/// The bytes of a section, after checking its extent and alignment.
fn section_data<'a>(
    file: &'a [u8],
    index: usize,
    hdr: &Shdr,
    name: &[u8],
) -> Result<&'a [u8], PackError> {
    let align = hdr.align;
    if align > super::MAX_ALIGN || (align != 0 && !align.is_power_of_two()) {
        return Err(section_error(index, name, SectionProblem::BadAlign(align)));
    }
    if hdr.kind == SHT_NOBITS.0 {
        return Ok(&[]);
    }
    slice(file, hdr.offset, hdr.size).ok_or_else(|| {
        let problem = SectionProblem::PastEnd {
            end: hdr.offset.saturating_add(hdr.size),
            len: file.len() as u64,
        };
        section_error(index, name, problem)
    })
}

fn find_symtab(sections: &[Section<'_>]) -> Result<usize, PackError> {
    let mut found = None;
    for (index, s) in sections.iter().enumerate().skip(1) {
        if s.hdr.kind == SHT_SYMTAB_SHNDX.0 {
            let problem = SectionProblem::Unsupported("SHT_SYMTAB_SHNDX (extended indices)");
            return Err(section_error(index, s.name, problem));
        }
        if s.hdr.kind == SHT_SYMTAB.0 {
            if found.is_some() {
                return Err(section_error(
                    index,
                    s.name,
                    SectionProblem::SecondSymbolTable,
                ));
            }
            found = Some(index);
        }
    }
    let symtab = found.ok_or(PackError::NoSymbolTable)?;
    let s = &sections[symtab];
    let link = s.hdr.link as usize;
    if link == 0 || link >= sections.len() || sections[link].hdr.kind != SHT_STRTAB.0 {
        return Err(section_error(
            symtab,
            s.name,
            SectionProblem::BadLink(s.hdr.link),
        ));
    }
    Ok(symtab)
}

/// Checks a table section's `sh_entsize` and `sh_size`; returns the entry count.
fn entries(input: &Input<'_>, index: usize, entsize: usize) -> Result<usize, PackError> {
    let hdr = &input.sections[index].hdr;
    if hdr.entsize != entsize as u64 {
        let problem = SectionProblem::BadEntsize {
            entsize: hdr.entsize,
            expected: entsize as u64,
        };
        return Err(input.error(index, problem));
    }
    let len = input.sections[index].data.len();
    if !len.is_multiple_of(entsize) {
        return Err(input.error(index, SectionProblem::BadSize(hdr.size)));
    }
    Ok(len / entsize)
}

fn read_symbols<'a, C: Class>(input: &Input<'a>) -> Result<Vec<Symbol<'a>>, PackError> {
    let symtab = input.symtab;
    let count = entries(input, symtab, size_of::<C::Sym>())?;
    let hdr = &input.sections[symtab].hdr;
    if count == 0 {
        return Err(input.error(symtab, SectionProblem::BadSize(hdr.size)));
    }
    if hdr.info as usize > count {
        return Err(input.error(symtab, SectionProblem::BadInfo(hdr.info)));
    }
    let raw = pod::slice_from_all_bytes::<C::Sym>(input.sections[symtab].data)
        .map_err(|()| input.error(symtab, SectionProblem::BadSize(hdr.size)))?;
    let names = input.sections[input.strtab].data;
    let shnum = input.sections.len();
    let mut symbols = Vec::with_capacity(count);
    for (index, raw) in raw.iter().enumerate() {
        let sym = read_sym::<C>(raw);
        let error = |problem| PackError::Symbol { index, problem };
        let name = cstr_at(names, sym.name).ok_or(error(SymbolProblem::BadName(sym.name)))?;
        if sym.shndx == SHN_XINDEX.0 {
            return Err(error(SymbolProblem::ExtendedIndex));
        }
        if sym.shndx < SHN_LORESERVE && usize::from(sym.shndx) >= shnum {
            return Err(error(SymbolProblem::BadSection(sym.shndx)));
        }
        symbols.push(Symbol { sym, name });
    }
    Ok(symbols)
}

/// Checks `sh_link`, `sh_info` and the entries of relocation and group sections.
fn check_links<C: Class>(input: &Input<'_>, index: usize) -> Result<(), PackError> {
    let s = &input.sections[index];
    let shnum = input.sections.len() as u64;
    let symtab_link = s.hdr.link as usize == input.symtab;
    if u64::from(s.hdr.link) >= shnum || ((s.is_reloc() || s.is_group()) && !symtab_link) {
        return Err(input.error(index, SectionProblem::BadLink(s.hdr.link)));
    }
    if s.info_is_section() && u64::from(s.hdr.info) >= shnum {
        return Err(input.error(index, SectionProblem::BadInfo(s.hdr.info)));
    }
    if s.is_reloc() {
        let size = if s.hdr.kind == SHT_RELA.0 {
            C::RELA_SIZE
        } else {
            size_of::<C::Rel>()
        };
        entries(input, index, size)?;
    }
    if s.is_group() {
        if s.data.len() < 4 || !s.data.len().is_multiple_of(4) {
            return Err(input.error(index, SectionProblem::BadSize(s.hdr.size)));
        }
        if s.hdr.info as usize >= input.symbols.len() {
            return Err(input.error(index, SectionProblem::BadInfo(s.hdr.info)));
        }
    }
    Ok(())
}
