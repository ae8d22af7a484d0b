//! `host-push pack` on objects compiled here with the system (and, if present, cross) tools.
//!
//! For each object: the packed file is accepted by `readelf`, has the stream-order structure of
//! `docs/STREAM-ORDER.md`, packs to itself again, links with `ld` to the same file as the
//! original (`--keep-all`) or to the same loaded sections (default, which drops sections).
//! Malformed inputs must give an error, never a panic.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use llext_loader::pack::{PackOptions, pack};

/// Calls, globals, strings, a pointer table, a switch, a constructor, static data, a COMDAT
/// group (top-level asm) and an undefined symbol (`ext_value`, defined on the `ld` line).
const CALLS_C: &str = r#"
extern int ext_value;
extern const unsigned char grp_sig[];
static int counter = 5;
static const char greeting[] = "hello, stream";
int table_val[4] = {1, 2, 3, 4};
const char *msgs[] = {"zero", "one", "two"};
int bss_thing[64];
static int helper(int x) { return x * 3 + counter; }
static int add1(int x) { return x + 1; }
static int dbl(int x) { return x * 2; }
int (*const ops[])(int) = {helper, add1, dbl};
__attribute__((noinline)) int sw(int x) {
    switch (x) {
    case 0: return 11;
    case 1: return helper(2);
    case 2: return 33;
    case 3: return 47;
    case 4: return add1(x);
    case 5: return 99;
    case 6: return 7;
    case 7: return 1234;
    default: return -1;
    }
}
__attribute__((constructor(101))) static void init(void) { counter += ext_value; }
__attribute__((noinline)) int apply(int i, int x) { return ops[i % 3](x); }
int entry(int x) {
    bss_thing[x & 63] = x;
    return sw(x) + table_val[x & 3] + apply(x, x) + msgs[x % 3][0] + greeting[x & 7]
        + grp_sig[x & 3];
}
__asm__(".pushsection .rodata.grp,\"aG\",%progbits,grp_sig,comdat\n"
        ".globl grp_sig\n"
        "grp_sig: .byte 1, 2, 3, 4\n"
        ".popsection\n");
"#;

/// A second object, joined to the first with `ld -r`.
const OTHER_C: &str = r#"
extern int entry(int);
extern int table_val[4];
static int local_state[8];
const char other_name[] = "other";
int other(int x) { local_state[x & 7] = x; return entry(x) + table_val[0] + other_name[x & 3]; }
"#;

/// A compiler, linker and readelf for one target.
struct Tools {
    cc: &'static str,
    cflags: &'static [&'static str],
    ld: &'static str,
    ldflags: &'static [&'static str],
    readelf: &'static str,
}

const HOST: Tools = Tools {
    cc: "cc",
    cflags: &[],
    ld: "ld",
    ldflags: &[],
    readelf: "readelf",
};

const HOST32: Tools = Tools {
    cc: "cc",
    cflags: &["-m32"],
    ld: "ld",
    ldflags: &["-m", "elf_i386"],
    readelf: "readelf",
};

const ARM: Tools = Tools {
    cc: "arm-none-eabi-gcc",
    cflags: &["-mcpu=cortex-m3", "-mthumb", "-Os"],
    ld: "arm-none-eabi-ld",
    ldflags: &[],
    readelf: "arm-none-eabi-readelf",
};

const RISCV: Tools = Tools {
    cc: "riscv64-unknown-elf-gcc",
    cflags: &["-march=rv32imac", "-mabi=ilp32"],
    ld: "riscv64-unknown-elf-ld",
    ldflags: &["-m", "elf32lriscv", "--no-relax"],
    readelf: "riscv64-unknown-elf-readelf",
};

// ---------------------------------------------------------------------------------------------
// Running tools

