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
