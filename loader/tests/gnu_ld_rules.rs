//! What GNU ld links, the loader links (issue 9, `docs/LINKING.md`), on ARM and RISC-V: objects
//! with empty sections, linker sets over sections of one name, names longer than the loader's
//! name buffer and (ARM) unwind tables, compiled at test time and compared byte for byte with
//! GNU ld at the same addresses. The sources are shared with ext-run's host tests.

mod common;

use std::path::{Path, PathBuf};

use common::gnu_ld::{Oracle, compare, compare_with_exports};
use common::scratch;
use llext_loader::arch::Arch;
use llext_loader::pack::{PackOptions, pack};
use llext_loader::symbols::ExportList;

const BASE: u64 = 0x2000_0000;

fn source(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/ext-run/tests/ld_rules")
        .join(name)
}

fn build(dir: &Path, compiler: &str, name: &str, flags: &[&str]) -> Vec<u8> {
    std::fs::read(test_support::compile_file(
        dir,
        compiler,
        &source(name),
        flags,
    ))
    .unwrap()
}

struct Target {
    gcc: &'static str,
    gxx: &'static str,
    flags: &'static [&'static str],
    oracle: Oracle<'static>,
}

fn arm() -> Target {
    Target {
        gcc: "arm-none-eabi-gcc",
        gxx: "arm-none-eabi-g++",
        flags: &["-mcpu=cortex-m3", "-mthumb", "-Os"],
        oracle: Oracle {
            ld: "arm-none-eabi-ld",
            ld_args: &[],
            base: BASE,
            exports_base: BASE + 0x8_0000,
            thumb_bit: true,
            arch: Arch::Arm,
        },
    }
}

fn riscv() -> Target {
    Target {
        gcc: "riscv64-unknown-elf-gcc",
        gxx: "riscv64-unknown-elf-g++",
        flags: &["-march=rv32imac", "-mabi=ilp32", "-O2", "-mno-relax"],
        oracle: Oracle {
            ld: "riscv64-unknown-elf-ld",
            ld_args: &["-m", "elf32lriscv", "--no-relax"],
            base: BASE,
            exports_base: BASE + 0x8_0000,
            thumb_bit: false,
            arch: Arch::RiscV32,
        },
    }
}

/// Links `obj` and its packed form with the loader and with GNU ld and compares them.
fn same_as_ld(dir: &Path, label: &str, obj: &[u8], o: &Oracle<'_>) {
    compare(dir, label, obj, o);
    let packed = pack(obj, &PackOptions::default()).unwrap();
    compare(dir, &format!("{label}-packed"), &packed, o);
}

#[test]
fn empty_sections_and_linker_sets_link_as_ld_links_them() {
    for (t, arch) in [(arm(), "arm"), (riscv(), "riscv")] {
        let dir = scratch(&format!("ld_rules_sets_{arch}"));
        for name in ["empty_sections.c", "linker_sets.c"] {
            let obj = build(&dir, t.gcc, name, t.flags);
            same_as_ld(&dir, &format!("{arch}-{name}"), &obj, &t.oracle);
        }
    }
}

#[test]
fn names_longer_than_the_name_buffer_link_as_ld_links_them() {
    for (t, arch) in [(arm(), "arm"), (riscv(), "riscv")] {
        let dir = scratch(&format!("ld_rules_long_{arch}"));
        let mut flags = t.flags.to_vec();
        flags.extend(["-fno-exceptions", "-fno-rtti"]);
        let obj = build(&dir, t.gxx, "long_names.cpp", &flags);
        let longest = obj.split(|&b| b == 0).map(<[u8]>::len).max().unwrap();
        assert!(longest > 256, "{arch}: longest name {longest} bytes");
        same_as_ld(&dir, &format!("{arch}-long"), &obj, &t.oracle);
    }
}

#[test]
fn arm_unwind_tables_need_no_personality_routine() {
    let t = arm();
    let dir = scratch("ld_rules_unwind");
    let mut flags = t.flags.to_vec();
    flags.push("-funwind-tables");
    let obj = build(&dir, t.gcc, "unwind.c", &flags);
    let has = |needle: &[u8]| obj.windows(needle.len()).any(|w| w == needle);
    assert!(has(b".ARM.exidx") && has(b"__aeabi_unwind_cpp_pr"));
    // The firmware exports what the code calls, and no C++ personality routine.
    let exports = ExportList::new([("strlen", BASE + 0x8_0001)]);
    compare_with_exports(&dir, "unwind", &obj, &t.oracle, &exports);
    let packed = pack(&obj, &PackOptions::default()).unwrap();
    let kept = |needle: &[u8]| packed.windows(needle.len()).any(|w| w == needle);
    assert!(
        !kept(b"__aeabi_unwind_cpp_pr") && !kept(b".ARM.exidx"),
        "pack drops the unwind table and the symbol only it used"
    );
    compare_with_exports(&dir, "unwind-packed", &packed, &t.oracle, &exports);
}
