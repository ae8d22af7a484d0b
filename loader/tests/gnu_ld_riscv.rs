//! The RISC-V back-end (RV32 and RV64, with and without C) checked byte for byte against GNU ld
//! (`--no-relax`), plus what ld cannot show: veneers, overflow errors, PC-relative pairs far
//! apart through a forward-only stream, and unsupported relocations.
//!
//! Sources are in `tests/riscv/`; they are compiled at test time with Debian's
//! `riscv64-unknown-elf-gcc`. Without it the tests say so and pass.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::gnu_ld::{Oracle, compare, compare_with_exports};
use common::scratch;
use llext_loader::arch::Arch;
use llext_loader::link::{LinkProvider, Linked, LinkedSection, link};
use llext_loader::memory::MemKind;
use llext_loader::pack::{PackOptions, pack};
use llext_loader::source::StreamSource;
use llext_loader::symbols::ExportList;
use llext_loader::{Error, LoadParams, Registry, Report};
use object::{Object, ObjectSection, ObjectSymbol};

const GCC: &str = "riscv64-unknown-elf-gcc";
const LD: &str = "riscv64-unknown-elf-ld";

/// One `-march`/`-mabi` and how ld and the loader link it.
struct Target {
    label: &'static str,
    march: &'static str,
    mabi: &'static str,
    arch: Arch,
    emulation: &'static str,
    /// Where the extension goes; RV64 `medlow` code addresses absolutely, so below 2 GiB there.
    base: u64,
    /// Firmware exports, in reach of every code model.
    exports_base: u64,
    /// Extra flag sets (code models).
    models: &'static [&'static [&'static str]],
}

const RV32IMAC: Target = Target {
    label: "rv32imac",
    march: "-march=rv32imac",
    mabi: "-mabi=ilp32",
    arch: Arch::RiscV32,
    emulation: "elf32lriscv",
    base: 0x8000_0000,
    exports_base: 0x8100_0000,
    models: &[&[]],
};

const RV32I: Target = Target {
    label: "rv32i",
    march: "-march=rv32i",
    mabi: "-mabi=ilp32",
    ..RV32IMAC
};

const RV64IMAC: Target = Target {
    label: "rv64imac",
    march: "-march=rv64imac",
    mabi: "-mabi=lp64",
    arch: Arch::RiscV64,
    emulation: "elf64lriscv",
    base: 0x4000_0000,
    exports_base: 0x2000_0000,
    models: &[&[], &["-mcmodel=medany"]],
};

const TARGETS: [&Target; 3] = [&RV32IMAC, &RV32I, &RV64IMAC];

const OPTS: &[&[&str]] = &[
    &["-O0"],
    &["-Os"],
    &["-O2"],
    &["-O0", "-ffunction-sections", "-fdata-sections"],
    &["-Os", "-ffunction-sections", "-fdata-sections"],
    &["-O2", "-ffunction-sections", "-fdata-sections"],
];

impl Target {
    fn oracle(&self) -> Oracle<'static> {
        Oracle {
            ld: LD,
            ld_args: match self.arch {
                Arch::RiscV64 => &["-m", "elf64lriscv", "--no-relax"],
                _ => &["-m", "elf32lriscv", "--no-relax"],
            },
            base: self.base,
            exports_base: self.exports_base,
            thumb_bit: false,
            arch: self.arch,
        }
    }
}

/// Whether the RISC-V toolchain is installed; says so on stderr when it is not.
fn have_toolchain() -> bool {
    let ok = Command::new(GCC).arg("--version").output().is_ok()
        && Command::new(LD).arg("--version").output().is_ok();
    if !ok {
        eprintln!("skipped: {GCC} or {LD} not installed");
    }
    ok
}

fn source(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/riscv")
        .join(name)
}

