//! RISC-V relocations (psABI), RV32 and RV64 with or without C, `RELA`, with veneers for `JAL`
//! (and, on RV64, `CALL`) out of range.
//!
//! No linker relaxation is done: the result is what GNU ld gives with `--no-relax`.
//! `R_RISCV_RELAX` only marks an instruction ld may shorten, so it needs nothing.
//! `R_RISCV_ALIGN` needs nothing either when the object was assembled without relaxation
//! (`-mno-relax`): gas then pads to the alignment itself, relative to the section start, and the
//! padding stays right because the loader places every section at its `sh_addralign`. With
//! relaxation on, gas instead writes the worst case of NOPs (alignment minus the smallest
//! instruction) and leaves the linker to delete the excess. `pack` does that deletion as ld does
//! (`pack/align.rs`), so a packed object — everything `host-push` sends or installs — loads with
//! its alignment and the same bytes as ld's output. An unpacked one loaded directly keeps the
//! extra NOPs: the code still runs, but what follows may sit less aligned than asked.
//!
//! Veneers are keyed by target, one per distinct target, in the area the driver sizes with one
//! slot per imported symbol (calls within an extension are expected to be in reach).

use object::elf::*;

use super::{
    Arch, Backend, RelocState, Site, Target, Trampolines, get_u16, get_u32, put_u16, put_u32,
    put_u64,
};
use crate::Error;
use crate::elf::{Class, Reloc};

/// `PCREL_HI20` results remembered per relocation section.
const HI20_ENTRIES: usize = 16;
/// `PCREL_LO12` relocations that may wait for a `PCREL_HI20` later in the section.
const PENDING_ENTRIES: usize = 16;

/// Register `t1` (x6), the scratch register of veneers (as in ld's PLT stubs).
const T1: u32 = 6;

/// A `PCREL_LO12` waiting for its `PCREL_HI20`.
#[derive(Clone, Copy, Default)]
struct PendingLo {
    /// Run-time address of the `auipc` it refers to (its S).
    auipc: u64,
    /// Offset of the instruction to patch.
    offset: u64,
    /// Its addend.
    addend: i64,
    /// `PCREL_LO12_S` (store) rather than `PCREL_LO12_I`.
    store: bool,
}

/// What one relocation section carries from entry to entry: recent `PCREL_HI20` results, found
/// again by the `PCREL_LO12` relocations that point at them (a `PCREL_LO12`'s symbol is the
/// label of the `auipc`, and its value is the low 12 bits of that `auipc`'s `S + A - P`), and a
/// `SET_ULEB128` waiting for its `SUB_ULEB128`.
///
/// Fixed size, no allocation: a ring of the last [`HI20_ENTRIES`] `(auipc address, value)`
/// pairs, and up to [`PENDING_ENTRIES`] `PCREL_LO12`s that came before their `PCREL_HI20` (code
/// laid out out of order), patched when it arrives. A `PCREL_LO12` whose pair is farther away
/// than that fails with [`Error::PcrelLoUnpaired`]; `pack` puts every `PCREL_LO12` right after
/// its `PCREL_HI20`, so packed files always pair.
#[derive(Default)]
pub(crate) struct Hi20Cache {
    /// `(offset, S + A)` of a `SET_ULEB128` whose `SUB_ULEB128` has not come yet.
    uleb_set: Option<(u64, u64)>,
    /// `(auipc address, S + A - P)`, oldest overwritten first.
    hi: [(u64, i64); HI20_ENTRIES],
    /// Entries of `hi` in use.
    len: usize,
    /// Where the next entry goes.
    next: usize,
    /// Waiting `PCREL_LO12`s; `None` is a free entry.
    pending: [Option<PendingLo>; PENDING_ENTRIES],
}

impl Hi20Cache {
    fn find(&self, auipc: u64) -> Option<i64> {
        // Newest first: an address seen twice (not possible in one section) would take the last.
        (1..=self.len)
            .map(|k| self.hi[(self.next + HI20_ENTRIES - k) % HI20_ENTRIES])
            .find(|&(a, _)| a == auipc)
            .map(|(_, v)| v)
    }

    /// Whether a `PCREL_LO12` waits for its `PCREL_HI20`.
    pub(super) fn waiting(&self) -> bool {
        self.pending.iter().any(Option::is_some)
    }

