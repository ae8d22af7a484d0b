//! Rust extension crates (`test-support/rust-ext/`) built at test time by `host-push build`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The folder of the Rust extension crate `name`.
pub fn crate_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("rust-ext")
        .join(name)
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