/// Compiles (or assembles, for `.S`) `tests/riscv/{name}` for `t` with `flags`.
fn compile(dir: &Path, t: &Target, name: &str, stem: &str, flags: &[&str]) -> Vec<u8> {
    let o = dir.join(format!("{stem}.o"));
    let out = Command::new(GCC)
        .args([t.march, t.mabi, "-ffreestanding", "-fcommon", "-c"])
        .args(flags)
        .arg(source(name))
        .arg("-o")
        .arg(&o)
        .output()
        .expect("run gcc");
    assert!(
        out.status.success(),
        "{GCC} {name} {flags:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&o).unwrap()
}

/// `ld -r` of two objects.
fn ld_r(dir: &Path, t: &Target, stem: &str, a: &[u8], b: &[u8]) -> Vec<u8> {
    let (pa, pb, out) = (
        dir.join(format!("{stem}.a.o")),
        dir.join(format!("{stem}.b.o")),
        dir.join(format!("{stem}.o")),
    );
    std::fs::write(&pa, a).unwrap();
    std::fs::write(&pb, b).unwrap();
    let r = Command::new(LD)
        .args(["-m", t.emulation, "-r", "-o"])
        .arg(&out)
        .arg(&pa)
        .arg(&pb)
        .output()
        .expect("run ld -r");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    std::fs::read(&out).unwrap()
}

fn packed(obj: &[u8]) -> Vec<u8> {
    pack(obj, &PackOptions::default()).expect("pack")
}

/// Every loaded section's bytes by name.
fn by_name(obj: &[u8], linked: &Linked) -> Vec<(String, Option<Vec<u8>>)> {
    let file = object::File::parse(obj).unwrap();
    let mut v: Vec<_> = linked
        .sections
        .iter()
        .map(|s| {
            let sec = file
                .section_by_index(object::SectionIndex(s.index as usize))
                .unwrap();
            (sec.name().unwrap().to_string(), s.bytes.clone())
        })
        .collect();
    v.sort();
    v
}

/// Links the original and the packed object, both checked against ld, and checks they agree.
fn compare_both(dir: &Path, label: &str, obj: &[u8], t: &Target) {
    let o = t.oracle();
    let original = compare(dir, label, obj, &o);
    let p = packed(obj);
    let from_packed = compare(dir, &format!("{label}.packed"), &p, &o);
    assert_eq!(
        by_name(obj, &original),
        by_name(&p, &from_packed),
        "{label}: packed and original link differently"
    );
    let streamed = link_stream(&p, t.arch, t.base, &common::gnu_ld::exports_for(&p, &o))
        .unwrap_or_else(|e| panic!("{label}: stream load of the packed object: {e}"));
    assert_eq!(
        streamed.sections,
        summary(&from_packed.sections),
        "{label}: stream load differs"
    );
}

/// Each section as `(index, address, bytes)`.
type Summary = Vec<(u32, u64, Option<Vec<u8>>)>;

fn summary(sections: &[LinkedSection]) -> Summary {
    sections
        .iter()
        .map(|s| (s.index, s.addr, s.bytes.clone()))
        .collect()
}

/// What a stream load produced: its sections and the trampoline area's address and bytes.
#[derive(Debug)]
struct Streamed {
    sections: Summary,
    extra: Option<(u64, Vec<u8>)>,
}

/// Loads `elf` through a forward-only source, with regions from `base` as [`link`] places them.
fn link_stream(elf: &[u8], arch: Arch, base: u64, exports: &ExportList) -> Result<Streamed, Error> {
    let mut reg = Registry::<_, _, 1>::new(LinkProvider::new(base), exports.clone());
    let mut placed = Vec::new();
    let params = LoadParams {
        arch: Some(arch),
        ..LoadParams::default()
    };
    let slot = futures::executor::block_on(reg.load(
        "stream",
        &mut StreamSource::new(elf),
        &params,
        &mut |r| {
            if let Report::Placed {
                section,
                kind,
                offset,
                size,
            } = r
            {
                placed.push((section, kind, offset, size));
            }
        },
    ))?;
    let ext = reg.get(slot).unwrap();
    let sections = placed
        .iter()
        .map(|&(index, kind, offset, size)| {
            let addr =
                ext.regions().find(|r| r.kind == kind).map_or(0, |r| r.addr) + u64::from(offset);
            let bytes = (kind != MemKind::Bss).then(|| {
                ext.region_bytes(kind).unwrap()[offset as usize..(offset + size) as usize].to_vec()
            });
            (index, addr, bytes)
        })
        .collect();
    let extra = ext
        .regions()
        .find(|r| r.kind == MemKind::Trampoline)
        .map(|r| {
            (
                r.addr,
                ext.region_bytes(MemKind::Trampoline).unwrap().to_vec(),
            )
        });
    Ok(Streamed { sections, extra })
}

// --- C corpus ------------------------------------------------------------------------------------

#[test]
fn c_extensions_match_gnu_ld_for_every_target_and_flag_set() {
    if !have_toolchain() {
        return;
    }
    let dir = scratch("ld-riscv-c");
    for t in TARGETS {
        for model in t.models {
            for opts in OPTS {
                let flags: Vec<&str> = model.iter().chain(opts.iter()).copied().collect();
                let label = format!("{}{}", t.label, flags.concat());
                let obj = compile(&dir, t, "ext.c", &label, &flags);
                compare_both(&dir, &label, &obj, t);
            }
        }
    }
}

#[test]
fn ld_r_of_two_objects_matches_gnu_ld() {
    if !have_toolchain() {
        return;
    }
    let dir = scratch("ld-riscv-ldr");
    for t in TARGETS {
        for model in t.models {
            for opts in [
                &["-O2"][..],
                &["-Os", "-ffunction-sections", "-fdata-sections"],
            ] {
                let flags: Vec<&str> = model.iter().chain(opts.iter()).copied().collect();
                let label = format!("{}{}", t.label, flags.concat());
                let a = compile(&dir, t, "lib_a.c", &format!("{label}-a"), &flags);
                let b = compile(&dir, t, "lib_b.c", &format!("{label}-b"), &flags);
                let ab = ld_r(&dir, t, &format!("{label}-ab"), &a, &b);
                compare_both(&dir, &format!("{label}-ab"), &ab, t);
            }
        }
    }
}

// --- Hand-written assembly ---------------------------------------------------------------------

/// Assembles `tests/riscv/{name}` for `t` (relaxation on unless `flags` say otherwise).
fn asm(dir: &Path, t: &Target, name: &str, flags: &[&str]) -> Vec<u8> {
    let stem = format!("{}-{}{}", t.label, name, flags.concat());
    compile(dir, t, name, &stem, flags)
}

/// Address of the loaded section called `name`.
fn section_addr(obj: &[u8], linked: &Linked, name: &str) -> u64 {
    section(obj, linked, name).addr
}

fn section<'l>(obj: &[u8], linked: &'l Linked, name: &str) -> &'l LinkedSection {
    let file = object::File::parse(obj).unwrap();
    let index = file.section_by_name(name).unwrap().index().0 as u32;
    linked.sections.iter().find(|s| s.index == index).unwrap()
}

