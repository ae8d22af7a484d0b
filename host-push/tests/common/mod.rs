//! Helpers for tests against the real `sim-device`: find (or build) its binary, start it, run
//! `host-push`, compile C extensions with the system `cc`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The `sim-device` binary next to `host-push`'s, built (or brought up to date) by
/// `cargo build -p sim-device` into the same target directory and profile.
pub fn sim_device_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let host_push = Path::new(env!("CARGO_BIN_EXE_host-push"));
        let profile_dir = host_push.parent().expect("bin dir");
        let bin = profile_dir.join("sim-device");
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") | None => "dev",
            Some(p) => p,
        };
        let target_dir = profile_dir.parent().expect("target dir");
        let out = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "sim-device", "--profile", profile])
            .arg("--target-dir")
            .arg(target_dir)
            .output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) if bin.exists() => eprintln!(
                "note: `cargo build -p sim-device` failed, using the existing binary: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Ok(o) => panic!(
                "cargo build -p sim-device failed: {}",
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) if bin.exists() => eprintln!("note: cannot run cargo ({e}), using {bin:?}"),
            Err(e) => panic!("cannot run cargo to build sim-device: {e}"),
        }
        assert!(bin.exists(), "no sim-device at {bin:?}");
        bin
    })
}

#[allow(unused_imports)] // each test binary uses a different part
pub use test_support::{APP, HELLO, LIB, SimDevice};

/// Starts `sim-device --listen LISTEN` and waits for its `listening on ADDRESS` line.
pub fn start_sim(listen: &str) -> SimDevice {
    SimDevice::start(sim_device_bin(), &["--listen", listen])
}

/// What `host-push ARGS` did.
pub struct Run {
    /// Exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Standard output as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self}"))
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs the real `host-push` binary.
pub fn host_push(args: &[&str]) -> Run {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_host-push"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run host-push");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn scratch() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("host-push-device")
        .join(std::process::id().to_string());
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// Compiles C `source` into `NAME.o` with `compiler -c -O2 FLAGS`; `None` (and a notice) when
/// the compiler is not installed.
pub fn compile_with(compiler: &str, name: &str, source: &str, flags: &[&str]) -> Option<String> {
    let flags: Vec<&str> = ["-O2"].iter().chain(flags).copied().collect();
    let Some(o) = test_support::compile_in(&scratch(), compiler, name, source, &flags) else {
        eprintln!("SKIPPED: {compiler} not installed");
        return None;
    };
    Some(o.to_str().expect("utf-8 path").to_string())
}

/// Compiles C `source` into `NAME.o` with the system `cc`.
pub fn compile(name: &str, source: &str) -> String {
    compile_with("cc", name, source, &[]).expect("cc is needed")
}

/// Calls three functions no firmware exports.
pub const MISSING: &str = r#"
int fw_alpha(void);
int fw_beta(int);
extern int fw_gamma;
int entry(void) { return fw_alpha() + fw_beta(2) + fw_gamma; }
"#;
