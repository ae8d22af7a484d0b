//! Writing the output: headers, rebuilt tables and section bytes in index order.

use alloc::vec::Vec;
use core::mem::size_of;

use object::elf::{EM_RISCV, SHT_GROUP, SHT_NOBITS, SHT_RELA, SHT_SYMTAB};
use object::pod;

use super::class::{Class, Shdr, push_shdr, push_sym};
use super::error::{PackError, SectionProblem};
use super::plan::{Plan, Slot};
use super::read::Input;
use super::riscv;
use super::strings::StringTable;

/// Bytes of one output section.
enum Content<'a> {
    Copied(&'a [u8]),
    Built(Vec<u8>),
}

impl Content<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Content::Copied(b) => b,
            Content::Built(b) => b,
        }
    }
}

pub(super) fn write<C: Class>(input: &Input<'_>, plan: &Plan) -> Result<Vec<u8>, PackError> {
    let mut headers = Vec::with_capacity(plan.order.len());
    let mut contents = Vec::with_capacity(plan.order.len());
    let mut names = StringTable::new();
    let (strtab, symtab) = symbols::<C>(input, plan)?;
    let (mut strtab, mut symtab) = (Some(strtab), Some(symtab));
    for slot in &plan.order {
        let (mut hdr, content) = match *slot {
            Slot::Null => (Shdr::default(), Content::Copied(&[])),
            // Filled in last, once every name is in.
            Slot::Names => (
                input.sections[input.shstrndx].hdr,
                Content::Built(Vec::new()),
            ),
            Slot::Input(i) => {
                let hdr = header(input, plan, i)?;
                let content = if i == input.strtab {
                    Content::Built(strtab.take().unwrap_or_default())
                } else if i == input.symtab {
                    Content::Built(symtab.take().unwrap_or_default())
                } else {
                    contents_of::<C>(input, plan, i)?
                };
                (hdr, content)
            }
        };
        hdr.name = match *slot {
            Slot::Null => 0,
            Slot::Names => names.add(b".shstrtab")?,
            Slot::Input(i) => names.add(input.sections[i].name)?,
        };
        headers.push(hdr);
        contents.push(content);
    }
    contents[1] = Content::Built(names.into_bytes());
    layout::<C>(input, headers, &contents)
}

/// Rebuilds the symbol table and its lock-step string table.
fn symbols<C: Class>(input: &Input<'_>, plan: &Plan) -> Result<(Vec<u8>, Vec<u8>), PackError> {
    let mut strtab = StringTable::new();
    let mut symtab = Vec::with_capacity(input.symbols.len() * size_of::<C::Sym>());
    for (s, new) in input.symbols.iter().zip(&plan.symbol_map) {
        if new.is_none() {
            continue;
        }
        let mut sym = s.sym;
        sym.name = strtab.add(s.name)?;
        if sym.shndx != 0 && sym.shndx < object::elf::SHN_LORESERVE {
            // Defined symbols in dropped sections are not in the map (removed above).
            let shndx = plan.section_map[usize::from(sym.shndx)].unwrap_or(0);
            sym.shndx = shndx as u16;
        }
        push_sym::<C>(&sym, &mut symtab);
    }
    Ok((strtab.into_bytes(), symtab))
}

/// The output header of input section `i`, with `sh_link` and `sh_info` renumbered.
fn header(input: &Input<'_>, plan: &Plan, i: usize) -> Result<Shdr, PackError> {
    let s = &input.sections[i];
    let mut hdr = s.hdr;
    if hdr.link != 0 {
        hdr.link = plan.section_map[hdr.link as usize]
            .ok_or_else(|| input.error(i, SectionProblem::BadLink(hdr.link)))?;
    }
    if s.info_is_section() {
        if hdr.info != 0 {
            hdr.info = plan.section_map[hdr.info as usize]
                .ok_or_else(|| input.error(i, SectionProblem::BadInfo(hdr.info)))?;
        }
    } else if hdr.kind == SHT_SYMTAB.0 {
        hdr.info = plan.first_global;
    } else if hdr.kind == SHT_GROUP.0 {
        hdr.info = plan.symbol_map[hdr.info as usize]
            .ok_or_else(|| input.error(i, SectionProblem::GroupSignatureDropped(hdr.info)))?;
    }
    Ok(hdr)
}