/// Links with every undefined symbol at `base` (to learn where sections go).
fn layout(obj: &[u8], t: &Target) -> Linked {
    let names = common::gnu_ld::undefined_symbols(obj);
    let exports = ExportList::new(names.iter().map(|n| (n.as_str(), t.base)));
    link(obj, exports, t.base, Some(t.arch)).unwrap()
}

fn word(bytes: &[u8], at: u64) -> u32 {
    let at = at as usize;
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

/// The target of the `jal` at `p`.
fn jal_target(insn: u32, p: u64) -> u64 {
    assert_eq!(insn & 0x7f, 0x6f, "not a jal: {insn:#010x}");
    let imm = (((insn >> 31) & 1) << 20)
        | (((insn >> 21) & 0x3ff) << 1)
        | (((insn >> 20) & 1) << 11)
        | (((insn >> 12) & 0xff) << 12);
    let imm = ((imm << 11) as i32 >> 11) as i64;
    p.wrapping_add(imm as u64)
}

/// The target of the `auipc` + `jalr` pair at `p`.
fn call_target(auipc: u32, jalr: u32, p: u64) -> u64 {
    assert_eq!(auipc & 0x7f, 0x17, "not an auipc: {auipc:#010x}");
    assert_eq!(jalr & 0x7f, 0x67, "not a jalr: {jalr:#010x}");
    let hi = i64::from((auipc & 0xffff_f000) as i32);
    let lo = i64::from(jalr as i32 >> 20);
    p.wrapping_add((hi + lo) as u64)
}

/// Where the veneer at `addr` (in the loader's trampoline area) jumps, checking that it leaves
/// `ra` alone and goes through `t1`.
fn veneer_target(linked: &Linked, arch: Arch, addr: u64) -> u64 {
    let extra = linked.extra.as_ref().expect("a trampoline area");
    assert!(
        addr >= extra.addr && addr < extra.addr + extra.bytes.len() as u64,
        "{addr:#x} is not in the trampoline area at {:#x}",
        extra.addr
    );
    let b = &extra.bytes[(addr - extra.addr) as usize..];
    match arch {
        Arch::RiscV64 => {
            assert_eq!(word(b, 0), 0x0000_0317, "auipc t1, 0");
            assert_eq!(word(b, 4), 0x0103_3303, "ld t1, 16(t1)");
            assert_eq!(word(b, 8), 0x0003_0067, "jr t1");
            assert_eq!(addr % 8, 0, "the literal must be 8-byte aligned");
            u64::from_le_bytes(b[16..24].try_into().unwrap())
        }
        _ => {
            let (lui, jalr) = (word(b, 0), word(b, 4));
            assert_eq!(lui & 0xfff, 0x337, "lui t1, %hi(T): {lui:#010x}");
            assert_eq!(
                jalr & 0xf_ffff,
                0x3_0067,
                "jalr x0, %lo(T)(t1): {jalr:#010x}"
            );
            let v = (lui & 0xffff_f000).wrapping_add((jalr as i32 >> 20) as u32);
            u64::from(v)
        }
    }
}

/// Exports for `reach.S` with its `.text` at `text`: each target at the maximum reach of its
/// instruction, then moved by `past[i]` bytes.
fn reach_exports(text: u64, past: &[(&str, i64)]) -> ExportList {
    let targets = [
        ("fwd_jal", 0, (1 << 20) - 2),
        ("fwd_branch", 4, 4094),
        ("fwd_cbranch", 8, 254),
        ("fwd_cjump", 10, 2046),
        ("back_jal", 12, -(1 << 20)),
        ("back_branch", 16, -4096),
        ("back_cbranch", 20, -256),
        ("back_cjump", 22, -2048),
    ];
    ExportList::new(targets.iter().map(|&(name, at, reach)| {
        let extra = past.iter().find(|p| p.0 == name).map_or(0, |p| p.1);
        (name, (text + at).wrapping_add((reach + extra) as u64))
    }))
}

#[test]
fn jumps_and_branches_at_exactly_their_maximum_reach_match_gnu_ld() {
    if !have_toolchain() {
        return;
    }
    let dir = scratch("ld-riscv-reach");
    for t in [&RV32IMAC, &RV64IMAC] {
        let obj = asm(&dir, t, "reach.S", &[]);
        let text = section_addr(&obj, &layout(&obj, t), ".text");
        let exports = reach_exports(text, &[]);
        let label = format!("{}-reach", t.label);
        let linked = compare_with_exports(&dir, &label, &obj, &t.oracle(), &exports);
        assert!(
            linked
                .extra
                .as_ref()
                .is_none_or(|e| e.bytes.iter().all(|&b| b == 0))
        );
    }
}

#[test]
fn jal_one_past_its_reach_goes_through_a_veneer_in_both_directions() {
    if !have_toolchain() {
        return;
    }
    let dir = scratch("ld-riscv-jal-veneer");
    for t in [&RV32IMAC, &RV64IMAC] {
        let obj = asm(&dir, t, "reach.S", &[]);
        let text = section_addr(&obj, &layout(&obj, t), ".text");
        let exports = reach_exports(text, &[("fwd_jal", 2), ("back_jal", -2)]);
        let linked = link(&obj, exports.clone(), t.base, Some(t.arch)).unwrap();
        let code = section(&obj, &linked, ".text").bytes.clone().unwrap();
        for (at, name) in [(0u64, "fwd_jal"), (12, "back_jal")] {
            let want = exports.iter().find(|e| e.0 == name).unwrap().1;
            let lands = jal_target(word(&code, at), text + at);
            assert_ne!(
                lands, want,
                "{}: {name} cannot be reached directly",
                t.label
            );
            assert_eq!(
                veneer_target(&linked, t.arch, lands),
                want,
                "{}: {name}",
                t.label
            );
        }
        // The rd of each jal is kept (x0 for the jump, ra for the call).
        assert_eq!(word(&code, 0) & 0xf80, 0);
        assert_eq!(word(&code, 12) & 0xf80, 1 << 7);
    }
}

#[test]
fn short_branches_one_past_their_reach_are_overflow_errors() {
    if !have_toolchain() {
        return;
    }
    let dir = scratch("ld-riscv-overflow");
    for t in [&RV32IMAC, &RV64IMAC] {
        let obj = asm(&dir, t, "reach.S", &[]);
        let text = section_addr(&obj, &layout(&obj, t), ".text");
        let cases = [
            ("fwd_branch", 2, "R_RISCV_BRANCH", 4),
            ("fwd_cbranch", 2, "R_RISCV_RVC_BRANCH", 8),
            ("fwd_cjump", 2, "R_RISCV_RVC_JUMP", 10),
            ("back_branch", -2, "R_RISCV_BRANCH", 16),
            ("back_cbranch", -2, "R_RISCV_RVC_BRANCH", 20),
            ("back_cjump", -2, "R_RISCV_RVC_JUMP", 22),
        ];
        for (name, past, type_name, at) in cases {
            let exports = reach_exports(text, &[(name, past)]);
            let e = link(&obj, exports, t.base, Some(t.arch)).unwrap_err().error;
            match e {
                Error::RelocationOverflow {
                    type_name: got,
                    offset,
                    ..
                } => {
                    assert_eq!((got, offset), (type_name, at), "{}: {name}", t.label);
                }
                other => panic!("{}: {name}: expected an overflow, got {other}", t.label),
            }
        }
    }
}

#[test]
fn pcrel_lo_before_its_hi_pairs_while_streaming_and_matches_gnu_ld() {
    if !have_toolchain() {
        return;
    }
    let dir = scratch("ld-riscv-hilo-near");
    for t in TARGETS {
        let obj = asm(&dir, t, "hilo.S", &["-DNEAR_ONLY"]);
        compare_both(&dir, &format!("{}-hilo-near", t.label), &obj, t);
    }
}

#[test]
fn pcrel_pairs_farther_apart_than_the_cache_need_pack_and_then_match_gnu_ld() {
    if !have_toolchain() {
        return;
    }
    let dir = scratch("ld-riscv-hilo-far");
    for t in TARGETS {
        let obj = asm(&dir, t, "hilo.S", &[]);
        let o = t.oracle();
        let exports = common::gnu_ld::exports_for(&obj, &o);

        // Unpacked, the far PCREL_LO12_S comes 24 PCREL_HI20s after its own: a clear error.
        let e = link(&obj, exports.clone(), t.base, Some(t.arch))
            .unwrap_err()
            .error;
        assert!(
            matches!(e, Error::PcrelLoUnpaired { .. }),
            "{}: got {e}",
            t.label
        );
        assert!(e.to_string().contains("host-push pack"), "{e}");

        // Packed, every pair is adjacent: the seekable and the stream load both match ld.
        let p = packed(&obj);
        let label = format!("{}-hilo-far.packed", t.label);
        let linked = compare(&dir, &label, &p, &o);
        let streamed = link_stream(&p, t.arch, t.base, &exports).unwrap();
        assert_eq!(streamed.sections, summary(&linked.sections), "{label}");
    }
}

#[test]
fn label_differences_and_set_relocations_match_gnu_ld() {
    if !have_toolchain() {
        return;
    }
    let dir = scratch("ld-riscv-data");
    for t in [&RV32IMAC, &RV64IMAC] {
        let obj = asm(&dir, t, "data.S", &[]);
        compare_both(&dir, &format!("{}-data", t.label), &obj, t);
    }
}

/// `obj` with the type of every relocation at `offset` in `.rela{section}` changed by `map`.
fn retype(obj: &[u8], section: &str, offset: u64, map: &[(u32, u32)]) -> Vec<u8> {
    let file = object::File::parse(obj).unwrap();
    let rela = file.section_by_name(&format!(".rela{section}")).unwrap();
    let (start, size) = rela.file_range().unwrap();
    let is64 = file.is_64();
    let esz = if is64 { 24 } else { 12 };
    let mut out = obj.to_vec();
    for e in (start..start + size).step_by(esz) {
        let e = e as usize;
        let (off, type_at) = if is64 {
            (u64::from_le_bytes(out[e..e + 8].try_into().unwrap()), e + 8)
        } else {
            (u64::from(word(&out, e as u64)), e + 4)
        };
        if off != offset {
            continue;
        }
        let t = if is64 {
            word(&out, type_at as u64)
        } else {
            u32::from(out[type_at])
        };
        if let Some(&(_, to)) = map.iter().find(|m| m.0 == t) {
            if is64 {
                out[type_at..type_at + 4].copy_from_slice(&to.to_le_bytes());
            } else {
                out[type_at] = to as u8;
            }
        }
    }
    out
}

#[test]
fn uleb128_set_and_sub_pair_rewrites_the_value_in_place() {
    // GNU ld 2.40 (and its gas) predate R_RISCV_SET_ULEB128/SUB_ULEB128 (ld crashes on them),
    // so the pair is made from data.S's SET8/SUB8 and checked against the value itself.
    if !have_toolchain() {
        return;
    }
    let dir = scratch("ld-riscv-uleb");
    for t in [&RV32IMAC, &RV64IMAC] {
        let obj = asm(&dir, t, "data.S", &[]);
        let file = object::File::parse(&obj[..]).unwrap();
        let uleb = file.symbol_by_name("uleb").unwrap().address();
        let o = t.oracle();
        let exports = common::gnu_ld::exports_for(&obj, &o);
        // As SET8/SUB8 (checked against ld above) the first byte is the difference itself.
        let linked = link(&obj, exports.clone(), t.base, Some(t.arch)).unwrap();
        let at = uleb as usize;
        let diff = section(&obj, &linked, ".data").bytes.as_ref().unwrap()[at];
        assert!(diff < 0x80);

        // SET8 = 54, SUB8 = 37; SET_ULEB128 = 60, SUB_ULEB128 = 61.
        let as_uleb = retype(&obj, ".data", uleb, &[(54, 60), (37, 61)]);
        let linked = link(&as_uleb, exports.clone(), t.base, Some(t.arch))
            .unwrap_or_else(|e| panic!("{}: {}", t.label, e.error));
        let data = section(&as_uleb, &linked, ".data").bytes.clone().unwrap();
        // The value in the field's three bytes (continuation bits kept), the next byte intact.
        assert_eq!(
            &data[at..at + 4],
            &[0x80 | diff, 0x80, 0x00, 0x55],
            "{}",
            t.label
        );

        // A SET_ULEB128 without its SUB_ULEB128 is refused.
        let unpaired = retype(&obj, ".data", uleb, &[(54, 60)]);
        let e = link(&unpaired, exports, t.base, Some(t.arch))
            .unwrap_err()
            .error;
        assert!(
            matches!(e, Error::Malformed { value, .. } if value == uleb),
            "{}: {e}",
            t.label
        );
    }
}

#[test]
fn tls_general_dynamic_is_an_unsupported_relocation() {
    if !have_toolchain() {
        return;
    }
    let dir = scratch("ld-riscv-tls");
    for t in [&RV32IMAC, &RV64IMAC] {
        let exports = ExportList::new([("fw_tls_var", 0x1000)]);
        let obj = asm(&dir, t, "tls.S", &["-DRELOC_ONLY"]);
        let e = link(&obj, exports.clone(), t.base, Some(t.arch))
            .unwrap_err()
            .error;
        match e {
            Error::UnsupportedRelocation {
                r_type,
                type_name,
                offset,
                ..
            } => assert_eq!((r_type, type_name, offset), (22, "R_RISCV_TLS_GD_HI20", 0)),
            other => panic!("{}: expected UnsupportedRelocation, got {other}", t.label),
        }
        // From `la.tls.gd` the symbol is thread-local, refused before any relocation.
        let obj = asm(&dir, t, "tls.S", &[]);
        let e = link(&obj, exports, t.base, Some(t.arch)).unwrap_err().error;
        assert!(e.to_string().contains("thread-local"), "{}: {e}", t.label);
    }
}

#[test]
fn jal_calls_to_far_firmware_use_one_veneer_per_distinct_target() {
    if !have_toolchain() {
        return;
    }
    let dir = scratch("ld-riscv-far");
    let t = &RV32IMAC;
    let obj = asm(&dir, t, "far.S", &["-mno-relax"]);
    let text = section_addr(&obj, &layout(&obj, t), ".text");
    let (fw_a, fw_b, fw_near) = (text + 0x20_0100, text - 0x30_0000, text + 0x1000);
    let exports = ExportList::new([("fw_a", fw_a), ("fw_b", fw_b), ("fw_near", fw_near)]);
    // Packed and streamed, as a device loads it; the seekable link must agree.
    let p = packed(&obj);
    let linked = link(&p, exports.clone(), t.base, Some(t.arch)).unwrap();
    let streamed = link_stream(&p, t.arch, t.base, &exports).unwrap();
    assert_eq!(streamed.sections, summary(&linked.sections));
    let extra = linked.extra.as_ref().unwrap();
    assert_eq!(streamed.extra, Some((extra.addr, extra.bytes.clone())));

    let code = section(&p, &linked, ".text").bytes.clone().unwrap();
    let lands = |at: u64| jal_target(word(&code, at), text + at);
    let (via_a, via_b) = (lands(8), lands(12));
    assert_ne!(via_a, via_b);
    assert_eq!(
        lands(16),
        via_a,
        "the second call to fw_a reuses its veneer"
    );
    assert_eq!(lands(32), via_b, "the tail call to fw_b reuses its veneer");
    assert_eq!(lands(20), fw_near, "a call in reach stays direct");
    assert_eq!(veneer_target(&linked, t.arch, via_a), fw_a);
    assert_eq!(veneer_target(&linked, t.arch, via_b), fw_b);
    // Two keys in use (one per distinct target), the third slot untouched.
    let key = |i: usize| u64::from_le_bytes(extra.bytes[i * 8..i * 8 + 8].try_into().unwrap());
    assert_eq!((key(0), key(1), key(2)), (fw_a, fw_b, 0));
}

#[test]
fn rv64_call_beyond_2_gib_goes_through_a_literal_veneer() {
    if !have_toolchain() {
        return;
    }
    let dir = scratch("ld-riscv-call64");
    let t = &RV64IMAC;
    let obj = asm(&dir, t, "call64.S", &[]);
    let far = 0x2_0000_0000u64;
    let exports = ExportList::new([("fw_far", far)]);
    let linked = link(&obj, exports, t.base, Some(t.arch)).unwrap();
    let text = section_addr(&obj, &linked, ".text");
    let code = section(&obj, &linked, ".text").bytes.clone().unwrap();
    let via = call_target(word(&code, 8), word(&code, 12), text + 8);
    assert_eq!(
        call_target(word(&code, 24), word(&code, 28), text + 24),
        via
    );
    assert_eq!(veneer_target(&linked, t.arch, via), far);
    // The call still links ra, the tail call still does not.
    assert_eq!((word(&code, 12) >> 7) & 0x1f, 1);
    assert_eq!((word(&code, 28) >> 7) & 0x1f, 0);
}

/// The relocation types in `obj`.
fn reloc_types(obj: &[u8]) -> Vec<u32> {
    let file = object::File::parse(obj).unwrap();
    file.sections()
        .flat_map(|s| s.relocations().collect::<Vec<_>>())
        .filter_map(|(_, r)| match r.flags() {
            object::RelocationFlags::Elf { r_type } => Some(r_type.0),
            _ => None,
        })
        .collect()
}

const R_RISCV_ALIGN: u32 = 43;

#[test]
fn code_alignment_matches_gnu_ld_without_relaxation_and_when_the_padding_is_exact() {
    if !have_toolchain() {
        return;
    }
    let dir = scratch("ld-riscv-align");
    let t = &RV32IMAC;
    let plain = asm(&dir, t, "align.S", &["-mno-relax"]);
    assert!(!reloc_types(&plain).contains(&R_RISCV_ALIGN));
    compare_both(&dir, "align-norelax", &plain, t);
    let exact = asm(&dir, t, "align.S", &["-DALIGN_EXACT"]);
    assert!(reloc_types(&exact).contains(&R_RISCV_ALIGN));
    compare_both(&dir, "align-exact", &exact, t);
}

#[test]
fn excess_alignment_padding_from_relaxed_assembly_stays_as_nops() {
    // gas wrote 6 bytes of NOPs where 2 align; ld deletes 4 (even with --no-relax), the loader
    // cannot delete bytes and leaves them: the code runs the same, `aligned_target` is at 12.
    if !have_toolchain() {
        return;
    }
    let dir = scratch("ld-riscv-align-excess");
    let t = &RV32IMAC;
    let obj = asm(&dir, t, "align.S", &[]);
    assert!(reloc_types(&obj).contains(&R_RISCV_ALIGN));
    let linked = link(&obj, ExportList::new([]), t.base, Some(t.arch)).unwrap();
    let file = object::File::parse(&obj[..]).unwrap();
    let original = file
        .section_by_name(".text")
        .unwrap()
        .data()
        .unwrap()
        .to_vec();
    assert_eq!(
        section(&obj, &linked, ".text").bytes.as_ref(),
        Some(&original)
    );
    assert_eq!(file.symbol_by_name("aligned_target").unwrap().address(), 12);
}

/// `.text` of `obj` linked alone by GNU ld at `base` (`--no-relax`: only `R_RISCV_ALIGN` is done).
fn ld_text(dir: &Path, label: &str, obj: &[u8], t: &Target) -> Vec<u8> {
    let input = dir.join(format!("{label}.o"));
    let out = dir.join(format!("{label}.elf"));
    std::fs::write(&input, obj).unwrap();
    let r = Command::new(LD)
        .args(["-m", t.emulation, "--no-relax", "-e", "0"])
        .arg(format!("-Ttext=0x{:x}", t.base))
        .arg("-o")
        .arg(&out)
        .arg(&input)
        .output()
        .expect("run ld");
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let bytes = std::fs::read(&out).unwrap();
    let file = object::File::parse(&bytes[..]).unwrap();
    file.section_by_name(".text")
        .unwrap()
        .data()
        .unwrap()
        .to_vec()
}

#[test]
fn pack_deletes_excess_alignment_padding_like_gnu_ld() {
    if !have_toolchain() {
        return;
    }
    let dir = scratch("ld-riscv-align-pack");
    let t = &RV32IMAC;
    let obj = asm(&dir, t, "align.S", &[]);
    assert!(reloc_types(&obj).contains(&R_RISCV_ALIGN));
    let p = packed(&obj);
    assert!(
        !reloc_types(&p).contains(&R_RISCV_ALIGN),
        "the packer did the alignment"
    );
    // The packed object loads with `aligned_target` aligned, exactly as ld lays the original out.
    let linked = link(&p, ExportList::new([]), t.base, Some(t.arch)).unwrap();
    let text = section(&p, &linked, ".text");
    assert_eq!(
        text.bytes.as_deref(),
        Some(&ld_text(&dir, "orig", &obj, t)[..])
    );
    let file = object::File::parse(&p[..]).unwrap();
    assert_eq!(file.symbol_by_name("aligned_target").unwrap().address(), 8);
    assert_eq!((text.addr + 8) % 8, 0);
    // Packing again changes nothing, and ld links the packed object the same way.
    assert_eq!(packed(&p), p);
    assert_eq!(
        ld_text(&dir, "packed", &p, t),
        ld_text(&dir, "orig2", &obj, t)
    );
}

#[test]
fn packing_mutated_relaxed_riscv_objects_never_panics() {
    if !have_toolchain() {
        return;
    }
    let dir = scratch("ld-riscv-align-mutate");
    let obj = asm(&dir, &RV32IMAC, "align.S", &[]);
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..3000 {
        let mut m = obj.clone();
        for _ in 0..3 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let at = (x % m.len() as u64) as usize;
            m[at] = (x >> 24) as u8;
        }
        // An error is fine; a panic (or an endless loop) is not.
        let _ = pack(&m, &PackOptions::default());
    }
}
