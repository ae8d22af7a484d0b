//! The `bench` feature's build step: generates the large extension (functions chained through
//! calls to the firmware's exports, and a table of pointers to them), compiles it with the
//! board's cross compiler, packs it into stream order and writes `$OUT_DIR/bench.llext`. Without a
//! compiler the file is empty and the firmware reports the bench as skipped.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

/// What the firmware exports (`src/exports.rs`).
const EXPORTS: [&str; 12] = [
    "memcpy", "memset", "memmove", "memcmp", "strlen", "strcmp", "strncmp", "strcpy", "strchr",
    "snprintf", "puts", "printf",
];
/// Functions in the extension.
const FUNCS: usize = 100;
/// Calls to firmware exports in each function.
const CALLS: usize = 250;

/// The C source: as `loader/benches/load.rs`'s `big_source`, against the firmware's exports.
fn source() -> String {
    let mut s = String::new();
    for e in EXPORTS {
        writeln!(s, "int {e}(int);").unwrap();
    }
    for f in 0..FUNCS {
        writeln!(s, "int f{f}(int x) {{").unwrap();
        for c in 0..CALLS {
            writeln!(s, "  x = {}(x);", EXPORTS[(f * 7 + c * 13) % EXPORTS.len()]).unwrap();
        }
        writeln!(s, "  return x; }}").unwrap();
    }
    write!(s, "int (*const table[])(int) = {{").unwrap();
    for e in EXPORTS {
        write!(s, "{e},").unwrap();
    }
    writeln!(s, "}};").unwrap();
    s
}

/// Flags as the QEMU tests compile extensions (`examples/qemu/tests-host`).
fn flags(target: &str) -> &'static [&'static str] {
    if target.starts_with("thumbv7m") {
        &["-mcpu=cortex-m3", "-mthumb"]
    } else if target.starts_with("riscv32imac") {
        &["-march=rv32imac", "-mabi=ilp32"]
    } else {
        &[]
    }
}

/// Builds the extension, or returns why it cannot.
fn extension(out: &std::path::Path) -> Result<Vec<u8>, String> {
    let target = std::env::var("TARGET").unwrap_or_default();
    let cc = cc::Build::new()
        .try_get_compiler()
        .map_err(|e| format!("no C compiler for {target}: {e}"))?;
    let c = out.join("bench.c");
    let o = out.join("bench.o");
    std::fs::write(&c, source()).map_err(|e| e.to_string())?;
    let status = Command::new(cc.path())
        .args(flags(&target))
        // No identical-code folding: every function stays, with its own relocations.
        .args([
            "-Os",
            "-fno-ipa-icf",
            "-ffreestanding",
            "-fno-builtin",
            "-w",
            "-c",
        ])
        .arg(&c)
        .arg("-o")
        .arg(&o)
        .status()
        .map_err(|e| format!("{}: {e}", cc.path().display()))?;
    if !status.success() {
        return Err(format!("{} failed on {}", cc.path().display(), c.display()));
    }
    let obj = std::fs::read(&o).map_err(|e| e.to_string())?;
    llext_loader::pack::pack(&obj, &Default::default()).map_err(|e| format!("pack: {e}"))
}

/// Writes `$OUT_DIR/bench.llext` (empty when the extension cannot be built).
pub fn build() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let packed = extension(&out).unwrap_or_else(|why| {
        println!(
            "cargo:warning=bench extension not built ({why}); the firmware will skip the bench"
        );
        Vec::new()
    });
    std::fs::write(out.join("bench.llext"), packed).unwrap();
}
