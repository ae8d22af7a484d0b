//! Rust extension crates (`test-support/rust-ext/`) built at test time by `host-push build`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The folder of the Rust extension crate `name`.
pub fn crate_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("rust-ext")
        .join(name)
}

/// This PC's target triple (`rustc -vV`).
pub fn host_target() -> String {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("run rustc -vV");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("a host line")
        .to_string()
}

/// Whether the Rust standard library for `target` is installed (`rustup target add`).
pub fn target_installed(target: &str) -> bool {
    let Ok(out) = Command::new("rustc").args(["--print", "sysroot"]).output() else {
        return false;
    };
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    sysroot
        .join("lib/rustlib")
        .join(target)
        .join("lib")
        .is_dir()
}

/// Runs `host_push build --release --manifest-path ... [--target T] [--json]` for the crate
/// `name` with `target_dir` as cargo's target folder.
pub fn build_output(
    host_push: &Path,
    target_dir: &Path,
    name: &str,
    target: Option<&str>,
    json: bool,
) -> Output {
    let manifest = crate_dir(name).join("Cargo.toml");
    let mut cmd = Command::new(host_push);
    cmd.args(["build", "--release", "--manifest-path"])
        .arg(&manifest);
    if let Some(t) = target {
        cmd.args(["--target", t]);
    }
    if json {
        cmd.arg("--json");
    }
    cmd.env("CARGO_TARGET_DIR", target_dir)
        .output()
        .expect("run host-push build")
}

/// Builds the crate `name` (see [`build_output`]) and returns the object's path, the last line
/// of standard output. `None`, with a notice, when `target` is not installed; a panic with
/// cargo's messages when the build fails.
pub fn build(
    host_push: &Path,
    target_dir: &Path,
    name: &str,
    target: Option<&str>,
) -> Option<PathBuf> {
    if let Some(t) = target.filter(|t| !target_installed(t)) {
        eprintln!("SKIPPED: Rust target {t} not installed (rustup target add {t})");
        return None;
    }
    let out = build_output(host_push, target_dir, name, target, false);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "host-push build {name} failed:\n{}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = PathBuf::from(stdout.lines().last().expect("a path on the last line"));
    assert!(path.is_file(), "no object at {path:?}");
    Some(path)
}

/// The functions of the `features` crate a test calls in this order, with the values they
/// return on every target.
pub fn features_calls() -> Vec<(&'static str, i64)> {
    vec![
        ("init_value", 42),
        ("formatting", 1),
        ("sorting", three_smallest()),
        ("iterators", 1220),
        ("count", 1),
        ("count", 2),
        ("shapes", 35),
        ("llext_main", 7),
    ]
}

/// Log lines the `features` calls above print (each one a substring of a `[device]` line).
pub const FEATURES_LOG: [&str; 3] = [
    "[device] [   42|0xbeef|(1, 'c')|ab  |-7]",
    "[device] rect 10",
    "[device] hello from Rust on ",
];

/// What the panic of `panics`' `boom` reports, after `panicked at src/lib.rs:LINE:COLUMN: `.
pub const BOOM_MESSAGE: &str = "index out of bounds: the len is 3 but the index is 7";

/// Where `panics`' `boom` panics (`test-support/rust-ext/panics/src/lib.rs`).
pub const BOOM_AT: &str = "src/lib.rs:13:5";

/// Checks what `host-push call panics boom` gave: exit 5 (a fault), no value, and the report
/// with the panic's message and location and where `llext_panic` was called from.
pub fn assert_panic_report(code: i32, stdout: &str, stderr: &str) {
    let all = format!("exit {code}\n{stdout}{stderr}");
    assert_eq!(code, 5, "{all}");
    assert!(!stdout.contains("boom ="), "{all}");
    let head =
        "error: call panics boom: `panics` panicked; the device contained it and marked it faulted";
    assert!(stderr.contains(head), "{all}");
    let message = format!("  - panicked at {BOOM_AT}: {BOOM_MESSAGE}\n");
    assert!(stderr.contains(&message), "{all}");
    // The function, from the location's line in the kept ELF's DWARF.
    assert!(stderr.contains("  - in boom (lib.rs:13)\n"), "{all}");
    let line = BOOM_AT.split(':').nth(1).expect("a line");
    let from = format!("  - panic (line {line}): llext_panic called at 0x");
    assert!(stderr.contains(&from), "{all}");
    assert!(
        stderr.contains("hint: fix it, then `host-push unload panics`"),
        "{all}"
    );
}

/// The sum of the three smallest of `features`' 32 pseudo-random numbers.
fn three_smallest() -> i64 {
    let mut seed = 12345u32;
    let mut v: Vec<u32> = (0..32)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (seed >> 16) % 1000
        })
        .collect();
    v.sort();
    i64::from(v[0] + v[1] + v[2])
}

/// `SYM = VALUE` lines of `host-push` output, as pairs.
pub fn call_values(stdout: &str) -> Vec<(String, i64)> {
    stdout
        .lines()
        .filter_map(|l| l.split_once(" = "))
        .filter_map(|(s, v)| Some((s.to_string(), v.parse().ok()?)))
        .collect()
}
