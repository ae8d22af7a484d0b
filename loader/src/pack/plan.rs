//! Deciding what to keep and in which order: section and symbol renumbering.

use alloc::vec;
use alloc::vec::Vec;

use object::elf::{SHF_ALLOC, SHN_LORESERVE, SHN_UNDEF};
use object::pod;

use super::PackOptions;
use super::class::Class;
use super::error::{PackError, SectionProblem};
use super::read::Input;

/// `SHT_LLVM_ADDRSIG` (not among the `object` constants): a symbol-index list for ICF.
const SHT_LLVM_ADDRSIG: u32 = 0x6fff_4c03;

/// One output section header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    /// Index 0.
    Null,
    /// The rebuilt `.shstrtab` (index 1).
    Names,
    /// Input section with this index (contents copied or rewritten).
    Input(usize),
}

/// The output layout: order of sections, and the renumbering of sections and symbols.
pub(super) struct Plan {
    /// Output sections in index (= file) order.
    pub order: Vec<Slot>,
    /// New index of each input section, `None` if dropped.
    pub section_map: Vec<Option<u32>>,
    /// New index of each input symbol, `None` if removed.
    pub symbol_map: Vec<Option<u32>>,
    /// New `sh_info` of the symbol table: index of the first non-local symbol.
    pub first_global: u32,
}

/// `SHT_ARM_EXIDX` and `SHT_X86_64_UNWIND` (the same number).
const SHT_UNWIND: u32 = 0x7000_0001;

/// Whether a section is dropped by default (see `docs/STREAM-ORDER.md`): what the loader never
/// loads (`docs/LINKING.md`). Allocated notes stay: every `SHF_ALLOC` section gets an address.
fn unneeded(name: &[u8], sh_type: u32, flags: u64) -> bool {
    name == b".comment"
        || name.starts_with(b".debug")
        || name.starts_with(b".zdebug")
        || name == b".eh_frame"
        || name.starts_with(b".ARM.extab")
        || sh_type == SHT_UNWIND
        || (name.starts_with(b".note.") && name != b".note.GNU-stack" && flags & SHF_ALLOC.0 == 0)
        || name == b".llvm_addrsig"
        || sh_type == SHT_LLVM_ADDRSIG
}

pub(super) fn plan<C: Class>(input: &Input<'_>, options: &PackOptions) -> Result<Plan, PackError> {
    let n = input.sections.len();
    let special = |i: usize| i == input.shstrndx || i == input.symtab || i == input.strtab;
    let keep = keep_set(input, options, &special)?;

    // Per-section lists (input indices) of relocation sections patching it, and of the
    // groups listing it.
    let mut relocs = vec![Vec::new(); n];
    let mut groups = vec![Vec::new(); n];
    let mut primaries = Vec::new();
    for (i, s) in input.sections.iter().enumerate() {
        if !keep[i] || special(i) {
            continue;
        }
        if s.is_group() {
            for m in s.words().skip(1) {
                groups[m as usize].push(i);
            }
        } else if s.is_reloc() && s.hdr.info != 0 {
            let t = s.hdr.info as usize;
            let s_t = &input.sections[t];
            if special(t) || s_t.is_group() || (s_t.is_reloc() && s_t.hdr.info != 0) {
                return Err(input.error(i, SectionProblem::BadInfo(s.hdr.info)));
            }
            relocs[t].push(i);
        } else {
            primaries.push(i);
        }
    }
    // Loaded sections first, in their input order; then the rest, also in input order.
    let is_alloc = |i: &usize| input.sections[*i].hdr.flags & SHF_ALLOC.0 != 0;
    let (mut first, rest): (Vec<usize>, Vec<usize>) = primaries.into_iter().partition(is_alloc);
    first.extend(rest);

    let mut order = vec![Slot::Null, Slot::Names, Slot::Input(input.symtab)];
    order.push(Slot::Input(input.strtab));
    let mut placed = vec![false; n];
    for p in first {
        place(&mut order, &mut placed, &groups, p);
        for &r in &relocs[p] {
            place(&mut order, &mut placed, &groups, r);
        }
    }
    // Groups that listed no member at all.
    for i in 0..n {
        if keep[i] && input.sections[i].is_group() && !placed[i] {
            place(&mut order, &mut placed, &groups, i);
        }
    }
    if order.len() >= usize::from(SHN_LORESERVE) {
        return Err(PackError::OutputTooLarge);
    }

    let mut section_map = vec![None; n];
    section_map[input.shstrndx] = Some(1);
    for (new, slot) in order.iter().enumerate() {
        if let Slot::Input(old) = *slot {
            section_map[old] = Some(new as u32);
        }
    }

    let used = (!options.keep_all).then(|| used_symbols::<C>(input, &keep));
    let (symbol_map, first_global) = symbol_map(input, &section_map, used.as_deref());
    Ok(Plan {
        order,
        section_map,
        symbol_map,
        first_global,
    })
}