    fn remember(&mut self, auipc: u64, value: i64) {
        self.hi[self.next] = (auipc, value);
        self.next = (self.next + 1) % HI20_ENTRIES;
        self.len = (self.len + 1).min(HI20_ENTRIES);
    }
}

/// The psABI name of relocation type `t`.
fn name(t: u32) -> &'static str {
    #[cfg(feature = "reloc-names")]
    return full_name(t);
    #[cfg(not(feature = "reloc-names"))]
    {
        let _ = t;
        "R_RISCV_* (name left out: see the type number)"
    }
}

#[cfg(feature = "reloc-names")]
fn full_name(t: u32) -> &'static str {
    match t {
        0 => "R_RISCV_NONE",
        1 => "R_RISCV_32",
        2 => "R_RISCV_64",
        3 => "R_RISCV_RELATIVE",
        4 => "R_RISCV_COPY",
        5 => "R_RISCV_JUMP_SLOT",
        6 => "R_RISCV_TLS_DTPMOD32",
        7 => "R_RISCV_TLS_DTPMOD64",
        8 => "R_RISCV_TLS_DTPREL32",
        9 => "R_RISCV_TLS_DTPREL64",
        10 => "R_RISCV_TLS_TPREL32",
        11 => "R_RISCV_TLS_TPREL64",
        12 => "R_RISCV_TLSDESC",
        16 => "R_RISCV_BRANCH",
        17 => "R_RISCV_JAL",
        18 => "R_RISCV_CALL",
        19 => "R_RISCV_CALL_PLT",
        20 => "R_RISCV_GOT_HI20",
        21 => "R_RISCV_TLS_GOT_HI20",
        22 => "R_RISCV_TLS_GD_HI20",
        23 => "R_RISCV_PCREL_HI20",
        24 => "R_RISCV_PCREL_LO12_I",
        25 => "R_RISCV_PCREL_LO12_S",
        26 => "R_RISCV_HI20",
        27 => "R_RISCV_LO12_I",
        28 => "R_RISCV_LO12_S",
        29 => "R_RISCV_TPREL_HI20",
        30 => "R_RISCV_TPREL_LO12_I",
        31 => "R_RISCV_TPREL_LO12_S",
        32 => "R_RISCV_TPREL_ADD",
        33 => "R_RISCV_ADD8",
        34 => "R_RISCV_ADD16",
        35 => "R_RISCV_ADD32",
        36 => "R_RISCV_ADD64",
        37 => "R_RISCV_SUB8",
        38 => "R_RISCV_SUB16",
        39 => "R_RISCV_SUB32",
        40 => "R_RISCV_SUB64",
        41 => "R_RISCV_GOT32_PCREL",
        43 => "R_RISCV_ALIGN",
        44 => "R_RISCV_RVC_BRANCH",
        45 => "R_RISCV_RVC_JUMP",
        46 => "R_RISCV_RVC_LUI",
        47 => "R_RISCV_GPREL_I",
        48 => "R_RISCV_GPREL_S",
        49 => "R_RISCV_TPREL_I",
        50 => "R_RISCV_TPREL_S",
        51 => "R_RISCV_RELAX",
        52 => "R_RISCV_SUB6",
        53 => "R_RISCV_SET6",
        54 => "R_RISCV_SET8",
        55 => "R_RISCV_SET16",
        56 => "R_RISCV_SET32",
        57 => "R_RISCV_32_PCREL",
        58 => "R_RISCV_IRELATIVE",
        59 => "R_RISCV_PLT32",
        60 => "R_RISCV_SET_ULEB128",
        61 => "R_RISCV_SUB_ULEB128",
        62 => "R_RISCV_TLSDESC_HI20",
        63 => "R_RISCV_TLSDESC_LOAD_LO12",
        64 => "R_RISCV_TLSDESC_ADD_LO12",
        65 => "R_RISCV_TLSDESC_CALL",
        _ => "R_RISCV_?",
    }
}

// --- Instruction immediates --------------------------------------------------------------------

/// `insn` with its I-type immediate (bits 31:20) set to the low 12 bits of `v`.
fn encode_i_imm(insn: u32, v: i64) -> u32 {
    (insn & 0x000f_ffff) | ((v as u32 & 0xfff) << 20)
}

