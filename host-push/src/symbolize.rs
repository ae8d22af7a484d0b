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
/// section's name and address. For a return address (`ret`), the line is the call's.
pub fn describe(elf: &[u8], placed: &[(String, u64)], addr: u64, ret: bool) -> Option<String> {
    let file = object::File::parse(elf).ok()?;
    describe_in(&file, &bases(&file, placed), addr, ret)
}

/// [`describe`] in a parsed file.
fn describe_in(
    file: &object::File<'_>,
    base: &HashMap<SectionIndex, u64>,
    addr: u64,
    ret: bool,
) -> Option<String> {
    let thumb = file.architecture() == object::Architecture::Arm;
    let start_of = |s: &object::Symbol<'_, '_>| {
        let b = *base.get(&s.section_index()?)?;
        Some(b + if thumb { s.address() & !1 } else { s.address() })
    };
    // The instruction before a return address is the call (a byte before it is enough): a call
    // that never returns may be the last instruction of its function.
    let at = if ret { addr.saturating_sub(1) } else { addr };
    let func = file.symbols().find(|s| {
        s.kind() == SymbolKind::Text
            && start_of(s).is_some_and(|a| a <= at && at < a + s.size().max(1))
    });
    let (function, line) = dwarf_of(file, base, at).unwrap_or((None, None));
    let Some(func) = func else {
        // No symbol (`host-push build` drops local names): the DWARF's function, without offset.
        return Some(format!("{} ({})", function?, line?));
    };
    let name = addr2line::demangle_auto(Cow::Borrowed(func.name().ok()?), None);
    let mut out = format!("{name}+{:#x}", addr - start_of(&func)?);
    if let Some(line) = line {
        out.push_str(&format!(" ({line})"));
    }
    Some(out)
}

/// Where each section of `file` was placed (by name, from `placed`).
fn bases(file: &object::File<'_>, placed: &[(String, u64)]) -> HashMap<SectionIndex, u64> {
    file.sections()
        .filter_map(|s| {
            let name = s.name().ok()?;
            let at = placed.iter().find(|(n, _)| n == name)?.1;
            Some((s.index(), at))
        })
        .collect()
}

/// The function whose code is at `path:line` (a path as a panic gives it, relative to its
/// crate, such as `src/lib.rs`): `function (file:line)`, from the DWARF's line table.
pub fn function_at(elf: &[u8], placed: &[(String, u64)], path: &str, line: u32) -> Option<String> {
    let file = object::File::parse(elf).ok()?;
    let base = bases(&file, placed);
    with_context(&file, &base, |ctx| {
        let (addr, _, _) = ctx
            .find_location_range(0, u64::MAX)
            .ok()?
            .find(|(_, _, loc)| {
                loc.line == Some(line)
                    && loc
                        .file
                        .is_some_and(|f| std::path::Path::new(f).ends_with(path))
            })?;
        let (function, at) = frame_of(ctx, addr);
        Some(format!("{} ({})", function?, at?))
    })
}

/// How a relocation changes a debug section's field.
#[derive(Clone, Copy)]
enum Op {
    /// Writes the value into `n` bytes.
    Set(usize),
    /// Adds the value to the `n`-byte field.
    Add(usize),
    /// Subtracts the value from the `n`-byte field.
    Sub(usize),
    /// Sets or subtracts from the low 6 bits of a byte (RISC-V `SET6`/`SUB6`).
    Six(bool),
    /// Sets or subtracts from a ULEB128 field, keeping its length (RISC-V).
    Uleb(bool),
}

/// What a relocation of a debug section does: 32- and 64-bit absolute ones, and the RISC-V pairs
/// (`R_RISCV_ADD*`/`SUB*`, ...) GCC writes where linker relaxation may move code, such as the
/// address steps of `.debug_line`.
fn op(file: &object::File<'_>, r: &object::Relocation) -> Option<Op> {
    let RelocationFlags::Elf { r_type } = r.flags() else {
        return None;
    };
    if r.kind() == object::RelocationKind::Absolute && matches!(r.size(), 32 | 64) {
        return Some(Op::Set(usize::from(r.size() / 8)));
    }
    if file.architecture() != object::Architecture::Riscv32 {
        return None;
    }
    use object::elf;
    Some(match r_type {
        elf::R_RISCV_ADD8 => Op::Add(1),
        elf::R_RISCV_ADD16 => Op::Add(2),
        elf::R_RISCV_ADD32 => Op::Add(4),
        elf::R_RISCV_ADD64 => Op::Add(8),
        elf::R_RISCV_SUB8 => Op::Sub(1),
        elf::R_RISCV_SUB16 => Op::Sub(2),
        elf::R_RISCV_SUB32 => Op::Sub(4),
        elf::R_RISCV_SUB64 => Op::Sub(8),
        elf::R_RISCV_SUB6 => Op::Six(false),
        elf::R_RISCV_SET6 => Op::Six(true),
        elf::R_RISCV_SET8 => Op::Set(1),
        elf::R_RISCV_SET16 => Op::Set(2),
        elf::R_RISCV_SET32 => Op::Set(4),
        elf::R_RISCV_SET_ULEB128 => Op::Uleb(true),
        elf::R_RISCV_SUB_ULEB128 => Op::Uleb(false),
        _ => return None,
    })
}

