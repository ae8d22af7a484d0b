//! The ARM back-end against GNU ld (`arm-none-eabi-ld`): a C corpus compiled for Cortex-M0+, M3,
//! M4F and M33 at several optimisation levels, linked by both and compared byte for byte, and
//! hand-written assembly for the edges (branch reach, veneers, MOVW/MOVT, PC-relative loads,
//! ARM state, unsupported types). Sources are in `tests/arm/`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::gnu_ld::{Oracle, compare, exports_for};
use common::scratch;
use llext_loader::Error;
use llext_loader::arch::Arch;
use llext_loader::link::{Linked, LinkedExtra, link};
use object::{Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationTarget};

/// Where the extension is placed (SRAM on most Cortex-M parts).
const BASE: u64 = 0x2000_0000;
/// Exports near the extension: every call reaches them directly (even a `B<cond>.W`, and an
/// ARMv6-M `BL` as ld sees it), so ld and the loader must produce the same bytes.
const NEAR_EXPORTS: u64 = BASE + 0x8_0000;

const R_ARM_THM_CALL: u32 = 10;
const R_ARM_THM_JUMP24: u32 = 30;

/// The CPUs of the corpus, with their compiler flags.
const CPUS: &[(&str, &[&str])] = &[
    ("m0plus", &["-mcpu=cortex-m0plus", "-mthumb"]),
    ("m3", &["-mcpu=cortex-m3", "-mthumb"]),
    (
        "m4f",
        &[
            "-mcpu=cortex-m4",
            "-mthumb",
            "-mfloat-abi=hard",
            "-mfpu=fpv4-sp-d16",
        ],
    ),
    ("m33", &["-mcpu=cortex-m33", "-mthumb"]),
];

/// The C corpus.
const SOURCES: &[&str] = &["calls.c", "data.c", "switch.c", "ctors.c", "float.c"];

/// ld's Thumb-only long branch stub, as the loader writes it: code, then the literal at 12.
const THUMB_VENEER_CODE: [u8; 12] = [
    0x01, 0xb4, 0x02, 0x48, 0x84, 0x46, 0x01, 0xbc, 0x60, 0x47, 0x00, 0xbf,
];
/// `ldr pc, [pc, #-4]`, then the literal.
const ARM_VENEER_CODE: u32 = 0xe51f_f004;

fn source(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/arm")
        .join(name)
}

/// Compiles or assembles `tests/arm/{name}` with `arm-none-eabi-gcc -c FLAGS`.
fn build(dir: &Path, label: &str, name: &str, flags: &[&str]) -> Vec<u8> {
    let o = dir.join(format!("{label}.o"));
    let out = Command::new("arm-none-eabi-gcc")
        .args(flags)
        .arg("-c")
        .arg(source(name))
        .arg("-o")
        .arg(&o)
        .output()
        .expect("run arm-none-eabi-gcc");
    assert!(
        out.status.success(),
        "{label}: arm-none-eabi-gcc {flags:?} {name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&o).unwrap()
}

/// The ld comparison with exports (Thumb functions) from `exports_base`.
fn oracle(exports_base: u64) -> Oracle<'static> {
    Oracle {
        ld: "arm-none-eabi-ld",
        ld_args: &[],
        base: BASE,
        exports_base,
        thumb_bit: true,
        arch: Arch::Arm,
    }
}

/// Links with the loader only (for cases ld would lay out differently, with its own stubs).
fn link_alone(obj: &[u8], exports_base: u64) -> Result<Linked, Error> {
    let exports = exports_for(obj, &oracle(exports_base));
    link(obj, exports, BASE, Some(Arch::Arm)).map_err(|e| e.error)
}

/// Index of the section called `name` in `obj`.
fn section_index(obj: &[u8], name: &str) -> u32 {
    let file = object::File::parse(obj).unwrap();
    file.section_by_name(name)
        .unwrap_or_else(|| panic!("no section {name}"))
        .index()
        .0 as u32
}

/// The linked section with input index `index`: (address, bytes).
fn linked_section(linked: &Linked, index: u32) -> (u64, &[u8]) {
    let s = linked
        .sections
        .iter()
        .find(|s| s.index == index)
        .expect("section loaded");
    (s.addr, s.bytes.as_deref().expect("section has contents"))
}

fn half(b: &[u8], at: usize) -> u32 {
    u32::from(u16::from_le_bytes([b[at], b[at + 1]]))
}