/// `insn` with its S-type immediate (bits 31:25 and 11:7) set to the low 12 bits of `v`.
fn encode_s_imm(insn: u32, v: i64) -> u32 {
    let v = v as u32;
    (insn & 0x01ff_f07f) | (((v >> 5) & 0x7f) << 25) | ((v & 0x1f) << 7)
}

/// `insn` with its U-type immediate (bits 31:12) set to `hi20` (already shifted down).
fn encode_u_imm(insn: u32, hi20: i64) -> u32 {
    (insn & 0xfff) | ((hi20 as u32) << 12)
}

/// `insn` with its B-type offset (`imm[12|10:5]` in 31:25, `imm[4:1|11]` in 11:7) set to `v`.
fn encode_b_imm(insn: u32, v: i64) -> u32 {
    let v = v as u32;
    (insn & 0x01ff_f07f)
        | (((v >> 12) & 1) << 31)
        | (((v >> 5) & 0x3f) << 25)
        | (((v >> 1) & 0xf) << 8)
        | (((v >> 11) & 1) << 7)
}

/// `insn` with its J-type offset (`imm[20|10:1|11|19:12]` in 31:12) set to `v`.
fn encode_j_imm(insn: u32, v: i64) -> u32 {
    let v = v as u32;
    (insn & 0xfff)
        | (((v >> 20) & 1) << 31)
        | (((v >> 1) & 0x3ff) << 21)
        | (((v >> 11) & 1) << 20)
        | (((v >> 12) & 0xff) << 12)
}

/// `insn` with its CB-type offset (`c.beqz`/`c.bnez`: `imm[8|4:3]` in 12:10, `imm[7:6|2:1|5]` in
/// 6:2) set to `v`.
fn encode_cb_imm(insn: u16, v: i64) -> u16 {
    let v = v as u16;
    (insn & 0xe383)
        | (((v >> 8) & 1) << 12)
        | (((v >> 3) & 3) << 10)
        | (((v >> 6) & 3) << 5)
        | (((v >> 1) & 3) << 3)
        | (((v >> 5) & 1) << 2)
}

/// `insn` with its CJ-type offset (`c.j`/`c.jal`: `imm[11|4|9:8|10|6|7|3:1|5]` in 12:2) set to
/// `v`.
fn encode_cj_imm(insn: u16, v: i64) -> u16 {
    let v = v as u16;
    (insn & 0xe003)
        | (((v >> 11) & 1) << 12)
        | (((v >> 4) & 1) << 11)
        | (((v >> 8) & 3) << 9)
        | (((v >> 10) & 1) << 8)
        | (((v >> 6) & 1) << 7)
        | (((v >> 7) & 1) << 6)
        | (((v >> 1) & 7) << 3)
        | (((v >> 5) & 1) << 2)
}

/// `v`'s low `bits` bits, sign-extended.
fn sign_extend(v: u64, bits: u32) -> i64 {
    ((v << (64 - bits)) as i64) >> (64 - bits)
}

/// Whether `v` is an even offset that fits a signed `bits`-bit field.
fn fits_branch(v: i64, bits: u32) -> bool {
    v & 1 == 0 && sign_extend(v as u64, bits) == v
}

/// The `(hi20, lo12)` split of `v` for an `auipc`/`lui` + I/S-type pair: `hi20 << 12` plus the
/// sign-extended `lo12` is `v`.
fn hi_lo(v: i64) -> (i64, i64) {
    let hi = v.wrapping_add(0x800) >> 12;
    (hi, v.wrapping_sub(hi << 12))
}

/// Whether the `hi20` of `v` fits a sign-extended `lui`/`auipc` (always, modulo 2^32, on RV32).
fn hi20_fits(arch: Arch, v: i64) -> bool {
    arch == Arch::RiscV32 || i32::try_from(v.wrapping_add(0x800)).is_ok()
}

/// `S + A - P` as the hardware computes it: modulo 2^32 on RV32.
fn pcrel(arch: Arch, target: u64, p: u64) -> i64 {
    let v = target.wrapping_sub(p);
    match arch {
        Arch::RiscV32 => sign_extend(v, 32),
        _ => v as i64,
    }
}

// --- Veneers -----------------------------------------------------------------------------------

/// `jalr x0, 0(t1)`.
const JR_T1: u32 = 0x0003_0067;
/// `addi x0, x0, 0`.
const NOP: u32 = 0x0000_0013;

