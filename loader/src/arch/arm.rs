//! ARM relocations (AAELF32): Thumb-2, Thumb-1 (ARMv6-M) and ARM state, `REL` with addends in
//! place (or `RELA`), and veneers for calls out of range.
//!
//! `S` (the [`Target`] value) carries the Thumb bit of a Thumb function, as `st_value` does, so
//! AAELF's `(S + A) | T` is `S + A`. Branches drop bit 0; a call to an even (ARM-state) address
//! becomes `BLX`, as GNU ld does for an ARM function.
//!
//! A call (`BL`, `B.W`, ARM `BL`/`B`) that does not reach goes through a veneer in the
//! trampoline area, one per distinct destination. Thumb callers get ld's Thumb-only long branch
//! stub (runs on ARMv6-M); ARM callers get `ldr pc, [pc, #-4]`.
//!
//! One handler per instruction class, as Zephyr's `arch/arm/core/elf.c` has: data words, Thumb
//! calls, Thumb short branches, Thumb `MOVW`/`MOVT`, Thumb byte-wise `MOVS`/`ADDS`, Thumb
//! PC-relative literals, ARM branches, ARM `MOVW`/`MOVT`.

use object::elf::*;

use super::{
    Backend, Rel32, RelocState, Site, Sym32, Target, Trampolines, get_u16, get_u32, put_u16,
    put_u32,
};
use crate::Error;
use crate::elf::{Class, Reloc};

/// Bytes of one veneer.
pub const SLOT_SIZE: usize = 16;

// AAELF32 names `object` spells the pre-AAELF way, or lacks.
const R_ARM_THM_CALL: RelocationType = R_ARM_THM_PC22;
const R_ARM_THM_JUMP11: RelocationType = R_ARM_THM_PC11;
const R_ARM_THM_JUMP8: RelocationType = R_ARM_THM_PC9;
const R_ARM_THM_ALU_ABS_G0_NC: RelocationType = RelocationType(132);
const R_ARM_THM_ALU_ABS_G1_NC: RelocationType = RelocationType(133);
const R_ARM_THM_ALU_ABS_G2_NC: RelocationType = RelocationType(134);
const R_ARM_THM_ALU_ABS_G3: RelocationType = RelocationType(135);

/// The ARM back-end.
pub struct Arm;

impl Backend for Arm {
    const CLASS: Class = Class::Elf32;
    const SLOT_SIZE: usize = SLOT_SIZE;
    const NARROW: bool = true;

    /// The general form (one relocation at a time): as a 32-bit entry.
    fn apply(
        r: &Reloc,
        site: &mut Site<'_>,
        sym: &Target,
        tramp: &mut Trampolines,
        state: &mut RelocState,
    ) -> Result<(), Error> {
        let Ok(offset) = u32::try_from(r.offset) else {
            return site.field(r.offset, 0).map(|_| ());
        };
        let e = Rel32 {
            offset,
            info: r.sym << 8 | (r.kind & 0xff),
            addend: r.addend.map(|a| a as i32),
        };
        let s = Sym32::new(sym.value as u32, sym.slot, sym.weak_zero);
        Self::apply32(e, s, site, tramp, state)
    }

    #[inline(always)]
    fn apply32(
        e: Rel32,
        sym: Sym32,
        site: &mut Site<'_>,
        tramp: &mut Trampolines,
        _state: &mut RelocState,
    ) -> Result<(), Error> {
        // Most relocations of real code first, and inlined into the load's loop (two tests
        // each: cheaper than a jump table's range check and load).
        let k = e.kind();
        if k == R_ARM_THM_CALL.0 || k == R_ARM_THM_JUMP24.0 {
            thumb_branch(e, sym, site, tramp)
        } else if k == R_ARM_ABS32.0 || k == R_ARM_TARGET1.0 {
            let f = site.word32(e.offset)?;
            let a = e.addend.unwrap_or(u32::from_le_bytes(*f) as i32) as u32;
            *f = sym.value().wrapping_add(a).to_le_bytes();
            Ok(())
        } else {
            other(e, site, &sym.target(), tramp)
        }
    }
}