fn word(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// Where the Thumb `BL`/`BLX`/`B.W` at `at` in `b` (loaded at `addr`) goes, and whether it is a
/// `BLX` (bit 12 of the second halfword clear on a call).
fn thumb_branch_target(b: &[u8], addr: u64, at: usize) -> (u64, bool) {
    let (hw1, hw2) = (half(b, at), half(b, at + 2));
    let s = (hw1 >> 10) & 1;
    let i1 = 1 ^ ((hw2 >> 13) & 1) ^ s;
    let i2 = 1 ^ ((hw2 >> 11) & 1) ^ s;
    let raw = (s << 24) | (i1 << 23) | (i2 << 22) | ((hw1 & 0x3ff) << 12) | ((hw2 & 0x7ff) << 1);
    let off = i64::from((raw << 7) as i32 >> 7);
    let pc = addr as i64 + at as i64 + 4;
    let blx = hw2 & 0xd000 == 0xc000;
    let from = if blx { pc & !3 } else { pc };
    ((from + off) as u64, blx)
}

/// Where the ARM `B`/`BL` at `at` in `b` (loaded at `addr`) goes.
fn arm_branch_target(b: &[u8], addr: u64, at: usize) -> u64 {
    let w = word(b, at);
    let off = i64::from(((w << 8) as i32) >> 6);
    (addr as i64 + at as i64 + 8 + off) as u64
}

/// One veneer found in the trampoline area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Veneer {
    /// Thumb code at `addr` branching to `dest` (bit 0: Thumb).
    Thumb { addr: u64, dest: u32 },
    /// ARM code at `addr` branching to `dest`.
    Arm { addr: u64, dest: u32 },
}

impl Veneer {
    fn addr(self) -> u64 {
        match self {
            Veneer::Thumb { addr, .. } | Veneer::Arm { addr, .. } => addr,
        }
    }
}

/// Decodes every used slot of the trampoline area: 8-byte keys, then 16-byte slots.
fn veneers(extra: Option<&LinkedExtra>) -> Vec<Veneer> {
    let Some(extra) = extra else {
        return Vec::new();
    };
    let slots = extra.bytes.len() / (8 + 16);
    let mut found = Vec::new();
    for i in 0..slots {
        let key = u64::from_le_bytes(extra.bytes[i * 8..i * 8 + 8].try_into().unwrap());
        if key == 0 {
            continue;
        }
        let off = slots * 8 + i * 16;
        let slot = &extra.bytes[off..off + 16];
        let addr = extra.addr + off as u64;
        assert_eq!(addr % 4, 0, "veneer at {addr:#x} not word-aligned");
        if slot[..12] == THUMB_VENEER_CODE {
            found.push(Veneer::Thumb {
                addr,
                dest: word(slot, 12),
            });
        } else {
            assert_eq!(word(slot, 0), ARM_VENEER_CODE, "slot {i}: {slot:02x?}");
            found.push(Veneer::Arm {
                addr,
                dest: word(slot, 4),
            });
        }
    }
    found
}

/// The export address the oracle gives `name`.
fn export_addr(obj: &[u8], exports_base: u64, name: &str) -> u64 {
    exports_for(obj, &oracle(exports_base))
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, a)| a)
        .unwrap_or_else(|| panic!("{name} is not an export"))
}

/// Code generation variants: plain, `-mlong-calls` (addresses in literal pools) and
/// `-mpure-code` (execute-only: addresses built with MOVW/MOVT, or byte by byte on ARMv6-M).
const CODEGEN: &[(&str, &[&str])] = &[
    ("", &[]),
    ("-long", &["-mlong-calls"]),
    ("-pure", &["-mpure-code"]),
];