/// Writes a veneer jumping to absolute `target` through `t1`, leaving `ra` as the caller set it.
fn fill_veneer(arch: Arch, bytes: &mut [u8], target: u64) {
    if arch == Arch::RiscV64 {
        let auipc_t1 = 0x17 | (T1 << 7);
        let ld_t1 = encode_i_imm(0x3003 | (T1 << 7) | (T1 << 15), 16);
        put_u32(&mut bytes[0..], auipc_t1);
        put_u32(&mut bytes[4..], ld_t1);
        put_u32(&mut bytes[8..], JR_T1);
        put_u32(&mut bytes[12..], NOP);
        put_u64(&mut bytes[16..], target);
    } else {
        let (hi, lo) = hi_lo(sign_extend(target, 32));
        put_u32(&mut bytes[0..], encode_u_imm(0x37 | (T1 << 7), hi));
        put_u32(&mut bytes[4..], encode_i_imm(JR_T1, lo));
    }
}

/// The address of a veneer to `target`, made on first use; `None` when no slot is left.
fn veneer(arch: Arch, tramp: &mut Trampolines, hint: Option<u32>, target: u64) -> Option<u64> {
    tramp.for_target(hint, target, |bytes, _| fill_veneer(arch, bytes, target))
}

// --- Applying ----------------------------------------------------------------------------------

/// The RISC-V back-end: RV64 when `RV64`, else RV32.
pub struct RiscV<const RV64: bool>;

impl<const RV64: bool> RiscV<RV64> {
    const ARCH: Arch = if RV64 { Arch::RiscV64 } else { Arch::RiscV32 };
}

impl<const RV64: bool> Backend for RiscV<RV64> {
    const CLASS: Class = if RV64 { Class::Elf64 } else { Class::Elf32 };
    /// RV32: `lui t1, %hi(T); jalr x0, %lo(T)(t1)`. RV64: `auipc t1, 0; ld t1, 16(t1); jalr x0,
    /// 0(t1); nop; .dword T` (24 bytes, a multiple of 8, so each slot's literal stays 8-byte
    /// aligned: slots start at `slots * 8` into a 16-aligned area).
    const SLOT_SIZE: usize = if RV64 { 24 } else { 8 };

    fn is_noop(kind: u32) -> bool {
        matches!(
            RelocationType(kind),
            R_RISCV_NONE | R_RISCV_ALIGN | R_RISCV_RELAX
        )
    }

    #[inline]
    fn apply(
        r: &Reloc,
        site: &mut Site<'_>,
        sym: &Target,
        tramp: &mut Trampolines,
        state: &mut RelocState,
    ) -> Result<(), Error> {
        let arch = Self::ARCH;
        match RelocationType(r.kind) {
            // Most relocations of real code: first, and inlined into the load's loop.
            R_RISCV_CALL | R_RISCV_CALL_PLT => call(arch, r, site, sym, tramp),
            // Copies: the entry and the symbol stay in registers on the common path.
            _ => other(arch, &{ *r }, site, &{ *sym }, tramp, &mut state.riscv),
        }
    }

    fn finish(state: &RelocState, section: u32) -> Result<(), Error> {
        all_paired(&state.riscv, section)
    }
}

/// [`Site::overflow`] under this back-end's name of `r`'s type.
fn overflow(r: &Reloc, site: &Site<'_>, value: i64) -> Error {
    site.overflow(r, name(r.kind), value)
}

