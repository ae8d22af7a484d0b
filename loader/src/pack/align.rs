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

use crate::elf::{Class, Header, Reloc, Shdr, Sym};

const EM_RISCV: u16 = 243;
const SHT_PROGBITS: u32 = 1;
const SHT_SYMTAB: u32 = 2;
const SHT_RELA: u32 = 4;
const SHF_EXECINSTR: u64 = 4;
const STT_SECTION: u8 = 3;
const R_RISCV_NONE: u32 = 0;
const R_RISCV_ALIGN: u32 = 43;
const NOP: [u8; 4] = 0x0000_0013u32.to_le_bytes();
const C_NOP: [u8; 2] = 0x0001u16.to_le_bytes();

/// A section header and where it is in the file.
#[derive(Clone, Copy)]
struct Sec {
    at: usize,
    hdr: Shdr,
    /// `sh_offset` and `sh_size` as indices into the file.
    offset: usize,
    size: usize,
}

/// The entries of a table (`size` bytes at `offset`) of `entry`-byte entries: their positions.
fn entries(offset: usize, size: usize, entry: usize) -> impl Iterator<Item = usize> {
    (offset..offset + size / entry * entry).step_by(entry)
}

fn reloc(class: Class, b: &[u8], at: usize) -> Option<Reloc> {
    let n = class.rel_size(true);
    Some(Reloc::parse(class, true, b.get(at..at.checked_add(n)?)?))
}

/// Deletes the excess `R_RISCV_ALIGN` padding of every code section; `None` when there is none
/// (or the file is not a well-formed RISC-V object this pass can read).
pub(super) fn relax_align(input: &[u8]) -> Option<Vec<u8>> {
    let h = Header::parse(input).ok()?;
    if h.machine != EM_RISCV {
        return None;
    }
    let class = h.class;
    let shoff = usize::try_from(h.shoff).ok()?;
    let secs: Vec<Sec> = (0..h.shnum as usize)
        .map(|i| {
            let at = shoff.checked_add(i.checked_mul(class.shdr_size())?)?;
            let hdr = Shdr::parse(class, input.get(at..at.checked_add(class.shdr_size())?)?);
            let offset = usize::try_from(hdr.offset).ok()?;
            let size = usize::try_from(hdr.size).ok()?;
            Some(Sec {
                at,
                hdr,
                offset,
                size,
            })
        })
        .collect::<Option<_>>()?;
    let symtab_index = secs.iter().position(|s| s.hdr.kind == SHT_SYMTAB)?;
    let symtab = secs[symtab_index];
    input.get(symtab.offset..symtab.offset.checked_add(symtab.size)?)?;
    let relas: Vec<Sec> = secs
        .iter()
        .copied()
        .filter(|s| s.hdr.kind == SHT_RELA && s.hdr.link as usize == symtab_index)
        .collect();
    for r in &relas {
        input.get(r.offset..r.offset.checked_add(r.size)?)?;
    }

    let mut out = input.to_vec();
    let mut changed = false;
    for (index, code) in secs.iter().enumerate() {
        if code.hdr.kind != SHT_PROGBITS || code.hdr.flags & SHF_EXECINSTR == 0 {
            continue;
        }
        changed |= relax_section(class, &mut out, index, *code, &symtab, &relas)?;
    }
    changed.then_some(out)
}

