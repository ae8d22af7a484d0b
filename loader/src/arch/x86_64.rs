//! x86-64 relocations (System V psABI), with loader-made GOT entries and stubs.

use object::elf::*;

use super::{Backend, RelocState, Site, Target, Trampolines, put_u32, put_u64};
use crate::Error;
use crate::elf::{Class, Reloc};

/// Per slot: an 8-byte GOT entry, then an 8-byte stub `jmp *entry(%rip)`.
pub const SLOT_SIZE: usize = 16;

fn name(t: u32) -> &'static str {
    #[cfg(feature = "reloc-names")]
    return full_name(t);
    #[cfg(not(feature = "reloc-names"))]
    {
        let _ = t;
        "R_X86_64_* (name left out: see the type number)"
    }
}

#[cfg(feature = "reloc-names")]
fn full_name(t: u32) -> &'static str {
    match t {
        0 => "R_X86_64_NONE",
        1 => "R_X86_64_64",
        2 => "R_X86_64_PC32",
        3 => "R_X86_64_GOT32",
        4 => "R_X86_64_PLT32",
        9 => "R_X86_64_GOTPCREL",
        10 => "R_X86_64_32",
        11 => "R_X86_64_32S",
        12 => "R_X86_64_16",
        13 => "R_X86_64_PC16",
        14 => "R_X86_64_8",
        15 => "R_X86_64_PC8",
        19 => "R_X86_64_TLSGD",
        24 => "R_X86_64_PC64",
        26 => "R_X86_64_GOTPC32",
        41 => "R_X86_64_GOTPCRELX",
        42 => "R_X86_64_REX_GOTPCRELX",
        _ => "R_X86_64_?",
    }
}

/// The x86-64 back-end.
pub struct X86_64;

impl Backend for X86_64 {
    const CLASS: Class = Class::Elf64;
    const SLOT_SIZE: usize = SLOT_SIZE;
    const SLOT_PER_GLOBAL: bool = true;

    fn apply(
        r: &Reloc,
        site: &mut Site<'_>,
        sym: &Target,
        tramp: &mut Trampolines,
        _state: &mut RelocState,
    ) -> Result<(), Error> {
        apply(r, site, sym, tramp)
    }
}

/// Applies one relocation at `site`.
fn apply(
    r: &Reloc,
    site: &mut Site<'_>,
    sym: &Target,
    tramp: &mut Trampolines,
) -> Result<(), Error> {
    // Check the field first, so a bad offset is reported as such and not as an overflow.
    let width = match r.kind {
        t if t == R_X86_64_NONE.0 => 0,
        t if t == R_X86_64_64.0 || t == R_X86_64_PC64.0 => 8,
        _ => 4,
    };
    site.field(r.offset, width)?;
    let a = r.addend.unwrap_or(0);
    let s = sym.value;
    let p = site.place(r.offset);
    let section = site.section;
    let overflow = |value: i64| Error::RelocationOverflow {
        type_name: name(r.kind),
        section,
        offset: r.offset,
        value,
    };
    match r.kind {
        t if t == R_X86_64_NONE.0 => {}
        t if t == R_X86_64_64.0 => put_u64(site.field(r.offset, 8)?, s.wrapping_add(a as u64)),
        t if t == R_X86_64_PC64.0 => put_u64(
            site.field(r.offset, 8)?,
            s.wrapping_add(a as u64).wrapping_sub(p),
        ),
        t if t == R_X86_64_32.0 => {
            let v = (s as i64).wrapping_add(a);
            let v = u32::try_from(v).map_err(|_| overflow(v))?;
            put_u32(site.field(r.offset, 4)?, v);
        }
        t if t == R_X86_64_32S.0 => {
            let v = (s as i64).wrapping_add(a);
            let v = i32::try_from(v).map_err(|_| overflow(v))?;
            put_u32(site.field(r.offset, 4)?, v as u32);
        }
        t if t == R_X86_64_PC32.0 => {
            let v = pcrel(s, a, p);
            let v = i32::try_from(v).map_err(|_| overflow(v))?;
            put_u32(site.field(r.offset, 4)?, v as u32);
        }
        t if t == R_X86_64_PLT32.0 => {
            let mut v = pcrel(s, a, p);
            if i32::try_from(v).is_err() {
                // Out of reach: call through a stub that jumps via its GOT entry.
                let (slot, addr) = tramp.slot(sym.slot).ok_or(overflow(v))?;
                fill_slot(slot, s);
                v = pcrel(addr + 8, a, p);
            }
            let v = i32::try_from(v).map_err(|_| overflow(v))?;
            put_u32(site.field(r.offset, 4)?, v as u32);
        }
        t if t == R_X86_64_GOTPCREL.0
            || t == R_X86_64_GOTPCRELX.0
            || t == R_X86_64_REX_GOTPCRELX.0 =>
        {
            if t != R_X86_64_GOTPCREL.0
                && relax_mov(r, site, s, a, p, t == R_X86_64_REX_GOTPCRELX.0)?
            {
                return Ok(());
            }
            let (slot, addr) = tramp.slot(sym.slot).ok_or(Error::UnsupportedRelocation {
                r_type: t,
                type_name: "R_X86_64_GOTPCREL (GOT entry for a local symbol)",
                section,
                offset: r.offset,
            })?;
            fill_slot(slot, s);
            let v = pcrel(addr, a, p);
            let v = i32::try_from(v).map_err(|_| overflow(v))?;
            put_u32(site.field(r.offset, 4)?, v as u32);
        }
        t => {
            return Err(Error::UnsupportedRelocation {
                r_type: t,
                type_name: name(t),
                section,
                offset: r.offset,
            });
        }
    }
    Ok(())
}