/// Every relocation class but calls, out of the load's loop: one handler per class.
#[inline(never)]
fn other(
    arch: Arch,
    r: &Reloc,
    site: &mut Site<'_>,
    sym: &Target,
    tramp: &mut Trampolines,
    state: &mut Hi20Cache,
) -> Result<(), Error> {
    let t = r.kind;
    site.field(r.offset, width(t))?;
    let sa = sym.value.wrapping_add(r.addend.unwrap_or(0) as u64);
    match RelocationType(t) {
        R_RISCV_NONE | R_RISCV_RELAX | R_RISCV_ALIGN => Ok(()),
        R_RISCV_32 | R_RISCV_64 | R_RISCV_32_PCREL => data(arch, r, site, sa),
        R_RISCV_ADD8 | R_RISCV_SUB8 | R_RISCV_SET8 | R_RISCV_ADD16 | R_RISCV_SUB16
        | R_RISCV_SET16 | R_RISCV_ADD32 | R_RISCV_SUB32 | R_RISCV_SET32 | R_RISCV_ADD64
        | R_RISCV_SUB64 | R_RISCV_SUB6 | R_RISCV_SET6 => label_difference(r, site, sa),
        R_RISCV_SET_ULEB128 | R_RISCV_SUB_ULEB128 => uleb128(r, site, sa, state),
        R_RISCV_HI20 | R_RISCV_LO12_I | R_RISCV_LO12_S => absolute(arch, r, site, sa),
        R_RISCV_PCREL_HI20 => pcrel_hi20(arch, r, site, sa, state),
        R_RISCV_PCREL_LO12_I | R_RISCV_PCREL_LO12_S => pcrel_lo12(r, site, sym, state),
        R_RISCV_JAL | R_RISCV_BRANCH | R_RISCV_RVC_BRANCH | R_RISCV_RVC_JUMP => {
            branch(arch, r, site, sa, sym.slot, tramp)
        }
        R_RISCV_CALL | R_RISCV_CALL_PLT => call(arch, r, site, sym, tramp),
        _ => Err(site.unsupported(r, name(t))),
    }
}

/// `R_RISCV_32`, `R_RISCV_64`, `R_RISCV_32_PCREL`: data words.
fn data(arch: Arch, r: &Reloc, site: &mut Site<'_>, sa: u64) -> Result<(), Error> {
    let off = r.offset;
    match RelocationType(r.kind) {
        R_RISCV_32 => put_u32(site.field(off, 4)?, sa as u32),
        R_RISCV_64 => put_u64(site.field(off, 8)?, sa),
        _ => {
            let v = pcrel(arch, sa, site.place(off));
            let v = i32::try_from(v).map_err(|_| overflow(r, site, v))?;
            put_u32(site.field(off, 4)?, v as u32);
        }
    }
    Ok(())
}

/// Label differences: `ADD` then `SUB` at the same offset (`.word b - a`), or `SET`.
fn label_difference(r: &Reloc, site: &mut Site<'_>, sa: u64) -> Result<(), Error> {
    let t = r.kind;
    let f = site.field(r.offset, width(t))?;
    match RelocationType(t) {
        R_RISCV_ADD8 | R_RISCV_SUB8 | R_RISCV_SET8 => f[0] = arith(t, u64::from(f[0]), sa) as u8,
        R_RISCV_ADD16 | R_RISCV_SUB16 | R_RISCV_SET16 => {
            put_u16(f, arith(t, get_u16(f).into(), sa) as u16)
        }
        R_RISCV_ADD32 | R_RISCV_SUB32 | R_RISCV_SET32 => {
            put_u32(f, arith(t, get_u32(f).into(), sa) as u32)
        }
        R_RISCV_ADD64 | R_RISCV_SUB64 => {
            let old = u64::from_le_bytes(f[..8].try_into().unwrap_or([0; 8]));
            put_u64(f, arith(t, old, sa));
        }
        _ => {
            // SUB6, SET6: the low 6 bits of a byte.
            let v = arith(t, u64::from(f[0] & 0x3f), sa) as u8;
            f[0] = (f[0] & 0xc0) | (v & 0x3f);
        }
    }
    Ok(())
}

/// `.uleb128 b - a`: `SET_ULEB128` then `SUB_ULEB128` at the same offset; like ld, write only
/// the difference.
fn uleb128(r: &Reloc, site: &mut Site<'_>, sa: u64, state: &mut Hi20Cache) -> Result<(), Error> {
    let (off, section) = (r.offset, site.section);
    if RelocationType(r.kind) == R_RISCV_SET_ULEB128 {
        if state.uleb_set.is_some() {
            return Err(Error::malformed(UNPAIRED_ULEB, Some(section), off));
        }
        read_uleb128(site, off)?;
        state.uleb_set = Some((off, sa));
        return Ok(());
    }
    match state.uleb_set.take() {
        Some((set_at, set)) if set_at == off => {
            let overflow = |value| Error::RelocationOverflow {
                type_name: name(r.kind),
                section,
                offset: off,
                value,
            };
            set_uleb128(site, off, set.wrapping_sub(sa), &overflow)
        }
        _ => Err(Error::malformed(UNPAIRED_ULEB, Some(section), off)),
    }
}