/// Every relocation class but the two common ones, out of the load's loop.
#[inline(never)]
fn other(
    e: Rel32,
    site: &mut Site<'_>,
    sym: &Target,
    tramp: &mut Trampolines,
) -> Result<(), Error> {
    match RelocationType(e.kind()) {
        R_ARM_NONE | R_ARM_V4BX => site.field(e.offset.into(), 0).map(|_| ()),
        R_ARM_REL32 | R_ARM_PREL31 => data(e, site, sym),
        R_ARM_THM_JUMP19 | R_ARM_THM_JUMP11 | R_ARM_THM_JUMP8 => thumb_short_branch(e, site, sym),
        R_ARM_THM_MOVW_ABS_NC
        | R_ARM_THM_MOVT_ABS
        | R_ARM_THM_MOVW_PREL_NC
        | R_ARM_THM_MOVT_PREL => thumb_mov(e, site, sym),
        R_ARM_THM_ALU_ABS_G0_NC
        | R_ARM_THM_ALU_ABS_G1_NC
        | R_ARM_THM_ALU_ABS_G2_NC
        | R_ARM_THM_ALU_ABS_G3 => thumb_alu_abs(e, site, sym),
        R_ARM_THM_PC8 | R_ARM_THM_PC12 | R_ARM_THM_ALU_PREL_11_0 => thumb_literal(e, site, sym),
        R_ARM_CALL | R_ARM_JUMP24 => arm_branch(e, site, sym, tramp),
        R_ARM_MOVW_ABS_NC | R_ARM_MOVT_ABS | R_ARM_MOVW_PREL_NC | R_ARM_MOVT_PREL => {
            arm_mov(e, site, sym)
        }
        _ => Err(site.unsupported(&e.reloc(), name(e.kind()))),
    }
}

/// [`Site::overflow`] under this back-end's name of `r`'s type.
fn overflow(e: Rel32, site: &Site<'_>, value: i64) -> Error {
    site.overflow(&e.reloc(), name(e.kind()), value)
}

/// `S + A - P` for relocation `r` at `site` with addend `a`.
fn pcrel(e: Rel32, site: &Site<'_>, sym: &Target, a: i64) -> i64 {
    (sym.value as i64)
        .wrapping_add(a)
        .wrapping_sub(site.place(e.offset.into()) as i64)
}

/// The AAELF32 name of a relocation type.
pub fn name(t: u32) -> &'static str {
    #[cfg(feature = "reloc-names")]
    return full_name(t);
    #[cfg(not(feature = "reloc-names"))]
    {
        let _ = t;
        "R_ARM_* (name left out: see the type number)"
    }
}

#[cfg(feature = "reloc-names")]
fn full_name(t: u32) -> &'static str {
    match t {
        0 => "R_ARM_NONE",
        1 => "R_ARM_PC24",
        2 => "R_ARM_ABS32",
        3 => "R_ARM_REL32",
        4 => "R_ARM_LDR_PC_G0",
        5 => "R_ARM_ABS16",
        6 => "R_ARM_ABS12",
        7 => "R_ARM_THM_ABS5",
        8 => "R_ARM_ABS8",
        9 => "R_ARM_SBREL32",
        10 => "R_ARM_THM_CALL",
        11 => "R_ARM_THM_PC8",
        12 => "R_ARM_BREL_ADJ",
        13 => "R_ARM_TLS_DESC",
        14 => "R_ARM_THM_SWI8",
        15 => "R_ARM_XPC25",
        16 => "R_ARM_THM_XPC22",
        17 => "R_ARM_TLS_DTPMOD32",
        18 => "R_ARM_TLS_DTPOFF32",
        19 => "R_ARM_TLS_TPOFF32",
        20 => "R_ARM_COPY",
        21 => "R_ARM_GLOB_DAT",
        22 => "R_ARM_JUMP_SLOT",
        23 => "R_ARM_RELATIVE",
        24 => "R_ARM_GOTOFF32",
        25 => "R_ARM_BASE_PREL",
        26 => "R_ARM_GOT_BREL",
        27 => "R_ARM_PLT32",
        28 => "R_ARM_CALL",
        29 => "R_ARM_JUMP24",
        30 => "R_ARM_THM_JUMP24",
        31 => "R_ARM_BASE_ABS",
        38 => "R_ARM_TARGET1",
        39 => "R_ARM_SBREL31",
        40 => "R_ARM_V4BX",
        41 => "R_ARM_TARGET2",
        42 => "R_ARM_PREL31",
        43 => "R_ARM_MOVW_ABS_NC",
        44 => "R_ARM_MOVT_ABS",
        45 => "R_ARM_MOVW_PREL_NC",
        46 => "R_ARM_MOVT_PREL",
        47 => "R_ARM_THM_MOVW_ABS_NC",
        48 => "R_ARM_THM_MOVT_ABS",
        49 => "R_ARM_THM_MOVW_PREL_NC",
        50 => "R_ARM_THM_MOVT_PREL",
        51 => "R_ARM_THM_JUMP19",
        52 => "R_ARM_THM_JUMP6",
        53 => "R_ARM_THM_ALU_PREL_11_0",
        54 => "R_ARM_THM_PC12",
        55 => "R_ARM_ABS32_NOI",
        56 => "R_ARM_REL32_NOI",
        57..=83 => "R_ARM_* (group relocation)",
        84 => "R_ARM_MOVW_BREL_NC",
        85 => "R_ARM_MOVT_BREL",
        86 => "R_ARM_MOVW_BREL",
        87 => "R_ARM_THM_MOVW_BREL_NC",
        88 => "R_ARM_THM_MOVT_BREL",
        89 => "R_ARM_THM_MOVW_BREL",
        90 => "R_ARM_TLS_GOTDESC",
        91 => "R_ARM_TLS_CALL",
        92 => "R_ARM_TLS_DESCSEQ",
        93 => "R_ARM_THM_TLS_CALL",
        94 => "R_ARM_PLT32_ABS",
        95 => "R_ARM_GOT_ABS",
        96 => "R_ARM_GOT_PREL",
        97 => "R_ARM_GOT_BREL12",
        98 => "R_ARM_GOTOFF12",
        99 => "R_ARM_GOTRELAX",
        100 => "R_ARM_GNU_VTENTRY",
        101 => "R_ARM_GNU_VTINHERIT",
        102 => "R_ARM_THM_JUMP11",
        103 => "R_ARM_THM_JUMP8",
        104 => "R_ARM_TLS_GD32",
        105 => "R_ARM_TLS_LDM32",
        106 => "R_ARM_TLS_LDO32",
        107 => "R_ARM_TLS_IE32",
        108 => "R_ARM_TLS_LE32",
        109 => "R_ARM_TLS_LDO12",
        110 => "R_ARM_TLS_LE12",
        111 => "R_ARM_TLS_IE12GP",
        129 => "R_ARM_THM_TLS_DESCSEQ16",
        130 => "R_ARM_THM_TLS_DESCSEQ32",
        131 => "R_ARM_THM_GOT_BREL12",
        132 => "R_ARM_THM_ALU_ABS_G0_NC",
        133 => "R_ARM_THM_ALU_ABS_G1_NC",
        134 => "R_ARM_THM_ALU_ABS_G2_NC",
        135 => "R_ARM_THM_ALU_ABS_G3",
        160 => "R_ARM_IRELATIVE",
        _ => "R_ARM_?",
    }
}