/// Compiles the whole corpus for one CPU (every source at -O0/-Os/-O2, with and without
/// -ffunction-sections -fdata-sections, each [`CODEGEN`] variant) and compares each object with
/// ld. Returns the relocation types seen.
fn corpus_matches_ld(cpu: &str, cpu_flags: &[&str]) -> BTreeSet<u32> {
    let dir = scratch(&format!("ld-arm-{cpu}"));
    let mut seen = BTreeSet::new();
    for src in SOURCES {
        for opt in ["-O0", "-Os", "-O2"] {
            for sections in [false, true] {
                for (variant, extra) in CODEGEN {
                    let mut flags = cpu_flags.to_vec();
                    flags.push(opt);
                    if sections {
                        flags.extend(["-ffunction-sections", "-fdata-sections"]);
                    }
                    flags.extend(*extra);
                    let label = format!(
                        "{}-{cpu}{opt}{}{variant}",
                        src.trim_end_matches(".c"),
                        if sections { "-sections" } else { "" },
                    );
                    let obj = build(&dir, &label, src, &flags);
                    seen.extend(relocation_types(&obj));
                    let linked = compare(&dir, &label, &obj, &oracle(NEAR_EXPORTS));
                    assert_eq!(
                        veneers(linked.extra.as_ref()),
                        [],
                        "{label}: a veneer for a call in reach"
                    );
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    seen
}

/// Every relocation type in `obj`.
fn relocation_types(obj: &[u8]) -> BTreeSet<u32> {
    let file = object::File::parse(obj).unwrap();
    file.sections()
        .flat_map(|s| s.relocations().collect::<Vec<_>>())
        .filter_map(|(_, r)| match r.flags() {
            RelocationFlags::Elf { r_type } => Some(r_type.0),
            _ => None,
        })
        .collect()
}

#[test]
fn cortex_m0plus_corpus_matches_gnu_ld() {
    let seen = corpus_matches_ld(CPUS[0].0, CPUS[0].1);
    // Calls, data pointers, constructors, and execute-only address bytes.
    for t in [R_ARM_THM_CALL, 2, 38, 132, 133, 134, 135] {
        assert!(seen.contains(&t), "type {t} not in the corpus: {seen:?}");
    }
}

#[test]
fn cortex_m3_corpus_matches_gnu_ld() {
    let seen = corpus_matches_ld(CPUS[1].0, CPUS[1].1);
    // Tail calls and execute-only MOVW/MOVT besides calls and data.
    for t in [R_ARM_THM_CALL, R_ARM_THM_JUMP24, 2, 38, 47, 48] {
        assert!(seen.contains(&t), "type {t} not in the corpus: {seen:?}");
    }
}

#[test]
fn cortex_m4f_corpus_matches_gnu_ld() {
    corpus_matches_ld(CPUS[2].0, CPUS[2].1);
}

#[test]
fn cortex_m33_corpus_matches_gnu_ld() {
    corpus_matches_ld(CPUS[3].0, CPUS[3].1);
}

/// Assembles `reach.s` with the branch `kind` and links it with `far` at `dist` bytes from the
/// branch's PC (the branch is the first instruction of `.text`, at `BASE`).
fn reach(dir: &Path, kind: u32, dist: i64) -> (String, Vec<u8>, u64) {
    let label = format!(
        "reach{kind}{}{:x}",
        if dist < 0 { "m" } else { "p" },
        dist.abs()
    );
    let obj = build(
        dir,
        &label,
        "reach.s",
        &["-mcpu=cortex-m3", &format!("-Wa,--defsym,KIND={kind}")],
    );
    let exports_base = (BASE as i64 + 4 + dist) as u64;
    (label, obj, exports_base)
}

/// The reach of each branch kind in `reach.s`: (kind, name, most negative, most positive).
/// For `BL`/`B.W` the positive limit is ld's, a multiple of 4 (so a `BLX` reaches it too); the
/// instruction itself reaches 2 bytes further, see [`ARCH_MAX_BL`].
const REACH: &[(u32, &str, i64, i64)] = &[
    (1, "R_ARM_THM_CALL", -0x100_0000, 0xff_fffc),
    (2, "R_ARM_THM_JUMP24", -0x100_0000, 0xff_fffc),
    (3, "R_ARM_THM_JUMP19", -0x10_0000, 0x0f_fffe),
    (4, "R_ARM_THM_JUMP11", -0x800, 0x7fe),
    (5, "R_ARM_THM_JUMP8", -0x100, 0xfe),
];

/// The furthest forward a Thumb-2 `BL`/`B.W` reaches (ld stops 2 bytes short and uses a stub).
const ARCH_MAX_BL: i64 = 0xff_fffe;

#[test]
fn thumb_branches_at_their_maximum_reach_match_gnu_ld() {
    let dir = scratch("ld-arm-reach");
    for &(kind, _, min, max) in REACH {
        for dist in [min, max] {
            let (label, obj, exports_base) = reach(&dir, kind, dist);
            let linked = compare(&dir, &label, &obj, &oracle(exports_base));
            let (addr, text) = linked_section(&linked, section_index(&obj, ".text"));
            assert_eq!(addr, BASE, "{label}: .text placed at the base");
            if kind <= 2 {
                let (to, blx) = thumb_branch_target(text, addr, 0);
                assert_eq!(to, exports_base, "{label}");
                assert!(!blx, "{label}: BL, not BLX, to a Thumb function");
            }
            assert_eq!(veneers(linked.extra.as_ref()), [], "{label}");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn thumb_call_and_jump_reach_two_bytes_past_lds_limit_directly() {
    let dir = scratch("ld-arm-archmax");
    for &(kind, name, _, _) in &REACH[..2] {
        let (label, obj, exports_base) = reach(&dir, kind, ARCH_MAX_BL);
        let linked = link_alone(&obj, exports_base).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (addr, text) = linked_section(&linked, section_index(&obj, ".text"));
        assert_eq!(thumb_branch_target(text, addr, 0), (exports_base, false));
        assert_eq!(veneers(linked.extra.as_ref()), [], "{label}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn thumb_call_and_jump_one_past_reach_go_through_a_veneer() {
    let dir = scratch("ld-arm-veneer");
    for &(kind, name, min, _) in &REACH[..2] {
        for dist in [min - 2, ARCH_MAX_BL + 2] {
            let (label, obj, exports_base) = reach(&dir, kind, dist);
            let linked = link_alone(&obj, exports_base).unwrap_or_else(|e| panic!("{name}: {e}"));
            let (addr, text) = linked_section(&linked, section_index(&obj, ".text"));
            assert_eq!(addr, BASE);
            let found = veneers(linked.extra.as_ref());
            assert_eq!(
                found,
                [Veneer::Thumb {
                    addr: found[0].addr(),
                    dest: exports_base as u32 | 1
                }],
                "{label}: one Thumb veneer whose literal is the target with the Thumb bit"
            );
            let (to, blx) = thumb_branch_target(text, addr, 0);
            assert_eq!(
                to,
                found[0].addr(),
                "{label}: the branch lands on the veneer"
            );
            assert!(!blx, "{label}: the veneer is Thumb code");
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn short_thumb_branches_one_past_reach_overflow() {
    let dir = scratch("ld-arm-overflow");
    for &(kind, name, min, max) in &REACH[2..] {
        for dist in [min - 2, max + 2] {
            let (label, obj, exports_base) = reach(&dir, kind, dist);
            match link_alone(&obj, exports_base) {
                Err(Error::RelocationOverflow { type_name, .. }) => {
                    assert_eq!(type_name, name, "{label}")
                }
                other => panic!("{label}: expected an overflow of {name}, got {other:?}"),
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn movw_movt_and_pc_relative_loads_match_gnu_ld() {
    let dir = scratch("ld-arm-pcrel");
    for (cpu, flags) in &CPUS[1..] {
        let label = format!("pcrel-{cpu}");
        let obj = build(&dir, &label, "pcrel.s", flags);
        let types = relocation_types(&obj);
        for t in [47, 48, 49, 50, 11, 54, 53] {
            assert!(types.contains(&t), "pcrel.s lacks type {t}: {types:?}");
        }
        compare(&dir, &label, &obj, &oracle(NEAR_EXPORTS));
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn pc_relative_loads_and_adr_reach_backwards() {
    // ld takes a negative THM_PC12 offset for an overflow, and drops bit 0 of a Thumb function
    // behind an ADR (it takes the absolute value, then sets the bit), so the bytes are checked
    // against the instruction semantics: Align(PC, 4) - imm12.
    let dir = scratch("ld-arm-back");
    let obj = build(&dir, "backward", "backward.s", &["-mcpu=cortex-m3"]);
    let linked = link_alone(&obj, NEAR_EXPORTS).unwrap();
    let (addr, text) = linked_section(&linked, section_index(&obj, ".text"));
    let lit = addr;
    let back = addr + 4;
    for (at, want) in [(6usize, lit), (10, lit), (14, back | 1)] {
        let (hw1, hw2) = (half(text, at), half(text, at + 2));
        let pc = (addr + at as u64 + 4) & !3;
        let imm = u64::from(hw2 & 0xff)
            | (u64::from((hw1 >> 10) & 1) << 11)
            | (u64::from((hw2 >> 12) & 7) << 8);
        let got = if at == 6 {
            assert_eq!(hw1 & 0x80, 0, "LDR.W with U clear");
            pc - u64::from(hw2 & 0xfff)
        } else {
            assert_eq!(hw1 & 0xfbf0, 0xf2a0, "SUBW at {at}: {hw1:04x}");
            pc - imm
        };
        assert_eq!(got, want, "instruction at {at}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn data_relocations_match_gnu_ld() {
    let dir = scratch("ld-arm-data");
    let obj = build(&dir, "data_relocs", "data_relocs.s", &["-mcpu=cortex-m3"]);
    let types = relocation_types(&obj);
    for t in [0, 2, 3, 38, 40, 42] {
        assert!(
            types.contains(&t),
            "data_relocs.s lacks type {t}: {types:?}"
        );
    }
    compare(&dir, "data_relocs", &obj, &oracle(NEAR_EXPORTS));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn arm_state_calls_and_interworking_match_gnu_ld() {
    let dir = scratch("ld-arm-armstate");
    let obj = build(&dir, "arm_state", "arm_state.s", &["-march=armv7-a"]);
    let types = relocation_types(&obj);
    for t in [28, 29, 43, 44, 45, 46, 10] {
        assert!(types.contains(&t), "arm_state.s lacks type {t}: {types:?}");
    }
    let linked = compare(&dir, "arm_state", &obj, &oracle(NEAR_EXPORTS));
    let (addr, text) = linked_section(&linked, section_index(&obj, ".text.arm"));
    assert_eq!(word(text, 0) >> 25, 0x7d, "BL to a Thumb export became BLX");
    assert_eq!(
        arm_branch_target(text, addr, 4),
        linked_section(&linked, section_index(&obj, ".text.armhelp")).0
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn arm_state_calls_out_of_reach_share_one_arm_veneer_per_target() {
    let dir = scratch("ld-arm-armfar");
    let obj = build(
        &dir,
        "arm_far",
        "arm_far.s",
        &["-march=armv7-a", "-Wa,--defsym,FAR=1"],
    );
    let far = BASE + 0x400_0000; // 64 MiB: beyond ARM's +-32 MiB
    let linked = link_alone(&obj, far).unwrap();
    let (addr, text) = linked_section(&linked, section_index(&obj, ".text"));
    let found = arm_veneers(linked.extra.as_ref());
    assert_eq!(found.len(), 2, "one veneer per target: {found:?}");
    let (fw_a, fw_b) = (
        export_addr(&obj, far, "fw_a") as u32,
        export_addr(&obj, far, "fw_b") as u32,
    );
    assert_eq!(
        word(text, 0) >> 24,
        0xeb,
        "BL stays BL (to ARM veneer code)"
    );
    assert_eq!(arm_branch_target(text, addr, 0), found[&fw_a]);
    assert_eq!(arm_branch_target(text, addr, 4), found[&fw_a]);
    assert_eq!(arm_branch_target(text, addr, 8), found[&fw_b]);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn arm_state_branch_to_thumb_code_goes_through_a_veneer() {
    let dir = scratch("ld-arm-armb");
    let obj = build(
        &dir,
        "arm_b",
        "arm_far.s",
        &["-march=armv7-a", "-Wa,--defsym,FAR=0"],
    );
    let linked = link_alone(&obj, NEAR_EXPORTS).unwrap();
    let (addr, text) = linked_section(&linked, section_index(&obj, ".text"));
    let fw_a = export_addr(&obj, NEAR_EXPORTS, "fw_a");
    let found = arm_veneers(linked.extra.as_ref());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        arm_branch_target(text, addr, 0),
        found[&(fw_a as u32)],
        "B cannot change state: it goes to a veneer that does"
    );
    assert_eq!(
        word(text, 4) >> 25,
        0x7d,
        "BL to Thumb in reach becomes BLX"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// The ARM veneers of the trampoline area, by destination.
fn arm_veneers(extra: Option<&LinkedExtra>) -> BTreeMap<u32, u64> {
    veneers(extra)
        .into_iter()
        .map(|v| match v {
            Veneer::Arm { addr, dest } => (dest, addr),
            Veneer::Thumb { .. } => panic!("ARM callers need ARM veneers: {v:?}"),
        })
        .collect()
}

#[test]
fn unsupported_relocations_are_named() {
    let dir = scratch("ld-arm-unsupported");
    for (n, name) in [
        (1, "R_ARM_GOT_BREL"),
        (2, "R_ARM_TLS_LE32"),
        (3, "R_ARM_JUMP24 (B to Thumb code, no veneer slot left)"),
    ] {
        let obj = build(
            &dir,
            &format!("unsupported{n}"),
            "unsupported.s",
            &["-march=armv7-a", &format!("-Wa,--defsym,RELOC={n}")],
        );
        match link_alone(&obj, NEAR_EXPORTS) {
            Err(Error::UnsupportedRelocation { type_name, .. }) => assert_eq!(type_name, name),
            other => panic!("expected {name} to be unsupported, got {other:?}"),
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn firmware_out_of_reach_is_called_through_one_veneer_per_export() {
    let dir = scratch("ld-arm-far");
    let exports_base = 0x1000;
    let obj = build(
        &dir,
        "calls-far",
        "calls.c",
        &["-mcpu=cortex-m3", "-mthumb", "-Os"],
    );
    let linked = link_alone(&obj, exports_base).unwrap();
    let found = veneers(linked.extra.as_ref());

    let file = object::File::parse(&obj[..]).unwrap();
    let mut called = BTreeSet::new();
    let mut sites = 0;
    for section in file.sections() {
        for (offset, r) in section.relocations() {
            let RelocationFlags::Elf {
                r_type: object::elf::RelocationType(r_type),
            } = r.flags()
            else {
                continue;
            };
            let RelocationTarget::Symbol(sym) = r.target() else {
                continue;
            };
            let sym = file.symbol_by_index(sym).unwrap();
            if !sym.is_undefined() || (r_type != R_ARM_THM_CALL && r_type != R_ARM_THM_JUMP24) {
                continue;
            }
            let name = sym.name().unwrap();
            let (addr, bytes) = linked_section(&linked, section.index().0 as u32);
            let (to, blx) = thumb_branch_target(bytes, addr, offset as usize);
            let veneer = found.iter().find(|v| v.addr() == to).unwrap_or_else(|| {
                panic!("call to {name} at {offset:#x} does not land on a veneer")
            });
            assert!(!blx, "{name}: BL to the Thumb veneer");
            assert_eq!(
                *veneer,
                Veneer::Thumb {
                    addr: to,
                    dest: export_addr(&obj, exports_base, name) as u32
                },
                "veneer for {name}"
            );
            called.insert(name.to_string());
            sites += 1;
        }
    }
    assert!(
        sites > called.len(),
        "some export is called from two sites ({sites} sites, {called:?})"
    );
    assert_eq!(found.len(), called.len(), "one veneer per called export");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn unwind_tables_and_build_attributes_are_not_loaded() {
    let dir = scratch("ld-arm-exidx");
    let obj = build(
        &dir,
        "calls-unwind",
        "calls.c",
        &["-mcpu=cortex-m3", "-mthumb", "-O2", "-funwind-tables"],
    );
    let file = object::File::parse(&obj[..]).unwrap();
    let skipped: Vec<u32> = file
        .sections()
        .filter(|s| {
            let n = s.name().unwrap();
            n.starts_with(".ARM.exidx") || n == ".ARM.attributes"
        })
        .map(|s| s.index().0 as u32)
        .collect();
    assert!(
        skipped.len() >= 2,
        "the object has unwind tables and attributes"
    );
    let linked = compare(&dir, "calls-unwind", &obj, &oracle(NEAR_EXPORTS));
    for s in &linked.sections {
        assert!(!skipped.contains(&s.index), "section {} loaded", s.index);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn calls_to_undefined_weak_functions_become_nops_like_gnu_ld() {
    let dir = scratch("arm-weak");
    for cpu in ["cortex-m0plus", "cortex-m3"] {
        let obj = build(
            &dir,
            cpu,
            "weak_call.c",
            &[&format!("-mcpu={cpu}"), "-mthumb", "-Os"],
        );
        // Firmware at 0x1000: out of BL range, so `fw_present` needs a veneer; `maybe` is
        // exported by nobody (weak, so 0) and its call must not need one.
        let exports = llext_loader::symbols::ExportList::new([("fw_present", 0x1001)]);
        let linked = link(&obj, exports, BASE, Some(Arch::Arm))
            .unwrap_or_else(|e| panic!("{cpu}: {}", e.error));
        let text = section_index(&obj, ".text");
        let (_, bytes) = linked_section(&linked, text);
        let nops = (0..bytes.len() - 3)
            .step_by(2)
            .filter(|&i| half(bytes, i) == 0xbf00 && half(bytes, i + 2) == 0xbf00)
            .count();
        assert_eq!(
            nops, 1,
            "{cpu}: the BL to `maybe` became two NOPs: {bytes:02x?}"
        );
        assert_eq!(
            veneers(linked.extra.as_ref()).len(),
            1,
            "{cpu}: one veneer, for fw_present"
        );
    }
}
