//! GNU ld as the oracle: link an object with the loader at chosen addresses, link the same object
//! with `ld` at the same addresses (a generated script placing each input section, exports at
//! fixed addresses), and compare every loaded section byte for byte.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use llext_loader::arch::Arch;
use llext_loader::link::{Linked, link};
use llext_loader::memory::MemKind;
use llext_loader::symbols::ExportList;
use object::{Object, ObjectSection, ObjectSymbol};

/// How to run one comparison.
pub struct Oracle<'a> {
    /// The `ld` to run (`ld`, `arm-none-eabi-ld`, `riscv64-unknown-elf-ld`).
    pub ld: &'a str,
    /// Extra `ld` arguments (`-m elf32lriscv`, `--no-relax`, ...).
    pub ld_args: &'a [&'a str],
    /// Where the loader places the extension.
    pub base: u64,
    /// Firmware exports: every undefined symbol gets `exports_base + 0x40 * i` (plus `thumb_bit`).
    pub exports_base: u64,
    /// Set bit 0 of exported function addresses (ARM Thumb).
    pub thumb_bit: bool,
    /// The architecture expected.
    pub arch: Arch,
}

/// Undefined symbol names of an object, in symbol order.
pub fn undefined_symbols(obj: &[u8]) -> Vec<String> {
    let file = object::File::parse(obj).expect("parse object");
    file.symbols()
        .filter(|s| s.is_undefined() && s.index().0 != 0 && !s.name().unwrap_or("").is_empty())
        .filter(|s| s.name() != Ok("_GLOBAL_OFFSET_TABLE_"))
        .filter(|s| !ld_provides(s.name().unwrap_or("")))
        .map(|s| s.name().unwrap().to_string())
        .collect()
}

/// The exports for an object, as the oracle assigns them.
pub fn exports_for(obj: &[u8], o: &Oracle<'_>) -> ExportList {
    let names = undefined_symbols(obj);
    ExportList::new(names.iter().enumerate().map(|(i, n)| {
        (
            n.as_str(),
            o.exports_base + 0x40 * i as u64 + u64::from(o.thumb_bit),
        )
    }))
}

/// A copy of `obj` with `SHF_MERGE` cleared on every section (ld would merge strings; a loader
/// need not).
pub fn without_merge(obj: &[u8]) -> Vec<u8> {
    let mut b = obj.to_vec();
    let is64 = b[4] == 2;
    let rd = |b: &[u8], o: usize, n: usize| -> u64 {
        let mut v = [0u8; 8];
        v[..n].copy_from_slice(&b[o..o + n]);
        u64::from_le_bytes(v)
    };
    let (shoff, shentsize, shnum) = if is64 {
        (
            rd(&b, 0x28, 8) as usize,
            rd(&b, 0x3a, 2) as usize,
            rd(&b, 0x3c, 2) as usize,
        )
    } else {
        (
            rd(&b, 0x20, 4) as usize,
            rd(&b, 0x2e, 2) as usize,
            rd(&b, 0x30, 2) as usize,
        )
    };
    for i in 0..shnum {
        let flags = shoff + i * shentsize + 8;
        b[flags] &= !0x10; // SHF_MERGE
    }
    b
}

/// Where the loader put the first COMMON symbol of `file`, if it has any.
fn first_common(file: &object::File<'_>, linked: &Linked) -> Option<u64> {
    let align = file
        .symbols()
        .find(|s| s.section() == object::SymbolSection::Common)?
        .address()
        .max(1);
    let bss_end = linked
        .sections
        .iter()
        .filter(|s| s.kind == MemKind::Bss)
        .map(|s| s.addr + s.size)
        .max();
    let region = linked.regions.iter().find(|r| r.0 == MemKind::Bss)?.1;
    Some(bss_end.unwrap_or(region).next_multiple_of(align))
}

/// Compares the loader's link of `obj` with ld's; panics with a precise message on a mismatch.
pub fn compare(dir: &Path, label: &str, obj: &[u8], o: &Oracle<'_>) -> Linked {
    let exports = exports_for(&without_merge(obj), o);
    compare_with_exports(dir, label, obj, o, &exports)
}

