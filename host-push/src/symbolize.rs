//! Run-time addresses in a loaded extension as `function+offset (file:line)`, from the kept ELF's
//! symbol table and DWARF (addr2line/gimli).
//!
//! A relocatable object's sections all start at 0; its DWARF points into them through
//! relocations. Each section is put where the device placed it, and the DWARF's absolute
//! relocations are applied against those addresses (sections not loaded stay at 0), so objects
//! with several code sections (`.text.unlikely`, `-ffunction-sections`) resolve right.

use std::borrow::Cow;
use std::collections::HashMap;

use addr2line::gimli;
use object::{
    Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget, SectionIndex,
    SymbolKind,
};

/// `function+0xOFF (file:line)` for run-time address `addr`; `placed` gives each loaded
/// section's name and address.
pub fn describe(elf: &[u8], placed: &[(String, u64)], addr: u64) -> Option<String> {
    let file = object::File::parse(elf).ok()?;
    let base: HashMap<SectionIndex, u64> = file
        .sections()
        .filter_map(|s| {
            let name = s.name().ok()?;
            let at = placed.iter().find(|(n, _)| n == name)?.1;
            Some((s.index(), at))
        })
        .collect();
    let thumb = file.architecture() == object::Architecture::Arm;
    let start_of = |s: &object::Symbol<'_, '_>| {
        let b = *base.get(&s.section_index()?)?;
        Some(b + if thumb { s.address() & !1 } else { s.address() })
    };
    let func = file.symbols().find(|s| {
        s.kind() == SymbolKind::Text
            && start_of(s).is_some_and(|a| a <= addr && addr < a + s.size().max(1))
    })?;
    let start = start_of(&func)?;
    let mut out = format!("{}+{:#x}", func.name().ok()?, addr - start);
    if let Some(line) = line_of(&file, &base, addr) {
        out.push_str(&format!(" ({line})"));
    }
    Some(out)
}

/// A debug section's bytes with its 32-bit absolute relocations applied against `base`.
fn relocated<'d>(
    file: &object::File<'d>,
    base: &HashMap<SectionIndex, u64>,
    name: &str,
) -> Cow<'d, [u8]> {
    let Some(sec) = file.section_by_name(name) else {
        return Cow::Borrowed(&[]);
    };
    let Ok(data) = sec.uncompressed_data() else {
        return Cow::Borrowed(&[]);
    };
    let mut bytes = data.into_owned();
    for (offset, r) in sec.relocations() {
        let RelocationTarget::Symbol(si) = r.target() else {
            continue;
        };
        let (Ok(sym), true) = (file.symbol_by_index(si), r.size() == 32) else {
            continue;
        };
        if !matches!(r.flags(), RelocationFlags::Elf { .. })
            || r.kind() != object::RelocationKind::Absolute
        {
            continue;
        }
        let at = offset as usize;
        let Some(field) = bytes.get_mut(at..at + 4) else {
            continue;
        };
        let inplace = u32::from_le_bytes(field.try_into().expect("4 bytes"));
        let addend = if r.has_implicit_addend() {
            i64::from(inplace)
        } else {
            r.addend()
        };
        let sbase = sym
            .section_index()
            .and_then(|i| base.get(&i))
            .copied()
            .unwrap_or(0);
        let v = (sbase + sym.address()).wrapping_add(addend as u64) as u32;
        field.copy_from_slice(&v.to_le_bytes());
    }
    Cow::Owned(bytes)
}

/// `file:line` of `addr` from the DWARF line tables.
fn line_of(
    file: &object::File<'_>,
    base: &HashMap<SectionIndex, u64>,
    addr: u64,
) -> Option<String> {
    if !file.is_little_endian() {
        return None;
    }
    let load = |id: gimli::SectionId| -> Result<Cow<'_, [u8]>, gimli::Error> {
        Ok(relocated(file, base, id.name()))
    };
    let owned = gimli::DwarfSections::load(load).ok()?;
    let dwarf = owned.borrow(|s| gimli::EndianSlice::new(s, gimli::RunTimeEndian::Little));
    let ctx = addr2line::Context::from_dwarf(dwarf).ok()?;
    let loc = ctx.find_location(addr).ok()??;
    let name = std::path::Path::new(loc.file?)
        .file_name()?
        .to_string_lossy()
        .into_owned();
    Some(format!("{name}:{}", loc.line?))
}
