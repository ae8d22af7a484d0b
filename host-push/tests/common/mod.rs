//! Helpers for tests against the real `sim-device`: find (or build) its binary, start it, run
//! `host-push`, compile C extensions with the system `cc`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::Duration;

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

/// A running `sim-device`, killed when dropped.
pub struct SimDevice {
    child: Child,
    /// What it printed after `listening on ` (`tcp:127.0.0.1:PORT` or `/dev/pts/N`).
    pub address: String,
}

impl SimDevice {
    /// Starts `sim-device --listen LISTEN` and waits for its `listening on ADDRESS` line.
    pub fn start(listen: &str) -> SimDevice {
        let mut child = Command::new(sim_device_bin())
            .args(["--listen", listen])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sim-device");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("sim-device printed nothing");
        let address = line
            .trim_end()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        SimDevice { child, address }
    }
}

impl Drop for SimDevice {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    if Command::new(compiler).arg("--version").output().is_err() {
        eprintln!("SKIPPED: {compiler} not installed");
        return None;
    }
    let dir = scratch();
    let c = dir.join(format!("{name}.c"));
    let o = dir.join(format!("{name}.o"));
    std::fs::write(&c, source).expect("write source");
    let out = Command::new(compiler)
        .args(["-c", "-O2"])
        .args(flags)
        .arg("-o")
        .arg(&o)
        .arg(&c)
        .output()
        .expect("run compiler");
    assert!(
        out.status.success(),
        "{compiler} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(o.to_str().expect("utf-8 path").to_string())
}

/// Compiles C `source` into `NAME.o` with the system `cc`.
pub fn compile(name: &str, source: &str) -> String {
    compile_with("cc", name, source, &[]).expect("cc is needed")
}

/// The repository's sample extension: prints three lines, `hello_main` returns 112.
pub const HELLO: &str = include_str!("../../../examples/sample/hello.c");

/// An extension that exports a function and data to extensions loaded after it.
pub const LIB: &str = r#"
int lib_counter = 1000;
const char *lib_name = "library";
int lib_add(int a, int b) { lib_counter += 1; return a + b; }
int lib_get_counter(void) { return lib_counter; }
"#;

/// Uses `LIB`'s function and data: `app_main` returns 431307 on its first call.
pub const APP: &str = r#"
extern int lib_counter;
extern const char *lib_name;
int lib_add(int a, int b);
static int (*app_add_ptr)(int, int) = lib_add;
int *app_counter_ptr = &lib_counter;
int app_main(void)
{
    int a = lib_add(20, 22);
    int b = app_add_ptr(5, 6);
    lib_counter += 1;
    int len = 0;
    while (lib_name[len])
        len++;
    return a * 10000 + b * 1000 + (*app_counter_ptr - 1000) * 100 + len;
}
"#;

/// Calls three functions no firmware exports.
pub const MISSING: &str = r#"
int fw_alpha(void);
int fw_beta(int);
extern int fw_gamma;
int entry(void) { return fw_alpha() + fw_beta(2) + fw_gamma; }
"#;
