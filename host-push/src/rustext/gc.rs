//! Drops the loaded sections nothing reaches from the extension's roots, like `ld
//! --gc-sections` (which `ld.lld -r` does not do).
//!
//! Roots: sections defining a global or weak symbol of default visibility (what the crate
//! exports), `.init_array`/`.fini_array`/`.preinit_array`/`.exported_sym`, and `SHF_GNU_RETAIN`
//! sections. A section is reached through the relocations of a reached section; an ARM unwind
//! index (`SHF_LINK_ORDER`) stays only with the code it describes. Undefined symbols no kept
//! relocation names are dropped too, so the device is not asked for them, and so are local
//! names nothing refers to (`drop_unreferenced`).

use std::collections::HashSet;

use anyhow::{Result, anyhow};
use object::build::Id;
use object::build::elf::{Builder, SectionData, SectionId};
use object::elf;

/// The rewritten object and what it kept and dropped.
pub struct Collected {
    /// The new object.
    pub bytes: Vec<u8>,
    /// Bytes of loaded sections kept.
    pub kept: u64,
    /// Bytes of loaded sections dropped.
    pub dropped: u64,
}

const ROOT_SECTIONS: [&[u8]; 5] = [
    b".init_array",
    b".fini_array",
    b".preinit_array",
    b".exported_sym",
    b".ctors",
];

/// Garbage-collects the loaded sections of the relocatable object `input`.
pub fn collect(input: &[u8]) -> Result<Collected> {
    let input = ungroup(input)?;
    let mut b = Builder::read(&*input).map_err(|e| anyhow!("{e}"))?;
    for s in b.sections.iter_mut() {
        if &*s.name == b".group" && s.sh_type == elf::SHT_PROGBITS && !s.is_alloc() {
            s.delete = true; // a former group (see `ungroup`)
        }
        s.sh_flags = elf::SectionFlags(s.sh_flags.0 & !elf::SHF_GROUP.0);
        if s.name.starts_with(b".llvmbc") || s.name.starts_with(b".llvmcmd") {
            s.delete = true; // LLVM bitcode embedded for LTO: no use in the object
        }
        if s.sh_type == elf::SHT_ARM_EXIDX {
            s.delete = true; // unwind index: panics abort, and the loader skips it
        }
    }
    let reached = reach(&b);
    let (mut kept, mut dropped) = (0, 0);
    for s in b.sections.iter_mut() {
        if !s.is_alloc() || s.delete {
            continue;
        }
        if reached.contains(&s.id().index()) {
            kept += s.sh_size;
        } else {
            dropped += s.sh_size;
            s.delete = true;
        }
    }
    // Relocation sections and unwind indexes go with the section they describe (iterating a
    // table skips what is deleted).
    let live: HashSet<usize> = b.sections.iter().map(|s| s.id().index()).collect();
    for s in b.sections.iter_mut() {
        let target = s
            .sh_info_section
            .or(s.sh_link_section.filter(|_| is_link_order(s)));
        let dependent = matches!(s.data, SectionData::Relocation(_)) || is_link_order(s);
        if dependent && target.is_some_and(|t| !live.contains(&t.index())) {
            s.delete = true;
        }
    }
    b.delete_orphan_symbols();
    b.delete_orphan_relocations();
    drop_unreferenced(&mut b);
    shorten_section_names(&mut b);
    let mut bytes = Vec::new();
    b.write(&mut bytes).map_err(|e| anyhow!("{e}"))?;
    Ok(Collected {
        bytes,
        kept,
        dropped,
    })
}

/// Turns the `SHT_GROUP` sections (COMDAT groups, which the builder cannot read) into plain
/// data to delete: the object is final, so nothing is left to deduplicate.
fn ungroup(input: &[u8]) -> Result<Vec<u8>> {
    match object::FileKind::parse(input)? {
        object::FileKind::Elf32 => ungroup_class::<elf::FileHeader32<object::LittleEndian>>(input),
        object::FileKind::Elf64 => ungroup_class::<elf::FileHeader64<object::LittleEndian>>(input),
        _ => Err(anyhow!("not an ELF object")),
    }
}

fn ungroup_class<H: object::read::elf::FileHeader<Endian = object::LittleEndian>>(
    input: &[u8],
) -> Result<Vec<u8>> {
    use object::read::elf::SectionHeader;
    let e = object::LittleEndian;
    let h = H::parse(input)?;
    let table = h.section_headers(e, input)?;
    let (shoff, entsize) = (h.e_shoff(e).into() as usize, h.e_shentsize(e) as usize);
    let mut out = input.to_vec();
    for (i, s) in table.iter().enumerate() {
        if s.sh_type(e) == elf::SHT_GROUP {
            let at = shoff + i * entsize + 4; // sh_type follows the 4-byte sh_name
            out[at..at + 4].copy_from_slice(&elf::SHT_PROGBITS.0.to_le_bytes());
        }
    }
    Ok(out)
}

