//! Helpers for the sim-device tests: start the real binary, build C extensions with the system
//! `cc` and pack them into stream order.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `sim-device`, killed when dropped.
pub struct SimDevice {
    child: Child,
    /// What it printed after `listening on `.
    pub address: String,
}

impl SimDevice {
    /// Starts `sim-device ARGS` and waits for its `listening on ADDRESS` line.
    pub fn start(args: &[&str]) -> SimDevice {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sim-device"))
            .args(args)
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

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }
}

impl Drop for SimDevice {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    let dir = build_dir();
    let c = dir.join(format!("{name}.c"));
    let o = dir.join(format!("{name}.o"));
    std::fs::write(&c, source).expect("write source");
    let out = Command::new("cc")
        .args(["-c", "-O2", "-o"])
        .arg(&o)
        .arg(&c)
        .output()
        .expect("run cc");
    assert!(
        out.status.success(),
        "cc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let obj = std::fs::read(&o).expect("read object");
    llext_loader::pack::pack(&obj, &Default::default()).expect("pack")
}

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

/// Prints through the device log: `hello_main` returns 112.
pub const HELLO: &str = include_str!("../../../sample/hello.c");

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