/// Absolute addresses in code: `lui` (`HI20`) and the I/S-type instruction after it (`LO12`).
fn absolute(arch: Arch, r: &Reloc, site: &mut Site<'_>, sa: u64) -> Result<(), Error> {
    let f = site.field(r.offset, 4)?;
    let insn = get_u32(f);
    let insn = match RelocationType(r.kind) {
        R_RISCV_HI20 => {
            let v = sign_extend_for(arch, sa);
            if !hi20_fits(arch, v) {
                return Err(overflow(r, site, v));
            }
            encode_u_imm(insn, hi_lo(v).0)
        }
        R_RISCV_LO12_I => encode_i_imm(insn, sa as i64),
        _ => encode_s_imm(insn, sa as i64),
    };
    put_u32(site.field(r.offset, 4)?, insn);
    Ok(())
}

/// `auipc` of a PC-relative pair: remembered for its `PCREL_LO12`s, and patches those that came
/// first.
fn pcrel_hi20(
    arch: Arch,
    r: &Reloc,
    site: &mut Site<'_>,
    sa: u64,
    state: &mut Hi20Cache,
) -> Result<(), Error> {
    let p = site.place(r.offset);
    let v = pcrel(arch, sa, p);
    if !hi20_fits(arch, v) {
        return Err(overflow(r, site, v));
    }
    let f = site.field(r.offset, 4)?;
    put_u32(f, encode_u_imm(get_u32(f), hi_lo(v).0));
    state.remember(p, v);
    for slot in state.pending.iter_mut() {
        if let Some(lo) = slot.filter(|lo| lo.auipc == p) {
            patch_lo12(site, lo.offset, v.wrapping_add(lo.addend), lo.store)?;
            *slot = None;
        }
    }
    Ok(())
}

/// The low half of a PC-relative pair: its symbol is the `auipc`'s label, its value the low 12
/// bits of that `auipc`'s `S + A - P` (waits when the `auipc` comes later).
fn pcrel_lo12(
    r: &Reloc,
    site: &mut Site<'_>,
    sym: &Target,
    state: &mut Hi20Cache,
) -> Result<(), Error> {
    let (s, a, off) = (sym.value, r.addend.unwrap_or(0), r.offset);
    let store = RelocationType(r.kind) == R_RISCV_PCREL_LO12_S;
    if let Some(v) = state.find(s) {
        return patch_lo12(site, off, v.wrapping_add(a), store);
    }
    // Its PCREL_HI20 may still come (code laid out out of order).
    let lo = PendingLo {
        auipc: s,
        offset: off,
        addend: a,
        store,
    };
    let free = state.pending.iter_mut().find(|e| e.is_none());
    *free.ok_or(Error::PcrelLoUnpaired {
        section: site.section,
        offset: off,
    })? = Some(lo);
    Ok(())
}

/// `JAL` (through a veneer when out of reach), conditional branches, compressed jumps.
fn branch(
    arch: Arch,
    r: &Reloc,
    site: &mut Site<'_>,
    sa: u64,
    slot: Option<u32>,
    tramp: &mut Trampolines,
) -> Result<(), Error> {
    let off = r.offset;
    let p = site.place(off);
    let mut v = pcrel(arch, sa, p);
    let t = RelocationType(r.kind);
    if t == R_RISCV_JAL && !fits_branch(v, 21) {
        let via = veneer(arch, tramp, slot, sa).ok_or_else(|| overflow(r, site, v))?;
        v = pcrel(arch, via, p);
    }
    let bits = match t {
        R_RISCV_JAL => 21,
        R_RISCV_BRANCH => 13,
        R_RISCV_RVC_BRANCH => 9,
        _ => 12,
    };
    if !fits_branch(v, bits) {
        return Err(overflow(r, site, v));
    }
    if matches!(t, R_RISCV_JAL | R_RISCV_BRANCH) {
        let f = site.field(off, 4)?;
        let insn = get_u32(f);
        let insn = if t == R_RISCV_JAL {
            encode_j_imm(insn, v)
        } else {
            encode_b_imm(insn, v)
        };
        put_u32(f, insn);
    } else {
        let f = site.field(off, 2)?;
        let insn = get_u16(f);
        let insn = if t == R_RISCV_RVC_BRANCH {
            encode_cb_imm(insn, v)
        } else {
            encode_cj_imm(insn, v)
        };
        put_u16(f, insn);
    }
    Ok(())
}