/// Appends section `i`, preceded by the groups listing it that are not placed yet (a group
/// comes before the first of its members, as `ld -r` writes it).
fn place(order: &mut Vec<Slot>, placed: &mut [bool], groups: &[Vec<usize>], i: usize) {
    for &g in &groups[i] {
        if !placed[g] {
            placed[g] = true;
            order.push(Slot::Input(g));
        }
    }
    placed[i] = true;
    order.push(Slot::Input(i));
}

/// Which input sections are kept: not unneeded (unless `keep_all`), not referring to a dropped
/// section, and (for groups) still listing a kept member. Also validates group members.
fn keep_set(
    input: &Input<'_>,
    options: &PackOptions,
    special: &dyn Fn(usize) -> bool,
) -> Result<Vec<bool>, PackError> {
    let n = input.sections.len();
    let mut keep = vec![true; n];
    keep[0] = false;
    for (i, s) in input.sections.iter().enumerate().skip(1) {
        if !options.keep_all && !special(i) && unneeded(s.name, s.hdr.kind, s.hdr.flags) {
            keep[i] = false;
        }
    }
    // Drop what refers to dropped sections (`.rela.debug_info`, link-order sections of a
    // dropped section), until nothing changes.
    let mut changed = true;
    while changed {
        changed = false;
        for (i, s) in input.sections.iter().enumerate().skip(1) {
            let info = if s.info_is_section() { s.hdr.info } else { 0 };
            let refs_dropped = [s.hdr.link, info]
                .iter()
                .any(|&r| r != 0 && !keep[r as usize]);
            if keep[i] && !special(i) && refs_dropped {
                keep[i] = false;
                changed = true;
            }
        }
    }
    for (i, s) in input.sections.iter().enumerate().skip(1) {
        if !s.is_group() || !keep[i] {
            continue;
        }
        let mut members = 0;
        let mut kept = 0;
        for (entry, m) in s.words().enumerate().skip(1) {
            let m_s = input.sections.get(m as usize);
            if m == 0 || special(m as usize) || m_s.is_none_or(|m_s| m_s.is_group()) {
                let problem = SectionProblem::BadGroupMember { entry, member: m };
                return Err(input.error(i, problem));
            }
            members += 1;
            kept += usize::from(keep[m as usize]);
        }
        if members > 0 && kept == 0 {
            keep[i] = false;
        }
    }
    Ok(keep)
}

/// Which symbols kept sections refer to: by relocation, or as a group's signature.
fn used_symbols<C: Class>(input: &Input<'_>, keep: &[bool]) -> Vec<bool> {
    let mut used = vec![false; input.symbols.len()];
    let mut mark = |i: u32| {
        if let Some(u) = used.get_mut(i as usize) {
            *u = true;
        }
    };
    for (i, s) in input.sections.iter().enumerate() {
        if !keep[i] {
            continue;
        }
        if s.is_group() {
            mark(s.hdr.info);
        } else if s.is_reloc() {
            for chunk in s.data.chunks_exact(s.rel_entry_size::<C>()) {
                if let Ok((rel, _)) = pod::from_bytes::<C::Rel>(chunk) {
                    mark(C::r_sym(rel));
                }
            }
        }
    }
    used
}

/// Renumbers symbols: those defined in dropped sections go, and (unless `used` is `None`)
/// undefined ones nothing kept refers to, as ld requires only referenced symbols; the rest keep
/// their order.
fn symbol_map(
    input: &Input<'_>,
    section_map: &[Option<u32>],
    used: Option<&[bool]>,
) -> (Vec<Option<u32>>, u32) {
    let first_global_in = input.sections[input.symtab].hdr.info as usize;
    let mut next = 0u32;
    let mut first_global = 0;
    let mut map = Vec::with_capacity(input.symbols.len());
    for (i, s) in input.symbols.iter().enumerate() {
        let shndx = s.sym.shndx;
        let in_dropped =
            i != 0 && shndx != 0 && shndx < SHN_LORESERVE && section_map[shndx as usize].is_none();
        let unused = i != 0 && shndx == SHN_UNDEF.0 && used.is_some_and(|u| !u[i]);
        if i == first_global_in {
            first_global = next;
        }
        if in_dropped || unused {
            map.push(None);
        } else {
            map.push(Some(next));
            next += 1;
        }
    }
    if first_global_in == input.symbols.len() {
        first_global = next;
    }
    (map, first_global)
}