/// Where an instruction-relative displacement is measured from, per relocation class.
const THUMB_PC_BIAS: i64 = 4;
const ARM_PC_BIAS: i64 = 8;

/// Veneer keys of ARM-state callers carry this bit, so a Thumb and an ARM veneer to the same
/// destination are distinct.
const ARM_VENEER_KEY: u64 = 1 << 32;

/// `R_ARM_REL32`, `R_ARM_PREL31` (exception tables): PC-relative data words.
fn data(e: Rel32, site: &mut Site<'_>, sym: &Target) -> Result<(), Error> {
    let w = get_u32(site.word32(e.offset)?);
    let v = if RelocationType(e.kind()) == R_ARM_REL32 {
        let a = e.addend.map_or(w as i32 as i64, i64::from);
        pcrel(e, site, sym, a) as u32
    } else {
        let a = e.addend.map_or(sign_extend(w.into(), 31), i64::from);
        let v = pcrel(e, site, sym, a);
        if !fits_signed(v, 31) {
            return Err(overflow(e, site, v));
        }
        (w & 0x8000_0000) | (v as u32 & 0x7fff_ffff)
    };
    put_u32(site.word32(e.offset)?, v);
    Ok(())
}

/// `R_ARM_THM_JUMP19` (`B<cond>.W`), `R_ARM_THM_JUMP11` (`B`), `R_ARM_THM_JUMP8` (`B<cond>`):
/// branches within the extension, no veneer.
fn thumb_short_branch(e: Rel32, site: &mut Site<'_>, sym: &Target) -> Result<(), Error> {
    let t = RelocationType(e.kind());
    if t == R_ARM_THM_JUMP19 {
        let f = site.word32(e.offset)?;
        let (hw1, hw2) = halves(f);
        let a = e
            .addend
            .map_or_else(|| thumb_b_cond_offset(hw1, hw2), i64::from);
        let v = pcrel(e, site, sym, a) & !1;
        if !fits_signed(v, 21) {
            return Err(overflow(e, site, v));
        }
        let (hw1, hw2) = encode_thumb_b_cond(hw1, hw2, v);
        write_halves(site.word32(e.offset)?, hw1, hw2);
        return Ok(());
    }
    let bits = if t == R_ARM_THM_JUMP11 { 11 } else { 8 };
    let mask = (1u16 << bits) - 1;
    let hw = get_u16(site.field(e.offset.into(), 2)?);
    let a = e.addend.map_or_else(
        || sign_extend(u64::from(hw & mask) << 1, bits + 1),
        i64::from,
    );
    let v = pcrel(e, site, sym, a) & !1;
    if !fits_signed(v, bits + 1) {
        return Err(overflow(e, site, v));
    }
    put_u16(
        site.field(e.offset.into(), 2)?,
        (hw & !mask) | ((v >> 1) as u16 & mask),
    );
    Ok(())
}