/// Relocation entries `data` (of `size` bytes) in address order (`r_offset`), entries at one
/// offset in their order: what lets a device link in place a page at a time (a merge of the
/// section's bytes with its relocations). ld's output does not depend on the order.
fn by_offset<C: Class>(data: &[u8], size: usize) -> Vec<u8> {
    let mut order: Vec<(u64, usize)> = data
        .chunks_exact(size)
        .enumerate()
        .map(|(i, e)| match pod::from_bytes::<C::Rel>(e) {
            Ok((r, _)) => (C::r_offset(r), i),
            Err(()) => (0, i), // unreachable: every entry is at least a Rel
        })
        .collect();
    order.sort_by_key(|&(offset, _)| offset); // stable
    let mut out = Vec::with_capacity(data.len());
    for (_, i) in order {
        out.extend_from_slice(&data[i * size..(i + 1) * size]);
    }
    out
}

/// Bytes of input section `i`: copied, or rewritten for relocations and groups.
fn contents_of<'a, C: Class>(
    input: &Input<'a>,
    plan: &Plan,
    i: usize,
) -> Result<Content<'a>, PackError> {
    let s = &input.sections[i];
    if s.is_reloc() {
        let size = s.rel_entry_size::<C>();
        let sorted = by_offset::<C>(s.data, size);
        let mut out = if input.ehdr.machine == EM_RISCV.0 && s.hdr.kind == SHT_RELA.0 {
            riscv::pair_pcrel_lo::<C>(input, s.hdr.info as usize, &sorted, size)
        } else {
            sorted
        };
        for (entry, chunk) in out.chunks_exact_mut(size).enumerate() {
            let Ok((rel, _)) = pod::from_bytes_mut::<C::Rel>(chunk) else {
                continue; // unreachable: every entry is at least a Rel
            };
            let symbol = C::r_sym(rel);
            let new = plan.symbol_map.get(symbol as usize).ok_or_else(|| {
                input.error(i, SectionProblem::RelocSymbolOutOfRange { entry, symbol })
            })?;
            let new = new.ok_or_else(|| {
                input.error(i, SectionProblem::RelocSymbolDropped { entry, symbol })
            })?;
            C::set_r_sym(rel, new);
        }
        return Ok(Content::Built(out));
    }
    if s.is_group() {
        let mut words = s.words();
        let mut out = Vec::with_capacity(s.data.len());
        out.extend_from_slice(&words.next().unwrap_or(0).to_le_bytes());
        // Members were validated by the plan; dropped ones leave the group.
        for m in words {
            if let Some(new) = plan.section_map[m as usize] {
                out.extend_from_slice(&new.to_le_bytes());
            }
        }
        return Ok(Content::Built(out));
    }
    Ok(Content::Copied(s.data))
}

/// Places the sections after the header table, each aligned, and writes the file.
fn layout<C: Class>(
    input: &Input<'_>,
    mut headers: Vec<Shdr>,
    contents: &[Content<'_>],
) -> Result<Vec<u8>, PackError> {
    // 52 and 64 are already multiples of the 4- and 8-byte alignment the table needs.
    let ehsize = size_of::<C::Ehdr>() as u64;
    let table = headers.len() as u64 * size_of::<C::Shdr>() as u64;
    let mut cursor = ehsize + table;
    for (hdr, content) in headers.iter_mut().zip(contents).skip(1) {
        // At least word-aligned: a device then copies contents and entries a word at a time
        // into its (aligned) regions and buffer, not byte by byte.
        let align = hdr.align.max(4);
        let offset = cursor.next_multiple_of(align);
        hdr.offset = offset;
        if hdr.kind != SHT_NOBITS.0 {
            hdr.size = content.bytes().len() as u64;
        }
        cursor = offset + content.bytes().len() as u64;
        if cursor > C::MAX_OFFSET {
            return Err(PackError::OutputTooLarge);
        }
    }

    let mut ehdr = input.ehdr;
    ehdr.shoff = ehsize;
    ehdr.shnum = headers.len() as u16; // checked by the plan (< SHN_LORESERVE)
    ehdr.shstrndx = 1;
    ehdr.ehsize = ehsize as u16;
    ehdr.shentsize = size_of::<C::Shdr>() as u16;
    ehdr.phoff = 0;
    ehdr.phnum = 0;

    let mut out = Vec::with_capacity(usize::try_from(cursor).unwrap_or(0));
    out.extend_from_slice(pod::bytes_of(&C::write_ehdr(&ehdr)));
    for hdr in &headers {
        push_shdr::<C>(hdr, &mut out);
    }
    for (hdr, content) in headers.iter().zip(contents).skip(1) {
        let offset = usize::try_from(hdr.offset).map_err(|_| PackError::OutputTooLarge)?;
        out.resize(offset, 0);
        out.extend_from_slice(content.bytes());
    }
    Ok(out)
}