/// [`compare`] with the firmware exports given (every undefined symbol must be among them), for
/// tests that need exports at exact addresses; `o.exports_base` and `o.thumb_bit` are unused.
pub fn compare_with_exports(
    dir: &Path,
    label: &str,
    obj: &[u8],
    o: &Oracle<'_>,
    exports: &ExportList,
) -> Linked {
    let obj = without_merge(obj);
    let linked = link(&obj, exports.clone(), o.base, Some(o.arch)).unwrap_or_else(|e| {
        panic!(
            "{label}: loader link failed: {} (missing: {:?})",
            e.error, e.missing
        )
    });
    compare_linked(dir, label, &obj, o, exports, &linked);
    linked
}

/// Links `obj` (without `SHF_MERGE`) with ld, each section at the address `linked` gives it, and
/// compares every loaded section with `linked`'s bytes.
pub fn compare_linked(
    dir: &Path,
    label: &str,
    obj: &[u8],
    o: &Oracle<'_>,
    exports: &ExportList,
    linked: &Linked,
) {
    assert_eq!(linked.arch, o.arch);
    let file = object::File::parse(obj).unwrap();
    let mut script = String::from("SECTIONS {\n");
    let mut names = std::collections::HashMap::new();
    for s in &linked.sections {
        let sec = file
            .section_by_index(object::SectionIndex(s.index as usize))
            .unwrap();
        let name = sec.name().unwrap().to_string();
        if is_c_identifier(&name) {
            // ld defines `__start_NAME`/`__stop_NAME` for an output section of that name, which
            // takes every input section of the name (the loader keeps them together too).
            if names.insert(name.clone(), 1).is_none() {
                writeln!(script, "  {name} 0x{:x} : {{ KEEP(*({name})) }}", s.addr).unwrap();
            }
            continue;
        }
        *names.entry(name.clone()).or_insert(0) += 1;
        writeln!(
            script,
            "  .o{} 0x{:x} : {{ KEEP(*({})) }}",
            s.index, s.addr, name
        )
        .unwrap();
    }
    if let Some(addr) = first_common(&file, linked) {
        // The loader puts COMMON symbols after the bss sections, in symbol order; ld orders them
        // its own way, so this agrees for one COMMON symbol (or several that ld keeps in order).
        writeln!(script, "  .ocommon 0x{addr:x} : {{ *(COMMON) }}").unwrap();
    }
    script.push_str("  /DISCARD/ : { *(.comment) *(.note.*) *(.eh_frame) *(.ARM.exidx*) *(.ARM.extab*) *(.ARM.attributes) *(.riscv.attributes) }\n}\n");
    let dup: Vec<_> = names
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| k.clone())
        .collect();
    assert!(
        dup.is_empty(),
        "{label}: section names occur twice, the script cannot place them: {dup:?}"
    );

    let in_o = dir.join(format!("{label}.in.o"));
    let ld_out = dir.join(format!("{label}.ld.elf"));
    let script_path = dir.join(format!("{label}.ld"));
    std::fs::write(&in_o, obj).unwrap();
    std::fs::write(&script_path, &script).unwrap();
    let mut cmd = Command::new(o.ld);
    cmd.args(o.ld_args)
        .arg("-T")
        .arg(&script_path)
        .arg("-o")
        .arg(&ld_out)
        .arg("-e")
        .arg("0");
    if o.thumb_bit {
        // `--defsym` symbols are untyped, so ld would treat them as ARM code and call them with
        // BLX; defined as Thumb functions they get BL, as firmware functions would.
        cmd.arg(exports_as_functions(dir, label, o.ld, exports));
    } else {
        for (name, addr) in exports.iter() {
            cmd.arg(format!("--defsym={name}=0x{addr:x}"));
        }
    }
    cmd.arg(&in_o);
    let out = cmd.output().expect("run ld");
    assert!(
        out.status.success(),
        "{label}: {} failed: {}\nscript:\n{script}",
        o.ld,
        String::from_utf8_lossy(&out.stderr)
    );

    let ld_bytes = std::fs::read(&ld_out).unwrap();
    let ld_file = object::File::parse(&ld_bytes[..]).unwrap();
    for s in &linked.sections {
        let in_name = file
            .section_by_index(object::SectionIndex(s.index as usize))
            .unwrap()
            .name()
            .unwrap();
        if s.size == 0 {
            // Nothing to compare (ld drops empty output sections); symbols in it are checked
            // through the relocations that use them.
            continue;
        }
        if is_c_identifier(in_name) {
            // One output section for all input sections of the name: compare the slice.
            let out = ld_file.section_by_name(in_name).unwrap();
            let at = (s.addr - out.address()) as usize;
            let theirs = &out.data().unwrap()[at..at + s.size as usize];
            assert_eq!(
                s.bytes.as_deref(),
                Some(theirs),
                "{label}: section {in_name}"
            );
            continue;
        }
        let want = ld_file
            .section_by_name(&format!(".o{}", s.index))
            .unwrap_or_else(|| panic!("{label}: ld output has no section .o{}", s.index));
        assert_eq!(
            want.address(),
            s.addr,
            "{label}: section {} address",
            s.index
        );
        let Some(mine) = &s.bytes else {
            assert_eq!(s.kind, MemKind::Bss);
            continue;
        };
        let theirs = want.data().unwrap();
        if mine.as_slice() != theirs {
            let at = mine
                .iter()
                .zip(theirs)
                .position(|(a, b)| a != b)
                .unwrap_or(mine.len().min(theirs.len()));
            panic!(
                "{label}: section {} ({}) differs from GNU ld at offset {at:#x} (address {:#x}): loader {:02x?} ld {:02x?}",
                s.index,
                file.section_by_index(object::SectionIndex(s.index as usize))
                    .unwrap()
                    .name()
                    .unwrap(),
                s.addr + at as u64,
                &mine[at..(at + 8).min(mine.len())],
                &theirs[at..(at + 8).min(theirs.len())],
            );
        }
    }
}

