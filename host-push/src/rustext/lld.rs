//! `rust-lld -r`: the crate's object joined with the archive members it calls.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::exit::{Failure, OTHER};

/// The `rust-lld` of the active toolchain (`SYSROOT/lib/rustlib/HOST/bin/rust-lld`).
fn rust_lld() -> Result<PathBuf> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string());
    let out = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .with_context(|| format!("cannot run `{rustc} --print sysroot`"))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let lld = sysroot
        .join("lib/rustlib")
        .join(super::host_triple()?)
        .join("bin/rust-lld");
    if lld.exists() {
        Ok(lld)
    } else {
        Err(
            Failure::new(OTHER, format!("no linker at {}", lld.display()))
                .hint("rustup toolchains ship rust-lld; reinstall the toolchain with rustup")
                .into(),
        )
    }
}

/// Links `own` with the members of `lib` that define what it still needs into the relocatable
/// object `out`. Members are taken only for undefined symbols, so unused builtins stay out.
pub fn join(own: &Path, lib: &Path, out: &Path) -> Result<()> {
    run(&[own.as_os_str(), lib.as_os_str()], out)
}

/// What `merge` gives `ld -r`: function and data sections into one section of each kind
/// (`.init_array.NNNNN`, `.exported_sym` and the like keep their own).
const MERGE_SCRIPT: &str = "SECTIONS {
  .text : { *(.text .text.*) }
  .rodata : { *(.rodata .rodata.* .srodata .srodata.*) }
  .data : { *(.data .data.* .sdata .sdata.*) }
  .bss : { *(.bss .bss.* .sbss .sbss.* COMMON) }
}
";

/// Joins the function and data sections of `input` into one `.text`, `.rodata`, `.data` and
/// `.bss` (with `ld -r`, which rewrites the relocations): fewer section headers, relocation
/// sections and names to send and to keep on the device.
pub fn merge(input: &Path, out: &Path) -> Result<()> {
    let script = out.with_extension("ld");
    std::fs::write(&script, MERGE_SCRIPT)
        .with_context(|| format!("cannot write {}", script.display()))?;
    let result = run(&["-T".as_ref(), script.as_os_str(), input.as_os_str()], out);
    let _ = std::fs::remove_file(&script);
    result
}

fn run(inputs: &[&std::ffi::OsStr], out: &Path) -> Result<()> {
    let lld = rust_lld()?;
    let result = Command::new(&lld)
        .args(["-flavor", "gnu", "-r", "-o"])
        .arg(out)
        .args(inputs)
        .output()
        .with_context(|| format!("cannot run {}", lld.display()))?;
    if result.status.success() {
        return Ok(());
    }
    Err(Failure::new(
        OTHER,
        format!(
            "rust-lld -r failed: {}",
            String::from_utf8_lossy(&result.stderr).trim()
        ),
    )
    .into())
}
