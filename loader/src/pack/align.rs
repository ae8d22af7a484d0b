//! RISC-V: `R_RISCV_ALIGN` done the way GNU ld does it, before packing.
//!
//! With relaxation on, `gas` pads each `.align` with the worst case of NOPs and leaves an
//! `R_RISCV_ALIGN` saying how many; the linker deletes the excess once addresses are known. A
//! loader cannot delete bytes from code it has placed, but the packer can: sections are placed at
//! their own alignment, so the padding needed is known from section offsets alone. The excess is
//! deleted as ld deletes it (`_bfd_riscv_relax_align`: 4-byte NOPs then a `c.nop`, later
//! relocations, symbols and sizes moved back), and each `R_RISCV_ALIGN` becomes `R_RISCV_NONE`.
//! The result links like the original and loads with its alignment.
//!
//! Runs on a copy of the file before it is read: a malformed file is left alone (and then
//! reported by the reader).

use alloc::vec::Vec;

const EM_RISCV: u16 = 243;
const SHT_PROGBITS: u32 = 1;
const SHT_SYMTAB: u32 = 2;
const SHT_RELA: u32 = 4;
const SHF_EXECINSTR: u64 = 4;
const STT_SECTION: u8 = 3;
const R_RISCV_ALIGN: u32 = 43;
const NOP: [u8; 4] = 0x0000_0013u32.to_le_bytes();
const C_NOP: [u8; 2] = 0x0001u16.to_le_bytes();

/// Field offsets of one ELF class.
struct Layout {
    is64: bool,
    shdr: usize,
    sym: usize,
    rela: usize,
}

impl Layout {
    fn get(&self, b: &[u8], at: usize, n: usize) -> Option<u64> {
        let f = b.get(at..at.checked_add(n)?)?;
        let mut v = [0u8; 8];
        v[..n].copy_from_slice(f);
        Some(u64::from_le_bytes(v))
    }

    fn put(&self, b: &mut [u8], at: usize, n: usize, v: u64) {
        b[at..at + n].copy_from_slice(&v.to_le_bytes()[..n]);
    }

    /// Width of an address-sized field.
    fn w(&self) -> usize {
        if self.is64 { 8 } else { 4 }
    }
}

/// A section header's fields this pass uses.
#[derive(Clone, Copy)]
struct Sec {
    at: usize,
    kind: u32,
    flags: u64,
    offset: usize,
    size: usize,
    link: u32,
    info: u32,
}

fn section(l: &Layout, b: &[u8], at: usize) -> Option<Sec> {
    let w = l.w();
    let (flags_at, off_at, size_at, link_at) = if l.is64 {
        (8, 24, 32, 40)
    } else {
        (8, 16, 20, 24)
    };
    Some(Sec {
        at,
        kind: l.get(b, at + 4, 4)? as u32,
        flags: l.get(b, at + flags_at, w)?,
        offset: usize::try_from(l.get(b, at + off_at, w)?).ok()?,
        size: usize::try_from(l.get(b, at + size_at, w)?).ok()?,
        link: l.get(b, at + link_at, 4)? as u32,
        info: l.get(b, at + link_at + 4, 4)? as u32,
    })
}

/// A relocation entry: where it is in the file, and its fields.
struct Rela {
    at: usize,
    offset: u64,
    sym: u32,
    kind: u32,
    addend: i64,
}

fn rela(l: &Layout, b: &[u8], at: usize) -> Option<Rela> {
    if l.is64 {
        let info = l.get(b, at + 8, 8)?;
        Some(Rela {
            at,
            offset: l.get(b, at, 8)?,
            sym: (info >> 32) as u32,
            kind: info as u32,
            addend: l.get(b, at + 16, 8)? as i64,
        })
    } else {
        let info = l.get(b, at + 4, 4)?;
        Some(Rela {
            at,
            offset: l.get(b, at, 4)?,
            sym: (info >> 8) as u32,
            kind: info as u32 & 0xff,
            addend: l.get(b, at + 8, 4)? as i32 as i64,
        })
    }
}

/// Deletes the excess `R_RISCV_ALIGN` padding of every code section; `None` when there is none
/// (or the file is not a well-formed RISC-V object this pass can read).
pub(super) fn relax_align(input: &[u8]) -> Option<Vec<u8>> {
    if input.get(18..20)? != EM_RISCV.to_le_bytes() {
        return None;
    }
    let l = match input.get(4)? {
        1 => Layout {
            is64: false,
            shdr: 40,
            sym: 16,
            rela: 12,
        },
        2 => Layout {
            is64: true,
            shdr: 64,
            sym: 24,
            rela: 24,
        },
        _ => return None,
    };
    let (shoff, shnum) = if l.is64 {
        (l.get(input, 0x28, 8)?, l.get(input, 0x3c, 2)?)
    } else {
        (l.get(input, 0x20, 4)?, l.get(input, 0x30, 2)?)
    };
    let shoff = usize::try_from(shoff).ok()?;
    let secs: Vec<Sec> = (0..shnum as usize)
        .map(|i| section(&l, input, shoff.checked_add(i.checked_mul(l.shdr)?)?))
        .collect::<Option<_>>()?;
    let symtab_index = secs.iter().position(|s| s.kind == SHT_SYMTAB)?;
    let symtab = secs[symtab_index];
    input.get(symtab.offset..symtab.offset.checked_add(symtab.size)?)?;
    let relas: Vec<Sec> = secs
        .iter()
        .copied()
        .filter(|s| s.kind == SHT_RELA && s.link as usize == symtab_index)
        .collect();
    for r in &relas {
        input.get(r.offset..r.offset.checked_add(r.size)?)?;
    }

    let mut out = input.to_vec();
    let mut changed = false;
    for (index, code) in secs.iter().enumerate() {
        if code.kind != SHT_PROGBITS || code.flags & SHF_EXECINSTR == 0 {
            continue;
        }
        changed |= relax_section(&l, &mut out, index, *code, &symtab, &relas)?;
    }
    changed.then_some(out)
}