/// Thumb `MOVW`/`MOVT` (T3): half of `S + A` or `S + A - P`.
fn thumb_mov(e: Rel32, site: &mut Site<'_>, sym: &Target) -> Result<(), Error> {
    let (hw1, hw2) = halves(site.word32(e.offset)?);
    let a = e
        .addend
        .map_or_else(|| i64::from(thumb_mov_imm16(hw1, hw2) as i16), i64::from);
    let v = mov_value(e, site, sym, a);
    let (hw1, hw2) = encode_thumb_mov_imm16(hw1, hw2, v);
    write_halves(site.word32(e.offset)?, hw1, hw2);
    Ok(())
}

/// `MOVS`/`ADDS Rd, #imm8` building an address a byte at a time (ARMv6-M execute-only code):
/// byte `G0..G3` of `S + A`. The REL addend is the imm8 itself, as ld reads it.
fn thumb_alu_abs(e: Rel32, site: &mut Site<'_>, sym: &Target) -> Result<(), Error> {
    let f = site.field(e.offset.into(), 2)?;
    let hw = get_u16(f);
    let a = e.addend.map_or(i64::from(hw & 0xff), i64::from);
    let shift = 8 * (e.kind() - R_ARM_THM_ALU_ABS_G0_NC.0);
    let byte = ((sym.value as i64 + a) as u32 >> shift) as u16 & 0xff;
    put_u16(f, (hw & 0xff00) | byte);
    Ok(())
}

/// Thumb PC-relative literals, from `Align(PC, 4)`: `R_ARM_THM_PC8` (`ADR`/`LDR` narrow, imm8
/// words), `R_ARM_THM_PC12` (`LDR` wide, U bit and imm12), `R_ARM_THM_ALU_PREL_11_0` (`ADR.W`:
/// `ADDW`/`SUBW Rd, PC, #imm12`, the sign picks the instruction).
fn thumb_literal(e: Rel32, site: &mut Site<'_>, sym: &Target) -> Result<(), Error> {
    let t = RelocationType(e.kind());
    let p = site.place(e.offset.into()) as i64;
    let from_pa = |a: i64| (sym.value as i64) + a - (p & !3);
    if t == R_ARM_THM_PC8 {
        let hw = get_u16(site.field(e.offset.into(), 2)?);
        let a = e
            .addend
            .map_or_else(|| ((i64::from(hw & 0xff) << 2) + 4) % 0x400 - 4, i64::from);
        let v = from_pa(a);
        if !(0..0x400).contains(&v) {
            return Err(overflow(e, site, v));
        }
        put_u16(
            site.field(e.offset.into(), 2)?,
            (hw & 0xff00) | ((v as u16 & 0x3fc) >> 2),
        );
        return Ok(());
    }
    let (hw1, hw2) = halves(site.word32(e.offset)?);
    let (a, neg) = if t == R_ARM_THM_PC12 {
        (i64::from(hw2 & 0xfff), hw1 & 0x80 == 0)
    } else {
        (i64::from(thumb_imm12(hw1, hw2)), hw1 & 0x00f0 != 0)
    };
    let a = e.addend.map_or(if neg { -a } else { a }, i64::from);
    let v = from_pa(a);
    if v.unsigned_abs() >= 0x1000 {
        return Err(overflow(e, site, v));
    }
    let imm = v.unsigned_abs() as u16;
    let (hw1, hw2) = if t == R_ARM_THM_PC12 {
        let up = if v >= 0 { 0x80 } else { 0 };
        ((hw1 & !0x80) | up, (hw2 & !0xfff) | imm)
    } else {
        // ADDW is 0xf20f, SUBW 0xf2af (op bits 7:4 of the first halfword).
        let op = if v < 0 { 0x00a0 } else { 0 };
        encode_thumb_imm12(hw1 & !0x00f0 | op, hw2, imm)
    };
    write_halves(site.word32(e.offset)?, hw1, hw2);
    Ok(())
}

