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

use super::{Site, Target, Trampolines, get_u16, get_u32, put_u16, put_u32};
use crate::Error;
use crate::elf::Reloc;

/// Bytes of one veneer.
pub const SLOT_SIZE: usize = 16;

// AAELF32 relocation numbers (`object` spells several of them the pre-AAELF way).
const R_ARM_NONE: u32 = 0;
const R_ARM_ABS32: u32 = 2;
const R_ARM_REL32: u32 = 3;
const R_ARM_THM_CALL: u32 = 10;
const R_ARM_THM_PC8: u32 = 11;
const R_ARM_CALL: u32 = 28;
const R_ARM_JUMP24: u32 = 29;
const R_ARM_THM_JUMP24: u32 = 30;
const R_ARM_TARGET1: u32 = 38;
const R_ARM_V4BX: u32 = 40;
const R_ARM_PREL31: u32 = 42;
const R_ARM_MOVW_ABS_NC: u32 = 43;
const R_ARM_MOVT_ABS: u32 = 44;
const R_ARM_MOVW_PREL_NC: u32 = 45;
const R_ARM_MOVT_PREL: u32 = 46;
const R_ARM_THM_MOVW_ABS_NC: u32 = 47;
const R_ARM_THM_MOVT_ABS: u32 = 48;
const R_ARM_THM_MOVW_PREL_NC: u32 = 49;
const R_ARM_THM_MOVT_PREL: u32 = 50;
const R_ARM_THM_JUMP19: u32 = 51;
const R_ARM_THM_ALU_PREL_11_0: u32 = 53;
const R_ARM_THM_PC12: u32 = 54;
const R_ARM_THM_JUMP11: u32 = 102;
const R_ARM_THM_JUMP8: u32 = 103;
const R_ARM_THM_ALU_ABS_G0_NC: u32 = 132;
const R_ARM_THM_ALU_ABS_G3: u32 = 135;

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