/// A debug section's bytes with its relocations ([`op`]) applied against `base`.
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
        let (Ok(sym), Some(op)) = (file.symbol_by_index(si), op(file, &r)) else {
            continue;
        };
        let at = offset as usize;
        let addend = if r.has_implicit_addend() {
            let Some(field) = bytes.get(at..at + 4) else {
                continue;
            };
            i64::from(u32::from_le_bytes(field.try_into().expect("4 bytes")))
        } else {
            r.addend()
        };
        let sbase = sym
            .section_index()
            .and_then(|i| base.get(&i))
            .copied()
            .unwrap_or(0);
        let v = (sbase + sym.address()).wrapping_add(addend as u64);
        apply(&mut bytes, at, op, v);
    }
    Cow::Owned(bytes)
}

/// Applies `op` with value `v` to the field at `at` (nothing when it is out of bounds).
fn apply(bytes: &mut [u8], at: usize, op: Op, v: u64) {
    let n = match op {
        Op::Set(n) | Op::Add(n) | Op::Sub(n) => n,
        Op::Six(_) => 1,
        Op::Uleb(_) => bytes
            .get(at..)
            .and_then(|b| b.iter().position(|&x| x & 0x80 == 0))
            .map_or(0, |p| p + 1),
    };
    let Some(field) = bytes.get_mut(at..at + n).filter(|f| !f.is_empty()) else {
        return;
    };
    let mut old = [0u8; 8];
    let old = match op {
        Op::Uleb(_) => field
            .iter()
            .enumerate()
            .take(10)
            .fold(0u64, |a, (i, b)| a | (u64::from(b & 0x7f) << (7 * i))),
        _ => {
            old[..n].copy_from_slice(field);
            u64::from_le_bytes(old)
        }
    };
    let new = match op {
        Op::Set(_) | Op::Uleb(true) => v,
        Op::Add(_) => old.wrapping_add(v),
        Op::Sub(_) | Op::Uleb(false) => old.wrapping_sub(v),
        Op::Six(true) => (old & 0xc0) | (v & 0x3f),
        Op::Six(false) => (old & 0xc0) | (old.wrapping_sub(v) & 0x3f),
    };
    if let Op::Uleb(_) = op {
        for (i, b) in field.iter_mut().enumerate() {
            let more = if i + 1 < n { 0x80 } else { 0 };
            *b = ((new >> (7 * i).min(63)) & 0x7f) as u8 | more;
        }
    } else {
        field.copy_from_slice(&new.to_le_bytes()[..n]);
    }
}

type Ctx<'a> = addr2line::Context<gimli::EndianSlice<'a, gimli::RunTimeEndian>>;

/// Runs `f` with an addr2line context of `file`'s DWARF relocated against `base`.
fn with_context<T>(
    file: &object::File<'_>,
    base: &HashMap<SectionIndex, u64>,
    f: impl FnOnce(&Ctx<'_>) -> Option<T>,
) -> Option<T> {
    if !file.is_little_endian() {
        return None;
    }
    let load = |id: gimli::SectionId| -> Result<Cow<'_, [u8]>, gimli::Error> {
        Ok(relocated(file, base, id.name()))
    };
    let owned = gimli::DwarfSections::load(load).ok()?;
    let dwarf = owned.borrow(|s| gimli::EndianSlice::new(s, gimli::RunTimeEndian::Little));
    let ctx = addr2line::Context::from_dwarf(dwarf).ok()?;
    f(&ctx)
}

/// The function (the innermost, for inlined code) and `file:line` of `addr` from the DWARF.
fn dwarf_of(
    file: &object::File<'_>,
    base: &HashMap<SectionIndex, u64>,
    addr: u64,
) -> Option<(Option<String>, Option<String>)> {
    with_context(file, base, |ctx| Some(frame_of(ctx, addr)))
}

/// [`dwarf_of`] in a context.
fn frame_of(ctx: &Ctx<'_>, addr: u64) -> (Option<String>, Option<String>) {
    // The innermost named function (a closure, `{closure#0}`, is named by the one around it).
    let mut names = Vec::new();
    if let Ok(mut frames) = ctx.find_frames(addr).skip_all_loads() {
        while let Ok(Some(f)) = frames.next() {
            names.extend(
                f.function
                    .and_then(|f| Some(f.demangle().ok()?.into_owned())),
            );
        }
    }
    let function = names
        .iter()
        .find(|n| !n.starts_with('{'))
        .or(names.first())
        .cloned();
    let line = ctx.find_location(addr).ok().flatten().and_then(|loc| {
        let name = std::path::Path::new(loc.file?).file_name()?;
        Some(format!("{}:{}", name.to_string_lossy(), loc.line?))
    });
    (function, line)
}