/// ARM `BL`/`BLX`/`B` (`R_ARM_CALL`, `R_ARM_JUMP24`): direct in reach, else through an ARM
/// veneer (also for a `B` that would have to change state).
fn arm_branch(
    e: Rel32,
    site: &mut Site<'_>,
    sym: &Target,
    tramp: &mut Trampolines,
) -> Result<(), Error> {
    let call = RelocationType(e.kind()) == R_ARM_CALL;
    let w = get_u32(site.word32(e.offset)?);
    if call && sym.weak_zero {
        put_u32(site.word32(e.offset)?, 0xe1a0_0000); // mov r0, r0
        return Ok(());
    }
    let p = site.place(e.offset.into()) as i64;
    let a = e.addend.map_or_else(|| arm_branch_offset(w), i64::from);
    let dest = sym.value as i64 + a + ARM_PC_BIAS;
    let thumb_target = dest & 1 != 0;
    let v = dest - (p + 8);
    let w = if call && fits_signed(v & !1, 26) {
        if thumb_target {
            // BLX imm: bit 1 of the offset goes into H (bit 24).
            encode_arm_branch(0xfa00_0000 | ((v as u32 & 2) << 23), v & !3)
        } else {
            encode_arm_branch(0xeb00_0000, v)
        }
    } else if !call && !thumb_target && fits_signed(v, 26) {
        encode_arm_branch(w, v)
    } else {
        let key = dest as u64 | ARM_VENEER_KEY;
        let veneer = tramp.for_target(sym.slot, key, |b, _| fill_arm_veneer(b, dest as u32));
        let Some(veneer) = veneer else {
            // No slot left: the area has one per import, enough for every call out of reach,
            // but a branch that only has to change state (to a local function) may find none.
            return Err(if fits_signed(v, 26) {
                site.unsupported(
                    &e.reloc(),
                    "R_ARM_JUMP24 (B to Thumb code, no veneer slot left)",
                )
            } else {
                overflow(e, site, v)
            });
        };
        let v = veneer as i64 - (p + 8);
        if !fits_signed(v, 26) {
            return Err(overflow(e, site, v));
        }
        encode_arm_branch(if call { 0xeb00_0000 } else { w }, v)
    };
    put_u32(site.word32(e.offset)?, w);
    Ok(())
}

/// ARM `MOVW`/`MOVT`: half of `S + A` or `S + A - P`.
fn arm_mov(e: Rel32, site: &mut Site<'_>, sym: &Target) -> Result<(), Error> {
    let w = get_u32(site.word32(e.offset)?);
    let a = e
        .addend
        .map_or_else(|| i64::from(arm_mov_imm16(w) as i16), i64::from);
    let v = mov_value(e, site, sym, a);
    put_u32(site.word32(e.offset)?, encode_arm_mov_imm16(w, v));
    Ok(())
}

/// The two halfwords of a 32-bit Thumb instruction, first one first.
fn halves(f: &[u8; 4]) -> (u16, u16) {
    (get_u16(&f[..2]), get_u16(&f[2..]))
}

fn write_halves(f: &mut [u8; 4], hw1: u16, hw2: u16) {
    put_u16(&mut f[..2], hw1);
    put_u16(&mut f[2..], hw2);
}

/// `R_ARM_THM_CALL` and `R_ARM_THM_JUMP24` (most relocations of real code), in 32-bit
/// arithmetic as the addresses are (a Cortex-M pays twice for every 64-bit operation): `BL` to
/// Thumb code in reach, `BLX` to ARM code in reach, anything else through a Thumb veneer; a
/// call to an undefined weak function becomes two NOPs, as GNU ld makes it.
#[inline(always)]
fn thumb_branch(
    e: Rel32,
    sym: Sym32,
    site: &mut Site<'_>,
    tramp: &mut Trampolines,
) -> Result<(), Error> {
    let call = e.kind() == R_ARM_THM_CALL.0;
    let p = (site.addr as u32).wrapping_add(e.offset);
    let section = site.section;
    let f = site.word32(e.offset)?;
    // Both halfwords in one word: the first in the low half.
    let w = u32::from_le_bytes(*f);
    if call && sym.weak_zero() {
        // Two 16-bit NOPs (valid from ARMv6-M up).
        *f = 0xbf00_bf00u32.to_le_bytes();
        return Ok(());
    }
    let a = match e.addend {
        Some(a) => a,
        // `bl .`/`b.w .` as GAS leaves a call elsewhere: -4, most calls, without decoding
        // (imm10, imm11 and S all ones, J1 and J2 set).
        None if w & 0x2fff_ffff == 0x2ffe_f7ff => -4,
        None => thumb_bl_offset(w as u16, (w >> 16) as u16) as i32,
    };
    let dest = sym
        .value()
        .wrapping_add(a as u32)
        .wrapping_add(THUMB_PC_BIAS as u32);
    // Bit 0 clear means ARM code (ld: an ARM function). An address 2 mod 4 cannot be ARM code,
    // and BLX could not reach it: it is taken as Thumb.
    let arm_target = dest & 3 == 0;
    let to_arm = dest.wrapping_sub((p & !3).wrapping_add(4)) as i32;
    let to_thumb = (dest & !1).wrapping_sub(p.wrapping_add(4)) as i32;
    let (blx, v) = if call && arm_target && reach(to_arm) {
        // BLX: to ARM state, measured from Align(PC, 4).
        (true, to_arm)
    } else if !arm_target && reach(to_thumb) {
        (false, to_thumb)
    } else {
        // Out of reach, or a B.W that cannot change state: through a Thumb veneer.
        let veneer = tramp.for_target_at(sym.slot_index(), dest.into(), |b, at| {
            fill_thumb_veneer(b, at, dest)
        });
        let v = veneer.map(|at| (at as u32).wrapping_sub(p.wrapping_add(4)) as i32);
        match v {
            Some(v) if reach(v) => (false, v),
            _ => {
                let v = v.unwrap_or(to_thumb);
                return Err(thumb_branch_error(e, section, veneer.is_some(), v));
            }
        }
    };
    *f = thumb_bl_word(w, v, blx).to_le_bytes();
    Ok(())
}