/// The pass over one code section; `Some(false)` when it has no `R_RISCV_ALIGN`.
fn relax_section(
    class: Class,
    b: &mut [u8],
    index: usize,
    code: Sec,
    symtab: &Sec,
    relas: &[Sec],
) -> Option<bool> {
    b.get(code.offset..code.offset.checked_add(code.size)?)?;
    let rs = class.rel_size(true);
    let mut aligns: Vec<usize> = Vec::new(); // entry positions
    for r in relas.iter().filter(|r| r.hdr.info as usize == index) {
        for at in entries(r.offset, r.size, rs) {
            if reloc(class, b, at)?.kind == R_RISCV_ALIGN {
                aligns.push(at);
            }
        }
    }
    if aligns.is_empty() {
        return Some(false);
    }
    let mut size = code.size as u64;
    // In offset order, each with the offsets the deletions before it left (as ld processes them).
    aligns.sort_by_key(|&at| reloc(class, b, at).map_or(0, |e| e.offset));
    for at in aligns {
        let mut e = reloc(class, b, at)?;
        let (off, n) = (e.offset, u64::try_from(e.addend?).ok()?);
        let mut align = 1u64;
        while align <= n {
            align = align.checked_mul(2)?;
        }
        let nop = (align - off % align) % align;
        if nop > n || off.checked_add(n)? > size {
            return None;
        }
        if nop != n {
            // Already exact padding is left as it is, as ld leaves it.
            let start = code.offset + off as usize;
            for k in (0..nop as usize & !3).step_by(4) {
                b[start + k..start + k + 4].copy_from_slice(&NOP);
            }
            if !nop.is_multiple_of(4) {
                let k = start + (nop as usize & !3);
                b[k..k + 2].copy_from_slice(&C_NOP);
            }
            let hole = Hole {
                index,
                addr: off + nop,
                count: n - nop,
            };
            delete(class, b, code, symtab, relas, hole, &mut size)?;
        }
        // The padding is done: nothing left for a linker or the loader to do here (the
        // deletion may have moved this entry's offset, so it is read again).
        e = reloc(class, b, at)?;
        e.kind = R_RISCV_NONE;
        e.write(class, &mut b[at..]);
    }
    // The section is shorter; what followed in the file stays where it was, unused.
    let hdr = Shdr { size, ..code.hdr };
    hdr.write(class, &mut b[code.at..]);
    Some(true)
}

/// `count` bytes deleted at offset `addr` of section `index`.
struct Hole {
    index: usize,
    addr: u64,
    count: u64,
}

/// Deletes a hole, as `riscv_relax_delete_bytes` does: the section's tail moves back, and so do
/// relocations, symbols, symbol sizes spanning the hole and addends against the section's own
/// symbol that point past it.
fn delete(
    class: Class,
    b: &mut [u8],
    code: Sec,
    symtab: &Sec,
    relas: &[Sec],
    hole: Hole,
    size: &mut u64,
) -> Option<()> {
    let Hole { index, addr, count } = hole;
    if count == 0 {
        return Some(());
    }
    let (a, c, end) = (addr as usize, count as usize, *size as usize);
    b.copy_within(code.offset + a + c..code.offset + end, code.offset + a);
    let toaddr = *size;
    *size -= count;
    // Symbols.
    let ss = class.sym_size();
    let mut section_syms = Vec::new();
    for (k, at) in entries(symtab.offset, symtab.size, ss).enumerate() {
        let mut s = Sym::parse(class, b.get(at..at + ss)?);
        if s.shndx as usize != index {
            continue;
        }
        if s.kind == STT_SECTION {
            section_syms.push(k as u32);
        }
        let (v, n) = (s.value, s.size);
        if v > addr && v <= toaddr {
            s.value = v - count;
        } else if v <= addr && v.saturating_add(n) > addr && v.saturating_add(n) <= toaddr {
            s.size = n - count;
        } else {
            continue;
        }
        s.write(class, &mut b[at..]);
    }
    // Relocations patching this section, and addends against its section symbol.
    let rs = class.rel_size(true);
    for r in relas {
        for at in entries(r.offset, r.size, rs) {
            let mut e = reloc(class, b, at)?;
            let before = e;
            if r.hdr.info as usize == index && e.offset > addr {
                e.offset -= count;
            }
            let addend = e.addend?;
            if section_syms.contains(&e.sym) && addend > addr as i64 {
                e.addend = Some(addend - count as i64);
            }
            if e != before {
                e.write(class, &mut b[at..]);
            }
        }
    }
    Some(())
}
