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
// Numbers from the System V x86-64 psABI, table "Relocation Types".
fn full_name(t: u32) -> &'static str {
    match t {
        0 => "R_X86_64_NONE",
        1 => "R_X86_64_64",
        2 => "R_X86_64_PC32",
        3 => "R_X86_64_GOT32",
        4 => "R_X86_64_PLT32",
        5 => "R_X86_64_COPY",
        6 => "R_X86_64_GLOB_DAT",
        7 => "R_X86_64_JUMP_SLOT",
        8 => "R_X86_64_RELATIVE",
        9 => "R_X86_64_GOTPCREL",
        10 => "R_X86_64_32",
        11 => "R_X86_64_32S",
        12 => "R_X86_64_16",
        13 => "R_X86_64_PC16",
        14 => "R_X86_64_8",
        15 => "R_X86_64_PC8",
        16 => "R_X86_64_DTPMOD64",
        17 => "R_X86_64_DTPOFF64",
        18 => "R_X86_64_TPOFF64",
        19 => "R_X86_64_TLSGD",
        20 => "R_X86_64_TLSLD",
        21 => "R_X86_64_DTPOFF32",
        22 => "R_X86_64_GOTTPOFF",
        23 => "R_X86_64_TPOFF32",
        24 => "R_X86_64_PC64",
        25 => "R_X86_64_GOTOFF64",
        26 => "R_X86_64_GOTPC32",
        27 => "R_X86_64_GOT64",
        28 => "R_X86_64_GOTPCREL64",
        29 => "R_X86_64_GOTPC64",
        30 => "R_X86_64_GOTPLT64",
        31 => "R_X86_64_PLTOFF64",
        32 => "R_X86_64_SIZE32",
        33 => "R_X86_64_SIZE64",
        34 => "R_X86_64_GOTPC32_TLSDESC",
        35 => "R_X86_64_TLSDESC_CALL",
        36 => "R_X86_64_TLSDESC",
        37 => "R_X86_64_IRELATIVE",
        38 => "R_X86_64_RELATIVE64",
        41 => "R_X86_64_GOTPCRELX",
        42 => "R_X86_64_REX_GOTPCRELX",
        43 => "R_X86_64_CODE_4_GOTPCRELX",
        44 => "R_X86_64_CODE_4_GOTTPOFF",
        45 => "R_X86_64_CODE_4_GOTPC32_TLSDESC",
        _ => "R_X86_64_?",
    }
}

/// The x86-64 back-end: one handler per class (data, calls, GOT loads).
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
        let t = RelocationType(r.kind);
        // Check the field first, so a bad offset is reported as such and not as an overflow.
        let width = match t {
            R_X86_64_NONE => 0,
            R_X86_64_64 | R_X86_64_PC64 => 8,
            _ => 4,
        };
        site.field(r.offset, width)?;
        match t {
            R_X86_64_NONE => Ok(()),
            R_X86_64_64 | R_X86_64_PC64 | R_X86_64_32 | R_X86_64_32S | R_X86_64_PC32 => {
                data(r, site, sym)
            }
            R_X86_64_PLT32 => call(r, site, sym, tramp),
            R_X86_64_GOTPCREL | R_X86_64_GOTPCRELX | R_X86_64_REX_GOTPCRELX => {
                got(r, site, sym, tramp)
            }
            _ => Err(site.unsupported(r, name(r.kind))),
        }
    }
}

/// [`Site::overflow`] under this back-end's name of `r`'s type.
fn overflow(r: &Reloc, site: &Site<'_>, value: i64) -> Error {
    site.overflow(r, name(r.kind), value)
}

/// Data: `64`, `PC64`, and the 32-bit `32` (zero-extended), `32S` (sign-extended), `PC32`.
fn data(r: &Reloc, site: &mut Site<'_>, sym: &Target) -> Result<(), Error> {
    let sa = sym.value.wrapping_add(r.addend.unwrap_or(0) as u64);
    let p = site.place(r.offset);
    let t = RelocationType(r.kind);
    match t {
        R_X86_64_64 => put_u64(site.field(r.offset, 8)?, sa),
        R_X86_64_PC64 => put_u64(site.field(r.offset, 8)?, sa.wrapping_sub(p)),
        _ => {
            let v = if t == R_X86_64_PC32 {
                sa.wrapping_sub(p)
            } else {
                sa
            } as i64;
            let fits = if t == R_X86_64_32 {
                u32::try_from(v).is_ok()
            } else {
                i32::try_from(v).is_ok()
            };
            if !fits {
                return Err(overflow(r, site, v));
            }
            put_u32(site.field(r.offset, 4)?, v as u32);
        }
    }
    Ok(())
}

/// `PLT32` (`call`/`jmp`): direct in reach, else through the symbol's stub, which jumps via its
/// GOT entry.
fn call(
    r: &Reloc,
    site: &mut Site<'_>,
    sym: &Target,
    tramp: &mut Trampolines,
) -> Result<(), Error> {
    let (s, a, p) = (sym.value, r.addend.unwrap_or(0), site.place(r.offset));
    let mut v = pcrel(s, a, p);
    if i32::try_from(v).is_err() {
        let Some((slot, addr)) = tramp.slot(sym.slot) else {
            return Err(overflow(r, site, v));
        };
        fill_slot(slot, s);
        v = pcrel(addr + 8, a, p);
    }
    let v = i32::try_from(v).map_err(|_| overflow(r, site, v))?;
    put_u32(site.field(r.offset, 4)?, v as u32);
    Ok(())
}

/// `GOTPCREL` and its relaxable forms: the `mov` rewritten as ld does when it can be, else the
/// symbol's GOT entry.
fn got(r: &Reloc, site: &mut Site<'_>, sym: &Target, tramp: &mut Trampolines) -> Result<(), Error> {
    let t = RelocationType(r.kind);
    let (s, a, p) = (sym.value, r.addend.unwrap_or(0), site.place(r.offset));
    if t != R_X86_64_GOTPCREL && relax_mov(r, site, s, a, p, t == R_X86_64_REX_GOTPCRELX)? {
        return Ok(());
    }
    let Some((slot, addr)) = tramp.slot(sym.slot) else {
        return Err(site.unsupported(r, "R_X86_64_GOTPCREL (GOT entry for a local symbol)"));
    };
    fill_slot(slot, s);
    let v = pcrel(addr, a, p);
    let v = i32::try_from(v).map_err(|_| overflow(r, site, v))?;
    put_u32(site.field(r.offset, 4)?, v as u32);
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