/// The Thumb `BL`/`BLX`/`B.W` (T4) word `w` (first halfword low) with displacement `v` (in
/// reach, even) and bit 12 of the second halfword clear for `BLX`, the other opcode bits kept:
/// [`encode_thumb_bl`] in fewer operations (`J1`, `J2` are `I1`, `I2` flipped unless S is set).
#[inline(always)]
fn thumb_bl_word(w: u32, v: i32, blx: bool) -> u32 {
    let u = v as u32;
    // Bits 22 and 23: I2 ^ S and I1 ^ S, the inverse of J2 and J1 (flipped at the end).
    let x = u ^ (v >> 31) as u32;
    // Each field written over its bits (`bfi` on Thumb-2, no mask constants).
    let put = |r: u32, mask: u32, bits: u32| (r & !mask) | (bits & mask);
    let r = if blx {
        w & !0x1000_0000
    } else {
        w | 0x1000_0000
    };
    let r = put(r, 0x3ff, u >> 12);
    let r = put(r, 0x400, u >> 14);
    let r = put(r, 0x07ff_0000, u << 15);
    let r = put(r, 0x0800_0000, x << 5);
    let r = put(r, 0x2000_0000, x << 6);
    r ^ 0x2800_0000
}

/// Whether a Thumb `BL`/`B.W` displacement is in reach (25 bits, signed).
fn reach(v: i32) -> bool {
    (-(1 << 24)..1 << 24).contains(&v)
}

/// Why a Thumb call or jump failed: no veneer slot left for a branch that only had to change
/// state, or out of reach (`v`, the displacement it needed).
#[cold]
fn thumb_branch_error(e: Rel32, section: u32, had_veneer: bool, v: i32) -> Error {
    if !had_veneer && reach(v) {
        let what = if e.kind() == R_ARM_THM_CALL.0 {
            "R_ARM_THM_CALL (no veneer slot left)"
        } else {
            "R_ARM_THM_JUMP24 (B.W to ARM code, no veneer slot left)"
        };
        Error::UnsupportedRelocation {
            r_type: e.kind(),
            type_name: what,
            section,
            offset: e.offset.into(),
        }
    } else {
        Error::RelocationOverflow {
            type_name: name(e.kind()),
            section,
            offset: e.offset.into(),
            value: v.into(),
        }
    }
}

/// The 16-bit immediate that `MOVW`/`MOVT` relocations write: the low or high half of
/// `S + A` or `S + A - P`.
fn mov_value(e: Rel32, site: &Site<'_>, sym: &Target, a: i64) -> u16 {
    let v = match RelocationType(e.kind()) {
        R_ARM_THM_MOVW_PREL_NC | R_ARM_THM_MOVT_PREL | R_ARM_MOVW_PREL_NC | R_ARM_MOVT_PREL => {
            pcrel(e, site, sym, a)
        }
        _ => sym.value as i64 + a,
    };
    match RelocationType(e.kind()) {
        R_ARM_THM_MOVT_ABS | R_ARM_THM_MOVT_PREL | R_ARM_MOVT_ABS | R_ARM_MOVT_PREL => {
            (v >> 16) as u16
        }
        _ => v as u16,
    }
}

/// Whether `v` fits a two's-complement field of `bits` bits.
fn fits_signed(v: i64, bits: u32) -> bool {
    let half = 1i64 << (bits - 1);
    (-half..half).contains(&v)
}