/// `CALL`/`CALL_PLT` (`auipc` + `jalr`), through a veneer when out of reach (RV64 only: RV32
/// reaches everything).
#[inline(always)]
fn call(
    arch: Arch,
    r: &Reloc,
    site: &mut Site<'_>,
    sym: &Target,
    tramp: &mut Trampolines,
) -> Result<(), Error> {
    let off = r.offset;
    let sa = sym.value.wrapping_add(r.addend.unwrap_or(0) as u64);
    let p = site.place(off);
    let f = site.field(off, 8)?;
    if arch == Arch::RiscV32 {
        // Everything is in reach, modulo 2^32: the same bits as `hi_lo` below, in 32-bit
        // arithmetic (an RV32 core pays twice for each 64-bit operation), by words when the
        // pair is word-aligned (RVC code may leave it at 2 mod 4).
        let v = (sa as u32).wrapping_sub(p as u32);
        let hi = v.wrapping_add(0x800) & !0xfff;
        if let Ok(w) = object::pod::slice_from_all_bytes_mut::<u32>(f) {
            w[0] = ((u32::from_le(w[0]) & 0xfff) | hi).to_le();
            w[1] = ((u32::from_le(w[1]) & 0x000f_ffff) | v << 20).to_le();
        } else {
            let (auipc, jalr) = (get_u32(&f[0..4]), get_u32(&f[4..8]));
            put_u32(&mut f[0..4], (auipc & 0xfff) | hi);
            put_u32(&mut f[4..8], (jalr & 0x000f_ffff) | v << 20);
        }
        return Ok(());
    }
    let (auipc, jalr) = (get_u32(&f[0..4]), get_u32(&f[4..8]));
    let mut v = pcrel(arch, sa, p);
    if !hi20_fits(arch, v) {
        let via = veneer(arch, tramp, sym.slot, sa).ok_or_else(|| overflow(r, site, v))?;
        v = pcrel(arch, via, p);
        if !hi20_fits(arch, v) {
            return Err(overflow(r, site, v));
        }
    }
    let (hi, lo) = hi_lo(v);
    let f = site.field(off, 8)?;
    put_u32(&mut f[0..4], encode_u_imm(auipc, hi));
    put_u32(&mut f[4..8], encode_i_imm(jalr, lo));
    Ok(())
}

/// Bytes of the field a relocation type patches (checked before anything is computed, so a bad
/// offset is reported as such).
fn width(t: u32) -> usize {
    match RelocationType(t) {
        R_RISCV_64 | R_RISCV_ADD64 | R_RISCV_SUB64 => 8,
        R_RISCV_CALL | R_RISCV_CALL_PLT => 8,
        R_RISCV_RVC_BRANCH | R_RISCV_RVC_JUMP | R_RISCV_ADD16 | R_RISCV_SUB16 | R_RISCV_SET16 => 2,
        R_RISCV_ADD8 | R_RISCV_SUB8 | R_RISCV_SUB6 | R_RISCV_SET6 | R_RISCV_SET8
        | R_RISCV_SET_ULEB128 | R_RISCV_SUB_ULEB128 => 1,
        R_RISCV_NONE | R_RISCV_RELAX | R_RISCV_ALIGN => 0,
        _ => 4,
    }
}

/// Why a `SET_ULEB128`/`SUB_ULEB128` is rejected.
const UNPAIRED_ULEB: &str =
    "R_RISCV_SET_ULEB128 and R_RISCV_SUB_ULEB128 must come in pairs, SET first, at one offset";

/// Checks that every `PCREL_LO12` of the relocation section just applied found its
/// `PCREL_HI20`, and every `SET_ULEB128` its `SUB_ULEB128`.
fn all_paired(state: &Hi20Cache, section: u32) -> Result<(), Error> {
    if let Some((off, _)) = state.uleb_set {
        return Err(Error::malformed(UNPAIRED_ULEB, Some(section), off));
    }
    match state.pending.iter().flatten().next() {
        Some(lo) => Err(Error::PcrelLoUnpaired {
            section,
            offset: lo.offset,
        }),
        None => Ok(()),
    }
}

/// `S + A` on RV32 is an address modulo 2^32: sign-extend it, so `lui` of a high address fits.
fn sign_extend_for(arch: Arch, v: u64) -> i64 {
    match arch {
        Arch::RiscV32 => sign_extend(v, 32),
        _ => v as i64,
    }
}