/// Applies one relocation at `site`.
pub(crate) fn apply(
    r: &Reloc,
    site: &mut Site<'_>,
    sym: &Target,
    tramp: &mut Trampolines,
) -> Result<(), Error> {
    let t = r.kind;
    if t == R_ARM_THM_JUMP24 || (t == R_ARM_THM_CALL && !sym.weak_zero) {
        return thumb_branch(r, site, sym, tramp);
    }
    let section = site.section;
    let unsupported = || Error::UnsupportedRelocation {
        r_type: t,
        type_name: name(t),
        section,
        offset: r.offset,
    };
    let width = match t {
        R_ARM_NONE | R_ARM_V4BX => 0,
        R_ARM_THM_PC8
        | R_ARM_THM_JUMP11
        | R_ARM_THM_JUMP8
        | R_ARM_THM_ALU_ABS_G0_NC..=R_ARM_THM_ALU_ABS_G3 => 2,
        R_ARM_ABS32
        | R_ARM_TARGET1
        | R_ARM_REL32
        | R_ARM_PREL31
        | R_ARM_THM_CALL
        | R_ARM_THM_JUMP24
        | R_ARM_THM_JUMP19
        | R_ARM_THM_MOVW_ABS_NC
        | R_ARM_THM_MOVT_ABS
        | R_ARM_THM_MOVW_PREL_NC
        | R_ARM_THM_MOVT_PREL
        | R_ARM_THM_PC12
        | R_ARM_THM_ALU_PREL_11_0
        | R_ARM_CALL
        | R_ARM_JUMP24
        | R_ARM_MOVW_ABS_NC
        | R_ARM_MOVT_ABS
        | R_ARM_MOVW_PREL_NC
        | R_ARM_MOVT_PREL => 4,
        _ => return Err(unsupported()),
    };
    // Check the field first, so a bad offset is reported as such and not as an overflow.
    let field = site.field(r.offset, width)?;
    let insn = Insn::read(field);
    let s = sym.value as i64;
    let p = site.place(r.offset) as i64;
    let pa = p & !3;
    let overflow = |value: i64| Error::RelocationOverflow {
        type_name: name(t),
        section,
        offset: r.offset,
        value,
    };
    // No veneer slot left: the area has one per imported symbol, enough for every call out of
    // reach, but a branch that only has to change state (to a local function) may find none.
    let no_slot = |v: i64, bits: u32, state_change: &'static str| {
        if fits_signed(v, bits) {
            Error::UnsupportedRelocation {
                r_type: t,
                type_name: state_change,
                section,
                offset: r.offset,
            }
        } else {
            overflow(v)
        }
    };
    let field = site.field(r.offset, width)?;
    match t {
        R_ARM_NONE | R_ARM_V4BX => {}
        R_ARM_ABS32 | R_ARM_TARGET1 => {
            let a = r.addend.unwrap_or(insn.word() as i32 as i64);
            put_u32(field, s.wrapping_add(a) as u32);
        }
        R_ARM_REL32 => {
            let a = r.addend.unwrap_or(insn.word() as i32 as i64);
            put_u32(field, s.wrapping_add(a).wrapping_sub(p) as u32);
        }
        R_ARM_PREL31 => {
            let w = insn.word();
            let a = r.addend.unwrap_or(sign_extend(w.into(), 31));
            let v = s + a - p;
            if !fits_signed(v, 31) {
                return Err(overflow(v));
            }
            put_u32(field, (w & 0x8000_0000) | (v as u32 & 0x7fff_ffff));
        }
        R_ARM_THM_CALL if sym.weak_zero => {
            // A call to an undefined weak function does nothing, as with GNU ld: two 16-bit NOPs
            // (valid from ARMv6-M up).
            Insn::write_halves(field, 0xbf00, 0xbf00);
        }
        R_ARM_CALL if sym.weak_zero => put_u32(field, 0xe1a0_0000), // mov r0, r0
        R_ARM_THM_JUMP19 => {
            let (hw1, hw2) = insn.halves();
            let a = r.addend.unwrap_or_else(|| thumb_b_cond_offset(hw1, hw2));
            let v = (s + a - p) & !1;
            if !fits_signed(v, 21) {
                return Err(overflow(v));
            }
            let (hw1, hw2) = encode_thumb_b_cond(hw1, hw2, v);
            Insn::write_halves(field, hw1, hw2);
        }
        R_ARM_THM_JUMP11 => {
            let hw = get_u16(field);
            let a = r
                .addend
                .unwrap_or_else(|| sign_extend(u64::from(hw & 0x7ff) << 1, 12));
            let v = (s + a - p) & !1;
            if !fits_signed(v, 12) {
                return Err(overflow(v));
            }
            put_u16(field, (hw & !0x7ff) | ((v >> 1) as u16 & 0x7ff));
        }
        R_ARM_THM_JUMP8 => {
            let hw = get_u16(field);
            let a = r
                .addend
                .unwrap_or_else(|| sign_extend(u64::from(hw & 0xff) << 1, 9));
            let v = (s + a - p) & !1;
            if !fits_signed(v, 9) {
                return Err(overflow(v));
            }
            put_u16(field, (hw & !0xff) | ((v >> 1) as u16 & 0xff));
        }
        R_ARM_THM_MOVW_ABS_NC
        | R_ARM_THM_MOVT_ABS
        | R_ARM_THM_MOVW_PREL_NC
        | R_ARM_THM_MOVT_PREL => {
            let (hw1, hw2) = insn.halves();
            let a = r
                .addend
                .unwrap_or_else(|| i64::from(thumb_mov_imm16(hw1, hw2) as i16));
            let v = mov_value(t, s + a, p);
            let (hw1, hw2) = encode_thumb_mov_imm16(hw1, hw2, v);
            Insn::write_halves(field, hw1, hw2);
        }
        R_ARM_THM_ALU_ABS_G0_NC..=R_ARM_THM_ALU_ABS_G3 => {
            // MOVS/ADDS Rd, #imm8 building an address a byte at a time (ARMv6-M execute-only
            // code): byte `t - G0` of `S + A`. The REL addend is the imm8 itself, as ld reads it.
            let hw = get_u16(field);
            let a = r.addend.unwrap_or(i64::from(hw & 0xff));
            let shift = 8 * (t - R_ARM_THM_ALU_ABS_G0_NC);
            let byte = ((s + a) as u32 >> shift) as u16 & 0xff;
            put_u16(field, (hw & 0xff00) | byte);
        }
        R_ARM_THM_PC8 => {
            // ADR or LDR (literal), narrow: imm8 words from Align(PC, 4).
            let hw = get_u16(field);
            let a = r
                .addend
                .unwrap_or_else(|| ((i64::from(hw & 0xff) << 2) + 4) % 0x400 - 4);
            let v = s + a - pa;
            if !(0..0x400).contains(&v) {
                return Err(overflow(v));
            }
            put_u16(field, (hw & 0xff00) | ((v as u16 & 0x3fc) >> 2));
        }
        R_ARM_THM_PC12 => {
            // LDR (literal), wide: U bit and imm12 from Align(PC, 4).
            let (hw1, hw2) = insn.halves();
            let a = r.addend.unwrap_or_else(|| {
                let imm = i64::from(hw2 & 0xfff);
                if hw1 & 0x80 != 0 { imm } else { -imm }
            });
            let v = s + a - pa;
            if v.unsigned_abs() >= 0x1000 {
                return Err(overflow(v));
            }
            let up = if v >= 0 { 0x80 } else { 0 };
            let hw1 = (hw1 & !0x80) | up;
            let hw2 = (hw2 & !0xfff) | v.unsigned_abs() as u16;
            Insn::write_halves(field, hw1, hw2);
        }
        R_ARM_THM_ALU_PREL_11_0 => {
            // ADDW/SUBW Rd, PC, #imm12 (ADR.W): the sign picks the instruction.
            let (hw1, hw2) = insn.halves();
            let a = r.addend.unwrap_or_else(|| {
                let imm = i64::from(thumb_imm12(hw1, hw2));
                if hw1 & 0x00f0 != 0 { -imm } else { imm }
            });
            let v = s + a - pa;
            if v.unsigned_abs() >= 0x1000 {
                return Err(overflow(v));
            }
            // ADDW is 0xf20f, SUBW 0xf2af (op bits 7:4 of the first halfword).
            let op = if v < 0 { 0x00a0 } else { 0 };
            let (hw1, hw2) = encode_thumb_imm12(hw1 & !0x00f0 | op, hw2, v.unsigned_abs() as u16);
            Insn::write_halves(field, hw1, hw2);
        }
        R_ARM_CALL | R_ARM_JUMP24 => {
            let w = insn.word();
            let a = r.addend.unwrap_or_else(|| arm_branch_offset(w));
            let dest = s + a + ARM_PC_BIAS;
            let thumb_target = dest & 1 != 0;
            let v = dest - (p + 8);
            let w = if t == R_ARM_CALL && fits_signed(v & !1, 26) {
                if thumb_target {
                    // BLX imm: bit 1 of the offset goes into H (bit 24).
                    encode_arm_branch(0xfa00_0000 | ((v as u32 & 2) << 23), v & !3)
                } else {
                    encode_arm_branch(0xeb00_0000, v)
                }
            } else if t == R_ARM_JUMP24 && !thumb_target && fits_signed(v, 26) {
                encode_arm_branch(w, v)
            } else {
                // Out of reach, or a B that cannot change state: through an ARM veneer.
                let key = dest as u64 | ARM_VENEER_KEY;
                let veneer = tramp
                    .for_target(sym.import_rank(), key, |b, _| {
                        fill_arm_veneer(b, dest as u32)
                    })
                    .ok_or_else(|| {
                        no_slot(v, 26, "R_ARM_JUMP24 (B to Thumb code, no veneer slot left)")
                    })? as i64;
                let v = veneer - (p + 8);
                if !fits_signed(v, 26) {
                    return Err(overflow(v));
                }
                let base = if t == R_ARM_CALL { 0xeb00_0000 } else { w };
                encode_arm_branch(base, v)
            };
            put_u32(field, w);
        }
        R_ARM_MOVW_ABS_NC | R_ARM_MOVT_ABS | R_ARM_MOVW_PREL_NC | R_ARM_MOVT_PREL => {
            let w = insn.word();
            let a = r
                .addend
                .unwrap_or_else(|| i64::from(arm_mov_imm16(w) as i16));
            let v = mov_value(t, s + a, p);
            put_u32(field, encode_arm_mov_imm16(w, v));
        }
        _ => return Err(unsupported()),
    }
    Ok(())
}