/// Whether ld itself defines `name` for an object (not an export): section bounds and the
/// init/fini array bounds of its default script.
fn ld_provides(name: &str) -> bool {
    let bound = name
        .strip_prefix("__start_")
        .or_else(|| name.strip_prefix("__stop_"));
    bound.is_some_and(is_c_identifier)
        || ["__preinit_array_", "__init_array_", "__fini_array_"]
            .iter()
            .any(|p| {
                name.strip_prefix(p)
                    .is_some_and(|w| w == "start" || w == "end")
            })
}

/// Whether ld would define `__start_`/`__stop_` symbols for a section of this name.
fn is_c_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// An object defining each export as an absolute function symbol (`STT_FUNC`, value with the
/// Thumb bit as given), assembled with the `as` next to `ld` (`arm-none-eabi-as`).
pub fn exports_as_functions(dir: &Path, label: &str, ld: &str, exports: &ExportList) -> PathBuf {
    let mut src = String::new();
    for (name, addr) in exports.iter() {
        writeln!(
            src,
            ".global {name}\n.type {name}, %function\n.set {name}, 0x{addr:x}"
        )
        .unwrap();
    }
    let s = dir.join(format!("{label}.exports.s"));
    let obj = dir.join(format!("{label}.exports.o"));
    std::fs::write(&s, src).unwrap();
    let prefix = ld.strip_suffix("ld").unwrap_or("");
    let run = |tool: &str, args: &[&std::ffi::OsStr]| {
        let tool = format!("{prefix}{tool}");
        let out = Command::new(&tool)
            .args(args)
            .output()
            .expect("run binutils");
        assert!(
            out.status.success(),
            "{label}: {tool} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run("as", &[s.as_os_str(), "-o".as_ref(), obj.as_os_str()]);
    // Without build attributes, so ld takes the CPU and float ABI from the extension alone.
    run(
        "objcopy",
        &["-R".as_ref(), ".ARM.attributes".as_ref(), obj.as_os_str()],
    );
    obj
}