fn workdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("pack")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn have(tool: &str) -> bool {
    Command::new("which")
        .arg(tool)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether the tools exist; prints a notice if not, so the test can skip.
fn available(tools: &Tools) -> bool {
    let missing: Vec<_> = [tools.cc, tools.ld, tools.readelf]
        .into_iter()
        .filter(|t| !have(t))
        .collect();
    if !missing.is_empty() {
        eprintln!("SKIPPED: {missing:?} not installed");
    }
    missing.is_empty()
}

fn compile(tools: &Tools, dir: &Path, name: &str, src: &str, flags: &[&str]) -> PathBuf {
    let c = dir.join(format!("{name}.c"));
    let o = dir.join(format!("{name}.o"));
    std::fs::write(&c, src).unwrap();
    run(Command::new(tools.cc)
        .args(tools.cflags)
        .args(flags)
        .arg("-c")
        .arg(&c)
        .arg("-o")
        .arg(&o));
    o
}

fn host_push_pack(input: &Path, output: &Path, keep_all: bool) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_host-push"));
    cmd.arg("pack").arg(input).arg("-o").arg(output);
    if keep_all {
        cmd.arg("--keep-all");
    }
    run(&mut cmd);
}

/// `readelf -a -W` must accept the file without warnings.
fn readelf_clean(tools: &Tools, file: &Path) {
    let out = run(Command::new(tools.readelf).args(["-a", "-W"]).arg(file));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("Warning") && !stderr.contains("Error"),
        "{} on {}: {stderr}",
        tools.readelf,
        file.display()
    );
}

/// Links `obj` at a fixed address; `ext_value` is the one undefined symbol.
fn link(tools: &Tools, obj: &Path, out: &Path) -> Vec<u8> {
    run(Command::new(tools.ld)
        .args(tools.ldflags)
        .args(["--no-dynamic-linker", "-e", "0", "-Ttext=0x10000"])
        .args(["--defsym", "ext_value=0x2000"])
        .arg(obj)
        .arg("-o")
        .arg(out));
    std::fs::read(out).unwrap()
}

// ---------------------------------------------------------------------------------------------
// A minimal little-endian ELF reader, independent of the code under test

const SHT_SYMTAB: u32 = 2;
const SHT_STRTAB: u32 = 3;
const SHT_RELA: u32 = 4;
const SHT_NOBITS: u32 = 8;
const SHT_REL: u32 = 9;
const SHT_GROUP: u32 = 17;
const SHF_ALLOC: u64 = 2;

#[derive(Debug, Clone)]
struct Sec {
    name: String,
    /// Length in bytes of the raw name (`name` is lossy UTF-8).
    name_len: usize,
    name_off: u32,
    kind: u32,
    flags: u64,
    addr: u64,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
    align: u64,
}

impl Sec {
    fn is_reloc(&self) -> bool {
        self.kind == SHT_REL || self.kind == SHT_RELA
    }
    fn is_alloc(&self) -> bool {
        self.flags & SHF_ALLOC != 0
    }
    fn file_size(&self) -> u64 {
        if self.kind == SHT_NOBITS {
            0
        } else {
            self.size
        }
    }
}

struct Elf<'a> {
    bytes: &'a [u8],
    is64: bool,
    ehsize: u64,
    shoff: u64,
    shentsize: u64,
    shstrndx: usize,
    secs: Vec<Sec>,
}

fn le(b: &[u8], off: u64, n: usize) -> u64 {
    let off = off as usize;
    b[off..off + n]
        .iter()
        .rev()
        .fold(0, |acc, &x| (acc << 8) | u64::from(x))
}

/// The NUL-terminated bytes at `off` (names may be any bytes, not just UTF-8).
fn cstr(table: &[u8], off: u32) -> &[u8] {
    let rest = &table[off as usize..];
    let end = rest.iter().position(|&b| b == 0).unwrap();
    &rest[..end]
}