/// The instruction or data word at a relocation, read before it is patched.
#[derive(Clone, Copy)]
struct Insn([u8; 4]);

impl Insn {
    fn read(field: &[u8]) -> Insn {
        let mut b = [0u8; 4];
        b[..field.len()].copy_from_slice(field);
        Insn(b)
    }

    /// A 32-bit little-endian word (data, or an ARM instruction).
    fn word(self) -> u32 {
        get_u32(&self.0)
    }

    /// The two halfwords of a 32-bit Thumb instruction, first one first.
    fn halves(self) -> (u16, u16) {
        (get_u16(&self.0[..2]), get_u16(&self.0[2..]))
    }

    fn write_halves(field: &mut [u8], hw1: u16, hw2: u16) {
        put_u16(&mut field[..2], hw1);
        put_u16(&mut field[2..], hw2);
    }
}

/// `R_ARM_THM_CALL` and `R_ARM_THM_JUMP24` (most relocations of real code), in 32-bit
/// arithmetic as the addresses are (a Cortex-M pays twice for every 64-bit operation): `BL` to
/// Thumb code in reach, `BLX` to ARM code in reach, anything else through a Thumb veneer.
fn thumb_branch(
    r: &Reloc,
    site: &mut Site<'_>,
    sym: &Target,
    tramp: &mut Trampolines,
) -> Result<(), Error> {
    let (t, section, offset) = (r.kind, site.section, r.offset);
    let p = (site.addr as u32).wrapping_add(offset as u32);
    let field = site.field(offset, 4)?;
    let (hw1, hw2) = (get_u16(&field[..2]), get_u16(&field[2..]));
    let a = match r.addend {
        Some(a) => a as i32,
        None => thumb_bl_offset(hw1, hw2) as i32,
    };
    let dest = (sym.value as u32)
        .wrapping_add(a as u32)
        .wrapping_add(THUMB_PC_BIAS as u32);
    let call = t == R_ARM_THM_CALL;
    // Bit 0 clear means ARM code (ld: an ARM function). An address 2 mod 4 cannot be ARM code,
    // and BLX could not reach it: it is taken as Thumb.
    let arm_target = dest & 3 == 0;
    let reach = |v: i32| (-(1 << 24)..1 << 24).contains(&v);
    let to_arm = dest.wrapping_sub((p & !3).wrapping_add(4)) as i32;
    let to_thumb = (dest & !1).wrapping_sub(p.wrapping_add(4)) as i32;
    let (hw2, v) = if call && arm_target && reach(to_arm) {
        // BLX: to ARM state, measured from Align(PC, 4).
        (hw2 & !0x1000, to_arm)
    } else if !arm_target && reach(to_thumb) {
        (hw2 | 0x1000, to_thumb)
    } else {
        // Out of reach, or a B.W that cannot change state: through a Thumb veneer.
        let veneer = tramp.for_target(sym.import_rank(), dest.into(), |b, at| {
            fill_thumb_veneer(b, at, dest)
        });
        let Some(veneer) = veneer else {
            return Err(if reach(to_thumb) {
                Error::UnsupportedRelocation {
                    r_type: t,
                    type_name: if call {
                        "R_ARM_THM_CALL (no veneer slot left)"
                    } else {
                        "R_ARM_THM_JUMP24 (B.W to ARM code, no veneer slot left)"
                    },
                    section,
                    offset,
                }
            } else {
                Error::RelocationOverflow {
                    type_name: name(t),
                    section,
                    offset,
                    value: to_thumb.into(),
                }
            });
        };
        let v = (veneer as u32).wrapping_sub(p.wrapping_add(4)) as i32;
        if !reach(v) {
            return Err(Error::RelocationOverflow {
                type_name: name(t),
                section,
                offset,
                value: v.into(),
            });
        }
        (hw2 | 0x1000, v)
    };
    let field = site.field(offset, 4)?;
    let (hw1, hw2) = encode_thumb_bl(hw1, hw2, v.into());
    put_u16(&mut field[..2], hw1);
    put_u16(&mut field[2..], hw2);
    Ok(())
}

/// The 16-bit immediate that `MOVW`/`MOVT` relocations write: the low or high half of
/// `S + A` or `S + A - P`.
fn mov_value(t: u32, sa: i64, p: i64) -> u16 {
    let v = match t {
        R_ARM_THM_MOVW_PREL_NC | R_ARM_THM_MOVT_PREL | R_ARM_MOVW_PREL_NC | R_ARM_MOVT_PREL => {
            sa - p
        }
        _ => sa,
    };
    match t {
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
