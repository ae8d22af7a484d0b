//! Helpers for the sim-device tests: start the real binary, build C extensions with the system
//! `cc` and pack them into stream order.

#![allow(dead_code)]

pub mod raw;

use std::path::PathBuf;

#[allow(unused_imports)] // each test binary uses a different part
pub use test_support::{APP, HELLO, LIB, SimDevice};

/// Starts this package's `sim-device ARGS`.
pub fn start(args: &[&str]) -> SimDevice {
    SimDevice::start(std::path::Path::new(env!("CARGO_BIN_EXE_sim-device")), args)
}

fn build_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("sim-device")
        .join(std::process::id().to_string());
    std::fs::create_dir_all(&d).expect("build dir");
    d
}

/// Compiles C `source` with `cc -c -O2` and packs the object into stream order.
pub fn build(name: &str, source: &str) -> Vec<u8> {
    llext_loader::pack::pack(&build_raw(name, source), &Default::default()).expect("pack")
}

/// Compiles C `source` with `cc -c -O2` (the object as the compiler wrote it).
pub fn build_raw(name: &str, source: &str) -> Vec<u8> {
    let o =
        test_support::compile_in(&build_dir(), "cc", name, source, &["-O2"]).expect("cc is needed");
    std::fs::read(&o).expect("read object")
}

/// A fresh (missing) flash file for test `name`.
pub fn flash_file(name: &str) -> PathBuf {
    let f = build_dir().join(format!("{name}.flash"));
    let _ = std::fs::remove_file(&f);
    f
}

/// An extension whose result depends on every byte of a `n`-entry table, and the value its
/// `check` returns: a damaged byte that slipped through would change the value.
pub fn table_extension(n: usize) -> (String, i32) {
    let mut src = String::from("static const unsigned table[] = {");
    let mut expect: u32 = 0;
    let mut x: u32 = 0x1234_5678;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        src.push_str(&format!("{x}u,"));
        expect = expect.wrapping_mul(31).wrapping_add(x ^ i as u32);
    }
    src.push_str(
        "};\nint check(void) { unsigned h = 0; for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++) h = h * 31u + (table[i] ^ i); return (int)(h & 0x7fffffff); }\n",
    );
    (src, (expect & 0x7fff_ffff) as i32)
}