impl<'a> Elf<'a> {
    fn parse(bytes: &'a [u8]) -> Self {
        assert_eq!(&bytes[..4], b"\x7fELF");
        let is64 = bytes[4] == 2;
        let w = if is64 { 8 } else { 4 };
        let (shoff, ehsize) = if is64 {
            (le(bytes, 0x28, 8), le(bytes, 0x34, 2))
        } else {
            (le(bytes, 0x20, 4), le(bytes, 0x28, 2))
        };
        let e = if is64 { 0x3a } else { 0x2e };
        let shentsize = le(bytes, e, 2);
        let shnum = le(bytes, e + 2, 2);
        let shstrndx = le(bytes, e + 4, 2) as usize;
        let mut secs = Vec::new();
        for i in 0..shnum {
            let h = shoff + i * shentsize;
            let word = |k: u64| le(bytes, h + 8 + k * w, w as usize);
            let after = h + 8 + 4 * w; // sh_link, sh_info
            secs.push(Sec {
                name: String::new(),
                name_len: 0,
                name_off: le(bytes, h, 4) as u32,
                kind: le(bytes, h + 4, 4) as u32,
                flags: word(0),
                addr: word(1),
                offset: word(2),
                size: word(3),
                link: le(bytes, after, 4) as u32,
                info: le(bytes, after + 4, 4) as u32,
                align: le(bytes, after + 8, w as usize),
            });
        }
        let mut elf = Elf {
            bytes,
            is64,
            ehsize,
            shoff,
            shentsize,
            shstrndx,
            secs,
        };
        let names = elf.data(shstrndx).to_vec();
        for s in &mut elf.secs {
            s.name = String::from_utf8_lossy(cstr(&names, s.name_off)).into_owned();
            s.name_len = cstr(&names, s.name_off).len();
        }
        elf
    }

    fn data(&self, i: usize) -> &'a [u8] {
        let s = &self.secs[i];
        &self.bytes[s.offset as usize..(s.offset + s.file_size()) as usize]
    }

    /// `st_name` of each symbol.
    fn symbol_names(&self, symtab: usize) -> Vec<u32> {
        let size = if self.is64 { 24 } else { 16 };
        self.data(symtab)
            .chunks(size)
            .map(|s| le(s, 0, 4) as u32)
            .collect()
    }

    /// Loaded sections by name: (address, bytes; empty for `SHT_NOBITS`).
    fn loaded(&self) -> BTreeMap<String, (u64, u64, Vec<u8>)> {
        (1..self.secs.len())
            .filter(|&i| self.secs[i].is_alloc())
            .map(|i| {
                let s = &self.secs[i];
                (s.name.clone(), (s.addr, s.size, self.data(i).to_vec()))
            })
            .collect()
    }
}