/// The low `bits` bits of `v`, sign-extended.
fn sign_extend(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// The byte offset of a Thumb-2 `BL`/`BLX`/`B.W` (T4): `S:I1:I2:imm10:imm11:0`, where
/// `I = !(J ^ S)`.
pub fn thumb_bl_offset(hw1: u16, hw2: u16) -> i64 {
    // 32-bit arithmetic: this runs for every call a Cortex-M extension makes.
    let (hw1, hw2) = (u32::from(hw1), u32::from(hw2));
    let s = (hw1 >> 10) & 1;
    let i1 = !((hw2 >> 13) ^ s) & 1;
    let i2 = !((hw2 >> 11) ^ s) & 1;
    let raw = (s << 24) | (i1 << 23) | (i2 << 22) | ((hw1 & 0x3ff) << 12) | ((hw2 & 0x7ff) << 1);
    i64::from(((raw << 7) as i32) >> 7)
}

/// Writes a byte offset into a Thumb-2 `BL`/`BLX`/`B.W` (T4), keeping the opcode bits.
pub fn encode_thumb_bl(hw1: u16, hw2: u16, off: i64) -> (u16, u16) {
    let u = off as u32;
    let s = (u >> 24) & 1;
    let j1 = (!(u >> 23) ^ s) & 1;
    let j2 = (!(u >> 22) ^ s) & 1;
    let imm10 = (u >> 12) & 0x3ff;
    let imm11 = (u >> 1) & 0x7ff;
    (
        (u32::from(hw1) & 0xf800 | s << 10 | imm10) as u16,
        (u32::from(hw2) & 0xd000 | j1 << 13 | j2 << 11 | imm11) as u16,
    )
}

/// The byte offset of a `B<cond>.W` (T3): `S:J2:J1:imm6:imm11:0`.
pub fn thumb_b_cond_offset(hw1: u16, hw2: u16) -> i64 {
    let s = u64::from(hw1 >> 10) & 1;
    let j1 = u64::from(hw2 >> 13) & 1;
    let j2 = u64::from(hw2 >> 11) & 1;
    let imm6 = u64::from(hw1 & 0x3f);
    let imm11 = u64::from(hw2 & 0x7ff);
    sign_extend(
        (s << 20) | (j2 << 19) | (j1 << 18) | (imm6 << 12) | (imm11 << 1),
        21,
    )
}

/// `hw1, hw2` with the offset of a `B<cond>.W` replaced by `off` (even, 21-bit signed).
pub fn encode_thumb_b_cond(hw1: u16, hw2: u16, off: i64) -> (u16, u16) {
    let u = off as u64;
    let s = (u >> 20) & 1;
    let j2 = (u >> 19) & 1;
    let j1 = (u >> 18) & 1;
    let imm6 = (u >> 12) & 0x3f;
    let imm11 = (u >> 1) & 0x7ff;
    (
        (hw1 & 0xfbc0) | (s << 10) as u16 | imm6 as u16,
        (hw2 & 0xd000) | (j1 << 13) as u16 | (j2 << 11) as u16 | imm11 as u16,
    )
}

/// The 16-bit immediate of a Thumb `MOVW`/`MOVT` (T3): `imm4:i:imm3:imm8`.
pub fn thumb_mov_imm16(hw1: u16, hw2: u16) -> u16 {
    ((hw1 & 0xf) << 12) | thumb_imm12(hw1, hw2)
}

/// `hw1, hw2` with the immediate of a Thumb `MOVW`/`MOVT` replaced by `v`.
pub fn encode_thumb_mov_imm16(hw1: u16, hw2: u16, v: u16) -> (u16, u16) {
    encode_thumb_imm12(hw1 & !0xf | (v >> 12), hw2, v & 0xfff)
}

/// The `i:imm3:imm8` immediate of a Thumb-2 data-processing instruction.
fn thumb_imm12(hw1: u16, hw2: u16) -> u16 {
    (((hw1 >> 10) & 1) << 11) | (((hw2 >> 12) & 7) << 8) | (hw2 & 0xff)
}

/// `hw1, hw2` with `i:imm3:imm8` replaced by `v` (12 bits).
fn encode_thumb_imm12(hw1: u16, hw2: u16, v: u16) -> (u16, u16) {
    (
        (hw1 & !0x0400) | (((v >> 11) & 1) << 10),
        (hw2 & 0x8f00) | (((v >> 8) & 7) << 12) | (v & 0xff),
    )
}

/// The byte offset of an ARM `B`/`BL`/`BLX` (imm24, in words).
pub fn arm_branch_offset(w: u32) -> i64 {
    sign_extend(u64::from(w & 0x00ff_ffff) << 2, 26)
}

/// `w` with the imm24 of an ARM branch replaced by `off` (a multiple of 4 in reach).
pub fn encode_arm_branch(w: u32, off: i64) -> u32 {
    (w & 0xff00_0000) | ((off >> 2) as u32 & 0x00ff_ffff)
}

/// The 16-bit immediate of an ARM `MOVW`/`MOVT`: `imm4:imm12`.
pub fn arm_mov_imm16(w: u32) -> u16 {
    (((w >> 4) & 0xf000) | (w & 0xfff)) as u16
}

/// `w` with the immediate of an ARM `MOVW`/`MOVT` replaced by `v`.
pub fn encode_arm_mov_imm16(w: u32, v: u16) -> u32 {
    let v = u32::from(v);
    (w & 0xfff0_f000) | ((v & 0xf000) << 4) | (v & 0xfff)
}

/// The Thumb veneer's code: ld's Thumb-only long branch stub, which runs on ARMv6-M too and
/// keeps every register but `ip` (as AAPCS allows a veneer). Its literal follows at offset 12.
pub const THUMB_VENEER: [u16; 6] = [
    0xb401, // push {r0}
    0x4802, // ldr  r0, [pc, #8]   (the literal: the veneer starts word-aligned)
    0x4684, // mov  ip, r0
    0xbc01, // pop  {r0}
    0x4760, // bx   ip
    0xbf00, // nop
];

/// The ARM veneer's code: `ldr pc, [pc, #-4]` (interworking on ARMv5T and later), then its
/// literal at offset 4.
pub const ARM_VENEER: u32 = 0xe51f_f004;

/// Writes a Thumb veneer at `at` to `dest` (bit 0 set for a Thumb destination).
fn fill_thumb_veneer(b: &mut [u8], at: u64, dest: u32) {
    // The `ldr` finds the literal from Align(PC, 4): the trampoline area starts 16-aligned and
    // its slots follow 8-byte keys at a 16-byte stride, so every slot is word-aligned.
    debug_assert_eq!(at % 4, 0, "veneer not word-aligned");
    for (i, hw) in THUMB_VENEER.iter().enumerate() {
        put_u16(&mut b[i * 2..], *hw);
    }
    put_u32(&mut b[12..], dest);
}

/// Writes an ARM veneer to `dest`.
fn fill_arm_veneer(b: &mut [u8], dest: u32) {
    put_u32(&mut b[..4], ARM_VENEER);
    put_u32(&mut b[4..8], dest);
    b[8..].fill(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumb_bl_offset_round_trips_at_the_limits() {
        for off in [0, 2, -2, -4, 0x00ff_fffe, -0x0100_0000, 0x1234, -0x42_0000] {
            let (hw1, hw2) = encode_thumb_bl(0xf000, 0xd000, off);
            assert_eq!(thumb_bl_offset(hw1, hw2), off, "{off:#x}");
            assert_eq!(hw2 & 0xd000, 0xd000);
        }
        // `bl .` as GAS leaves it for an external symbol: offset -4.
        assert_eq!(thumb_bl_offset(0xf7ff, 0xfffe), -4);
    }

    #[test]
    fn the_word_encoder_agrees_with_the_halfword_one() {
        let mut x = 0x1234_5678u32;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let v = ((x as i32) << 7 >> 7) & !1;
            let w = x.rotate_left(11);
            for blx in [false, true] {
                let hw2 = (w >> 16) as u16;
                let hw2 = if blx { hw2 & !0x1000 } else { hw2 | 0x1000 };
                let (a, b) = encode_thumb_bl(w as u16, hw2, v.into());
                assert_eq!(
                    thumb_bl_word(w, v, blx),
                    u32::from(a) | u32::from(b) << 16,
                    "{w:#x} {v:#x} {blx}"
                );
            }
        }
    }

    #[test]
    fn the_call_placeholder_shortcut_is_minus_four() {
        // `thumb_branch` takes A = -4 without decoding for these: every one must decode so.
        for hw2 in (0..=0xffffu16).filter(|h| h & 0x2fff == 0x2ffe) {
            assert_eq!(thumb_bl_offset(0xf7ff, hw2), -4, "{hw2:#x}");
        }
    }

    #[test]
    fn thumb_b_cond_offset_round_trips_and_keeps_the_condition() {
        for off in [0, -4, 0x0f_fffe, -0x10_0000, 0x222] {
            let (hw1, hw2) = encode_thumb_b_cond(0xf040, 0x8000, off);
            assert_eq!(thumb_b_cond_offset(hw1, hw2), off, "{off:#x}");
            assert_eq!(hw1 & 0xfbc0, 0xf040, "cond kept");
        }
        assert_eq!(thumb_b_cond_offset(0xf47f, 0xaffe), -4);
    }

    #[test]
    fn mov_immediates_round_trip() {
        for v in [0u16, 0xffff, 0x8001, 0x1234, 0x0800] {
            let (hw1, hw2) = encode_thumb_mov_imm16(0xf240, 0x0300, v);
            assert_eq!(thumb_mov_imm16(hw1, hw2), v);
            assert_eq!(hw2 & 0x0f00, 0x0300, "Rd kept");
            let w = encode_arm_mov_imm16(0xe300_5000, v);
            assert_eq!(arm_mov_imm16(w), v);
            assert_eq!(w & 0xfff0_f000, 0xe300_5000);
        }
    }

    #[test]
    fn arm_branch_offset_round_trips() {
        for off in [-8, 0, 0x01ff_fffc, -0x0200_0000] {
            assert_eq!(arm_branch_offset(encode_arm_branch(0xeb00_0000, off)), off);
        }
    }

    #[test]
    fn overflow_bounds_are_twos_complement() {
        assert!(fits_signed(0x00ff_fffe, 25));
        assert!(!fits_signed(0x0100_0000, 25));
        assert!(fits_signed(-0x0100_0000, 25));
        assert!(!fits_signed(-0x0100_0002, 25));
    }
}