/// ld's relaxation of `mov foo@GOTPCREL(%rip), %reg` for a program at a fixed address: to
/// `mov $foo, %reg` when the address fits the immediate, else to `lea foo(%rip), %reg` when in
/// reach. Returns whether the instruction was rewritten (and the field written).
fn relax_mov(
    r: &Reloc,
    site: &mut Site<'_>,
    s: u64,
    a: i64,
    p: u64,
    rex: bool,
) -> Result<bool, Error> {
    if r.offset < 2 || site.field(r.offset - 2, 1)?[0] != 0x8b {
        return Ok(false);
    }
    let rex_at = r.offset.checked_sub(3).filter(|_| rex);
    let rex_byte = match rex_at {
        Some(o) => Some(site.field(o, 1)?[0]).filter(|b| b & 0xf0 == 0x40),
        None => None,
    };
    let wide = rex_byte.is_some_and(|b| b & 0x08 != 0);
    let fits = if wide {
        i32::try_from(s as i64).is_ok()
    } else {
        u32::try_from(s).is_ok()
    };
    if fits {
        let modrm = site.field(r.offset - 1, 1)?[0];
        site.field(r.offset - 2, 1)?[0] = 0xc7;
        site.field(r.offset - 1, 1)?[0] = 0xc0 | ((modrm >> 3) & 7);
        if let (Some(o), Some(b)) = (rex_at, rex_byte) {
            // The register moves from ModRM.reg to ModRM.rm: REX.R becomes REX.B.
            site.field(o, 1)?[0] = (b & !0x04) | ((b & 0x04) >> 2);
        }
        put_u32(site.field(r.offset, 4)?, s as u32);
        return Ok(true);
    }
    let direct = pcrel(s, a, p);
    let Ok(v) = i32::try_from(direct) else {
        return Ok(false);
    };
    site.field(r.offset - 2, 1)?[0] = 0x8d;
    put_u32(site.field(r.offset, 4)?, v as u32);
    Ok(true)
}

fn pcrel(s: u64, a: i64, p: u64) -> i64 {
    s.wrapping_add(a as u64).wrapping_sub(p) as i64
}

/// Writes the GOT entry and the stub `jmp *-14(%rip)` that jumps through it.
fn fill_slot(slot: &mut [u8], target: u64) {
    put_u64(&mut slot[..8], target);
    // ff 25 disp32: disp is relative to the end of the 6-byte instruction at slot+8.
    slot[8..10].copy_from_slice(&[0xff, 0x25]);
    put_u32(&mut slot[10..14], (-14i32) as u32);
    slot[14..16].copy_from_slice(&[0xcc, 0xcc]);
}