/// Checks the stream order of `docs/STREAM-ORDER.md` on a packed file.
fn check_structure(bytes: &[u8]) {
    let elf = Elf::parse(bytes);
    let secs = &elf.secs;
    assert_eq!(
        elf.shoff, elf.ehsize,
        "section header table right after the ELF header"
    );
    assert_eq!(elf.shstrndx, 1);
    assert_eq!(secs[1].kind, SHT_STRTAB);
    assert_eq!(secs[2].kind, SHT_SYMTAB);
    assert_eq!(secs[2].link, 3);
    assert_eq!(secs[3].kind, SHT_STRTAB);

    // Index order is file order, each section aligned.
    let mut end = elf.shoff + secs.len() as u64 * elf.shentsize;
    for (i, s) in secs.iter().enumerate().skip(1) {
        assert!(
            s.offset >= end,
            "section {i} ({}) starts before {end}",
            s.name
        );
        assert_eq!(s.offset % s.align.max(1), 0, "section {i} misaligned");
        end = s.offset + s.file_size();
    }
    assert!(end <= bytes.len() as u64);

    // Lock-step string tables.
    let lock_step = |offsets: &mut dyn Iterator<Item = (u32, usize)>, table: &[u8], what| {
        let mut next = 1;
        for (off, len) in offsets {
            if len == 0 {
                assert_eq!(off, 0, "{what}: empty name not at 0");
            } else {
                assert_eq!(off as usize, next, "{what}: name out of lock-step");
                next += len + 1;
            }
        }
        assert_eq!(next, table.len(), "{what}: extra strings");
    };
    let mut names = secs.iter().skip(1).map(|s| (s.name_off, s.name_len));
    lock_step(&mut names, elf.data(1), ".shstrtab");
    let strtab = elf.data(3);
    let mut syms = elf
        .symbol_names(2)
        .into_iter()
        .skip(1)
        .map(|o| (o, cstr(strtab, o).len()));
    lock_step(&mut syms, strtab, ".strtab");

    // Loaded sections first, each immediately followed by its relocation sections.
    let mut seen_unloaded = false;
    for (i, s) in secs.iter().enumerate().skip(4) {
        if s.is_reloc() && s.info != 0 {
            let t = s.info as usize;
            assert!(t < i, "relocation section {i} before its target {t}");
            if secs[t].is_alloc() {
                let between = &secs[t + 1..i];
                assert!(between.iter().all(|b| b.is_reloc() && b.info == s.info));
            }
        } else if s.kind == SHT_GROUP {
            let members = elf.data(i).chunks(4).skip(1).map(|m| le(m, 0, 4));
            for m in members {
                assert!(m as usize > i, "group {i} after its member {m}");
            }
        } else if s.is_alloc() {
            assert!(
                !seen_unloaded,
                "loaded section {i} ({}) after unloaded",
                s.name
            );
        } else {
            seen_unloaded = true;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The checks on one object

/// Packs `obj` both ways and checks readelf, structure, idempotence and linking.
fn check_object(tools: &Tools, obj: &Path) {
    let dir = obj.parent().unwrap();
    let stem = obj.file_stem().unwrap().to_string_lossy().into_owned();
    let packed = dir.join(format!("{stem}.packed.o"));
    let kept = dir.join(format!("{stem}.kept.o"));
    host_push_pack(obj, &packed, false);
    host_push_pack(obj, &kept, true);

    for (file, keep_all) in [(&packed, false), (&kept, true)] {
        readelf_clean(tools, file);
        let bytes = std::fs::read(file).unwrap();
        check_structure(&bytes);
        let again = pack(&bytes, &PackOptions { keep_all }).unwrap();
        assert!(again == bytes, "{} does not pack to itself", file.display());
    }

    let original = std::fs::read(obj).unwrap();
    let orig = Elf::parse(&original);
    let packed_bytes = std::fs::read(&packed).unwrap();
    let p = Elf::parse(&packed_bytes);
    check_dropped(&orig, &p);
    let kept_bytes = std::fs::read(&kept).unwrap();
    let k = Elf::parse(&kept_bytes);
    let mut orig_names: Vec<_> = orig.secs.iter().map(|s| s.name.clone()).collect();
    let mut kept_names: Vec<_> = k.secs.iter().map(|s| s.name.clone()).collect();
    orig_names.sort();
    kept_names.sort();
    assert_eq!(orig_names, kept_names, "--keep-all keeps every section");

    // --keep-all: the linked file is byte-for-byte the same.
    let from_orig = link(tools, obj, &dir.join(format!("{stem}.orig.elf")));
    let from_kept = link(tools, &kept, &dir.join(format!("{stem}.kept.elf")));
    assert!(
        from_orig == from_kept,
        "{stem}: ld output differs with --keep-all"
    );

    // Default: the loaded sections are the same, except those pack drops on purpose.
    let from_packed = link(tools, &packed, &dir.join(format!("{stem}.packed.elf")));
    let mut want = Elf::parse(&from_orig).loaded();
    want.retain(|name, _| !dropped_by_default(name));
    let got = Elf::parse(&from_packed).loaded();
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>()
    );
    for (name, section) in &want {
        assert!(
            &got[name] == section,
            "{stem}: loaded section {name} differs"
        );
    }
}

fn dropped_by_default(name: &str) -> bool {
    name == ".comment"
        || name.starts_with(".debug")
        || name.starts_with(".zdebug")
        || name == ".eh_frame"
        || (name.starts_with(".note.") && name != ".note.GNU-stack")
        || name == ".llvm_addrsig"
}

/// The default pack dropped exactly the unneeded sections and their relocations.
fn check_dropped(orig: &Elf, packed: &Elf) {
    let expect: Vec<&str> = orig
        .secs
        .iter()
        .filter(|s| {
            let target = if s.is_reloc() { s.info as usize } else { 0 };
            let unneeded = |s: &Sec| dropped_by_default(&s.name);
            // Groups whose members are all dropped (e.g. `.debug_macro`) go too.
            !unneeded(s) && (target == 0 || !unneeded(&orig.secs[target])) && s.kind != SHT_GROUP
        })
        .map(|s| s.name.as_str())
        .collect();
    let mut expect: Vec<_> = expect.into_iter().filter(|n| *n != ".shstrtab").collect();
    let mut got: Vec<&str> = packed
        .secs
        .iter()
        .filter(|s| s.kind != SHT_GROUP && s.name != ".shstrtab")
        .map(|s| s.name.as_str())
        .collect();
    expect.sort();
    got.sort();
    assert_eq!(expect, got);
}

/// Compiles `CALLS_C` with `flags` and checks the object.
fn check_flavour(tools: &Tools, name: &str, flags: &[&str]) {
    if !available(tools) {
        return;
    }
    let dir = workdir(name);
    let obj = compile(tools, &dir, "calls", CALLS_C, flags);
    check_object(tools, &obj);
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn x86_64_o2() {
    check_flavour(&HOST, "o2", &["-O2"]);
}

#[test]
fn x86_64_sections() {
    check_flavour(
        &HOST,
        "sections",
        &["-Os", "-ffunction-sections", "-fdata-sections"],
    );
}

#[test]
fn x86_64_pic() {
    check_flavour(&HOST, "pic", &["-O2", "-fPIC", "-ffunction-sections"]);
}

/// `-g3` adds `.debug_macro` sections in COMDAT groups, which the default pack drops whole.
#[test]
fn x86_64_debug() {
    check_flavour(&HOST, "debug", &["-O1", "-g3", "-fdata-sections"]);
}

#[test]
fn x86_64_ld_r() {
    let dir = workdir("ld-r");
    let a = compile(&HOST, &dir, "calls", CALLS_C, &["-O2", "-g"]);
    let b = compile(
        &HOST,
        &dir,
        "other",
        OTHER_C,
        &["-O2", "-g", "-ffunction-sections"],
    );
    let joined = dir.join("joined.o");
    run(Command::new("ld")
        .arg("-r")
        .arg(&a)
        .arg(&b)
        .arg("-o")
        .arg(&joined));
    check_object(&HOST, &joined);
}

/// ELF32 through the host tools (`-m32`).
#[test]
fn i386_sections() {
    check_flavour(
        &HOST32,
        "i386",
        &["-O2", "-ffunction-sections", "-fdata-sections"],
    );
}

#[test]
fn arm_cortex_m3() {
    check_flavour(&ARM, "arm", &["-ffunction-sections", "-fdata-sections"]);
}

#[test]
fn riscv32() {
    check_flavour(
        &RISCV,
        "riscv",
        &["-O2", "-ffunction-sections", "-fdata-sections"],
    );
}

#[test]
fn stdout_without_output_option() {
    let dir = workdir("stdout");
    let obj = compile(&HOST, &dir, "calls", CALLS_C, &["-O2"]);
    let out = run(Command::new(env!("CARGO_BIN_EXE_host-push"))
        .arg("pack")
        .arg(&obj));
    let direct = pack(&std::fs::read(&obj).unwrap(), &PackOptions::default()).unwrap();
    assert!(out.stdout == direct);
}

#[test]
fn cli_errors_name_the_file() {
    let dir = workdir("cli-errors");
    let missing = dir.join("missing.o");
    let exe = env!("CARGO_BIN_EXE_host-push");
    let out = Command::new(exe)
        .arg("pack")
        .arg(&missing)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.o"));

    let bad = dir.join("bad.o");
    std::fs::write(&bad, b"\x7fELF\x02\x02\x01").unwrap();
    let out = Command::new(exe).arg("pack").arg(&bad).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("bad.o") && stderr.contains("EI_DATA"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// Malformed input

fn sample_object(name: &str) -> Vec<u8> {
    let dir = workdir(name);
    let flags = ["-O2", "-g", "-ffunction-sections", "-fdata-sections"];
    std::fs::read(compile(&HOST, &dir, "calls", CALLS_C, &flags)).unwrap()
}

#[test]
fn truncated_inputs_are_errors() {
    let original = sample_object("truncated");
    let packed = pack(&original, &PackOptions::default()).unwrap();
    for len in 0..original.len() {
        // gcc puts the section header table last: every cut loses part of it.
        assert!(pack(&original[..len], &PackOptions::default()).is_err());
    }
    for len in 0..packed.len() {
        // The last section ends the packed file, so every cut reaches into it.
        let result = pack(&packed[..len], &PackOptions::default());
        assert!(result.is_err(), "packed file cut at {len} accepted");
    }
}

#[test]
fn header_errors() {
    let original = sample_object("header-errors");
    let options = PackOptions::default();
    let mut big_endian = original.clone();
    big_endian[5] = 2;
    let err = pack(&big_endian, &options).unwrap_err().to_string();
    assert!(err.contains("EI_DATA"), "{err}");

    let mut exec = original.clone();
    exec[16] = 2; // e_type = ET_EXEC
    let err = pack(&exec, &options).unwrap_err().to_string();
    assert!(err.contains("e_type = 2"), "{err}");

    let mut not_elf = original.clone();
    not_elf[1] = b'X';
    assert!(pack(&not_elf, &options).is_err());
    assert!(pack(b"", &options).is_err());
}

#[test]
fn section_past_end_names_the_section() {
    let original = sample_object("past-end");
    let elf = Elf::parse(&original);
    let i = elf
        .secs
        .iter()
        .position(|s| s.name == ".rela.text.sw")
        .unwrap();
    // sh_size of that section, ELF64: header + 0x20.
    let field = (elf.shoff + i as u64 * elf.shentsize + 0x20) as usize;
    let mut bad = original.clone();
    bad[field..field + 8].copy_from_slice(&(original.len() as u64).to_le_bytes());
    let err = pack(&bad, &PackOptions::default()).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "section {i} (.rela.text.sw): sh_offset+sh_size past end"
        )),
        "{err}"
    );
}

/// A few hundred deterministic byte changes, mostly in the headers: `pack` must not panic,
/// and whatever it accepts must come out in stream order and pack to itself.
#[test]
fn flipped_bytes_never_panic() {
    let original = sample_object("flips");
    let elf = Elf::parse(&original);
    let table = elf.shoff as usize..(elf.shoff + elf.secs.len() as u64 * elf.shentsize) as usize;
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        // xorshift64: deterministic, no dependency.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut accepted = 0;
    for round in 0..600 {
        let r = next();
        let pos = match round % 3 {
            0 => r as usize % 64,
            1 => table.start + r as usize % table.len(),
            _ => r as usize % original.len(),
        };
        let mut bad = original.clone();
        bad[pos] ^= match (r >> 32) % 3 {
            0 => 1 << ((r >> 40) % 8),
            1 => 0xff,
            _ => (r >> 48) as u8 | 1,
        };
        for keep_all in [false, true] {
            let options = PackOptions { keep_all };
            if let Ok(out) = pack(&bad, &options) {
                accepted += 1;
                check_structure(&out);
                let again = pack(&out, &options).expect("packed output packs again");
                assert!(again == out, "round {round}: not idempotent");
            }
        }
    }
    eprintln!("{accepted} of 1200 changed inputs packed");
}