/// The pass over one code section; `Some(false)` when it has no `R_RISCV_ALIGN`.
fn relax_section(
    l: &Layout,
    b: &mut [u8],
    index: usize,
    code: Sec,
    symtab: &Sec,
    relas: &[Sec],
) -> Option<bool> {
    b.get(code.offset..code.offset.checked_add(code.size)?)?;
    let own: Vec<&Sec> = relas.iter().filter(|r| r.info as usize == index).collect();
    let mut aligns: Vec<(usize, u64)> = Vec::new(); // (entry position, addend)
    for r in &own {
        b.get(r.offset..r.offset.checked_add(r.size)?)?;
        for e in (r.offset..r.offset + r.size / l.rela * l.rela).step_by(l.rela) {
            let e = rela(l, b, e)?;
            if e.kind == R_RISCV_ALIGN {
                aligns.push((e.at, u64::try_from(e.addend).ok()?));
            }
        }
    }
    if aligns.is_empty() {
        return Some(false);
    }
    let mut size = code.size as u64;
    // In offset order, each with the offsets the deletions before it left (as ld processes them).
    aligns.sort_by_key(|&(at, _)| rela(l, b, at).map_or(0, |e| e.offset));
    for (at, n) in aligns {
        let off = rela(l, b, at)?.offset;
        let mut align = 1u64;
        while align <= n {
            align = align.checked_mul(2)?;
        }
        let nop = (align - off % align) % align;
        if nop > n || off.checked_add(n)? > size {
            return None;
        }
        let info_at = if l.is64 { at + 8 } else { at + 4 };
        // The padding is done now: nothing is left for a linker or the loader to do here.
        l.put(b, info_at, if l.is64 { 4 } else { 1 }, 0);
        if nop == n {
            continue; // already exact: ld leaves the bytes as they are
        }
        let start = code.offset + off as usize;
        for k in (0..nop as usize & !3).step_by(4) {
            b[start + k..start + k + 4].copy_from_slice(&NOP);
        }
        if !nop.is_multiple_of(4) {
            let k = start + (nop as usize & !3);
            b[k..k + 2].copy_from_slice(&C_NOP);
        }
        delete(
            l,
            b,
            index,
            code,
            symtab,
            relas,
            off + nop,
            n - nop,
            &mut size,
        )?;
        // The padding is done: nothing left for a linker or the loader to do here.
        let info_at = if l.is64 { at + 8 } else { at + 4 };
        l.put(b, info_at, if l.is64 { 4 } else { 1 }, 0);
    }
    // The section is shorter; what followed in the file stays where it was, unused.
    let w = l.w();
    let size_at = code.at + if l.is64 { 32 } else { 20 };
    l.put(b, size_at, w, size);
    Some(true)
}

/// Deletes `count` bytes at section offset `addr`, as `riscv_relax_delete_bytes` does: the
/// section's tail moves back, and so do relocations, symbols, symbol sizes spanning the hole and
/// addends against the section's own symbol that point past it.
#[allow(clippy::too_many_arguments)]
fn delete(
    l: &Layout,
    b: &mut [u8],
    index: usize,
    code: Sec,
    symtab: &Sec,
    relas: &[Sec],
    addr: u64,
    count: u64,
    size: &mut u64,
) -> Option<()> {
    if count == 0 {
        return Some(());
    }
    let (a, c, end) = (addr as usize, count as usize, *size as usize);
    b.copy_within(code.offset + a + c..code.offset + end, code.offset + a);
    let toaddr = *size;
    *size -= count;
    let w = l.w();
    // Symbols.
    let (val_at, size_at, info_at, shndx_at) = if l.is64 {
        (8, 16, 4, 6)
    } else {
        (4, 8, 12, 14)
    };
    let mut section_syms = Vec::new();
    for (k, s) in (symtab.offset..symtab.offset + symtab.size / l.sym * l.sym)
        .step_by(l.sym)
        .enumerate()
    {
        if l.get(b, s + shndx_at, 2)? as usize != index {
            continue;
        }
        if l.get(b, s + info_at, 1)? as u8 & 0xf == STT_SECTION {
            section_syms.push(k as u32);
        }
        let v = l.get(b, s + val_at, w)?;
        let n = l.get(b, s + size_at, w)?;
        if v > addr && v <= toaddr {
            l.put(b, s + val_at, w, v - count);
        } else if v <= addr && v.saturating_add(n) > addr && v.saturating_add(n) <= toaddr {
            l.put(b, s + size_at, w, n - count);
        }
    }
    // Relocations patching this section, and addends against its section symbol.
    for r in relas {
        for e in (r.offset..r.offset + r.size / l.rela * l.rela).step_by(l.rela) {
            let rel = rela(l, b, e)?;
            if r.info as usize == index && rel.offset > addr {
                l.put(b, e, w, rel.offset - count);
            }
            if section_syms.contains(&rel.sym) && rel.addend > addr as i64 {
                let addend_at = e + if l.is64 { 16 } else { 8 };
                l.put(b, addend_at, w, (rel.addend - count as i64) as u64);
            }
        }
    }
    Some(())
}