fn is_link_order(s: &object::build::elf::Section<'_>) -> bool {
    s.sh_flags.contains(elf::SHF_LINK_ORDER)
}

/// The loaded sections reachable from the roots.
fn reach(b: &Builder<'_>) -> HashSet<usize> {
    let mut stack: Vec<SectionId> = Vec::new();
    for s in b.sections.iter().filter(|s| s.is_alloc()) {
        let root = ROOT_SECTIONS.iter().any(|r| s.name.starts_with(r))
            || s.sh_flags.contains(elf::SHF_GNU_RETAIN);
        if root {
            stack.push(s.id());
        }
    }
    for sym in b.symbols.iter() {
        let bind = sym.st_bind();
        let exported = (bind == elf::STB_GLOBAL || bind == elf::STB_WEAK)
            && sym.st_other.0 & 3 == elf::STV_DEFAULT.0;
        if let (true, Some(sec)) = (exported, sym.section) {
            stack.push(sec);
        }
    }
    let mut reached = HashSet::new();
    while let Some(id) = stack.pop() {
        if !reached.insert(id.index()) {
            continue;
        }
        for s in b.sections.iter() {
            // Relocations of `id`, and the unwind index describing it (kept with it).
            if s.sh_info_section == Some(id) {
                if let SectionData::Relocation(relocs) = &s.data {
                    let targets = relocs.iter().filter_map(|r| r.symbol);
                    stack.extend(targets.filter_map(|sym| b.symbols.get(sym).section));
                }
            } else if is_link_order(s) && s.sh_link_section == Some(id) && s.is_alloc() {
                stack.push(s.id());
            }
        }
    }
    reached
}

/// Deletes undefined symbols no remaining relocation refers to, and local names nothing refers
/// to (Rust's mangled names are long, and the loader never needs them; debuggers read the names
/// in the debug information, which stays in the file on the PC). ARM mapping symbols (`$t`,
/// `$d`) and section symbols stay.
fn drop_unreferenced(b: &mut Builder<'_>) {
    let mut used = HashSet::new();
    for s in b.sections.iter().filter(|s| !s.delete) {
        if let SectionData::Relocation(relocs) = &s.data {
            used.extend(relocs.iter().filter_map(|r| r.symbol.map(|s| s.index())));
        }
    }
    for sym in b.symbols.iter_mut() {
        if sym.name.is_empty() || used.contains(&sym.id().index()) {
            continue;
        }
        let undefined = sym.section.is_none() && sym.st_shndx == elf::SHN_UNDEF;
        let local_name = sym.st_bind() == elf::STB_LOCAL
            && sym.st_type() != elf::STT_SECTION
            && !sym.name.starts_with(b"$");
        if undefined || local_name {
            sym.delete = true;
        }
    }
}

/// Prefixes of function and data sections (`-ffunction-sections`, `-fdata-sections`), whose
/// names repeat a long mangled symbol name.
const SPLIT_PREFIXES: [&str; 8] = [
    ".text.",
    ".rodata.",
    ".data.rel.ro.",
    ".data.",
    ".bss.",
    ".sdata.",
    ".sbss.",
    ".srodata.",
];

/// Renames `.text.<mangled name>` to `.text.N` (N its index), and its relocation and unwind
/// sections to match: the section names of a Rust object are most of its string tables, and
/// nothing reads them but tools (which still see one name per section).
fn shorten_section_names(b: &mut Builder<'_>) {
    let mut renamed = std::collections::HashMap::new();
    for s in b.sections.iter_mut().filter(|s| s.is_alloc() && !s.delete) {
        let name = String::from_utf8_lossy(&s.name).into_owned();
        // `.init_array.NNNNN` and `.fini_array.NNNNN` keep their priorities.
        let Some(prefix) = SPLIT_PREFIXES.iter().find(|p| name.starts_with(*p)) else {
            continue;
        };
        let short = format!("{prefix}{}", s.id().index());
        if short.len() < name.len() {
            s.name = short.clone().into_bytes().into();
            renamed.insert(s.id().index(), short);
        }
    }
    for s in b.sections.iter_mut().filter(|s| !s.delete) {
        let target = match &s.data {
            SectionData::Relocation(_) => s.sh_info_section,
            _ if is_link_order(s) => s.sh_link_section,
            _ => None,
        };
        let Some(new) = target.and_then(|t| renamed.get(&t.index())) else {
            continue;
        };
        let kind = if matches!(s.data, SectionData::Relocation(_)) {
            if s.sh_type == elf::SHT_RELA {
                ".rela"
            } else {
                ".rel"
            }
        } else {
            ".ARM.exidx"
        };
        s.name = format!("{kind}{new}").into_bytes().into();
    }
}