/// The new value of a field holding `old` for `ADD*`, `SUB*` and `SET*` relocations.
fn arith(t: u32, old: u64, sa: u64) -> u64 {
    match RelocationType(t) {
        R_RISCV_ADD8 | R_RISCV_ADD16 | R_RISCV_ADD32 | R_RISCV_ADD64 => old.wrapping_add(sa),
        R_RISCV_SUB6 | R_RISCV_SUB8 | R_RISCV_SUB16 | R_RISCV_SUB32 | R_RISCV_SUB64 => {
            old.wrapping_sub(sa)
        }
        _ => sa,
    }
}

/// Writes the `PCREL_LO12` of `v` (the `PCREL_HI20`'s `S + A - P`, plus the LO12's addend).
fn patch_lo12(site: &mut Site<'_>, offset: u64, v: i64, store: bool) -> Result<(), Error> {
    let f = site.field(offset, 4)?;
    let insn = get_u32(f);
    let lo = hi_lo(v).1;
    put_u32(
        f,
        if store {
            encode_s_imm(insn, lo)
        } else {
            encode_i_imm(insn, lo)
        },
    );
    Ok(())
}

/// The ULEB128 at `offset`: its value (low 64 bits) and its length in bytes.
fn read_uleb128(site: &mut Site<'_>, offset: u64) -> Result<(u64, usize), Error> {
    let mut value = 0u64;
    let mut len = 0usize;
    loop {
        let b = site.field(offset + len as u64, 1)?[0];
        if len < 10 {
            value |= u64::from(b & 0x7f) << (7 * len);
        }
        len += 1;
        if b & 0x80 == 0 {
            return Ok((value, len));
        }
    }
}

/// Rewrites the ULEB128 at `offset` to `value`, keeping its length (ld does the same: the bytes
/// after it cannot move); a value that needs more bytes is an overflow.
fn set_uleb128(
    site: &mut Site<'_>,
    offset: u64,
    value: u64,
    overflow: &dyn Fn(i64) -> Error,
) -> Result<(), Error> {
    let (_, len) = read_uleb128(site, offset)?;
    if len < 10 && value >> (7 * len) != 0 {
        return Err(overflow(value as i64));
    }
    let f = site.field(offset, len)?;
    for (i, b) in f.iter_mut().enumerate() {
        let bits = if i < 10 {
            (value >> (7 * i)) as u8 & 0x7f
        } else {
            0
        };
        *b = bits | if i + 1 < len { 0x80 } else { 0 };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The J-type offset of `insn`, sign-extended.
    fn decode_j_imm(insn: u32) -> i64 {
        let v = (((insn >> 31) & 1) << 20)
            | (((insn >> 21) & 0x3ff) << 1)
            | (((insn >> 20) & 1) << 11)
            | (((insn >> 12) & 0xff) << 12);
        sign_extend(v.into(), 21)
    }

    #[test]
    fn immediates_round_trip_through_their_encoders() {
        for v in [-4096i64, -2, 0, 2, 0x7fe, 4094] {
            let insn = encode_b_imm(0x0000_0063, v);
            let back = (((insn >> 31) & 1) << 12)
                | (((insn >> 25) & 0x3f) << 5)
                | (((insn >> 8) & 0xf) << 1)
                | (((insn >> 7) & 1) << 11);
            assert_eq!(sign_extend(back.into(), 13), v);
        }
        for v in [-(1i64 << 20), -2, 0, 2, (1 << 20) - 2] {
            assert_eq!(decode_j_imm(encode_j_imm(0x6f, v)), v);
        }
        // c.j +2046 and c.beqz -256, as gas assembles them.
        assert_eq!(encode_cj_imm(0xa001, 2046), 0xaffd);
        assert_eq!(encode_cb_imm(0xc001, -256), 0xd001);
    }

    #[test]
    fn hi_lo_split_recombines() {
        for v in [
            0i64,
            0x7ff,
            0x800,
            -0x800,
            -0x801,
            0x1234_5678,
            -0x8000_0000,
        ] {
            let (hi, lo) = hi_lo(v);
            assert!((-0x800..0x800).contains(&lo));
            assert_eq!((hi << 12) + lo, v);
        }
    }
}
