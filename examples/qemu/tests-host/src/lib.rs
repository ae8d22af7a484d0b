//! Test harness for the QEMU firmware: starts `run.sh BOARD`, cross-compiles and packs C
//! extensions, connects the client library, and skips (with a notice) when tools are missing.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use llext_transports::client::Client;

/// A QEMU board with a firmware in `examples/qemu`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Board {
    /// Cortex-M3, `thumbv7m-none-eabi`.
    Mps2,
    /// RV32IMAC, `riscv32imac-unknown-none-elf`.
    Riscv32,
}

impl Board {
    /// The name `run.sh` takes.
    pub fn name(self) -> &'static str {
        match self {
            Board::Mps2 => "mps2-an385",
            Board::Riscv32 => "riscv32-virt",
        }
    }

    fn qemu(self) -> &'static str {
        match self {
            Board::Mps2 => "qemu-system-arm",
            Board::Riscv32 => "qemu-system-riscv32",
        }
    }

    fn target(self) -> &'static str {
        match self {
            Board::Mps2 => "thumbv7m-none-eabi",
            Board::Riscv32 => "riscv32imac-unknown-none-elf",
        }
    }

    /// The C cross compiler and its flags.
    pub fn cc(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Board::Mps2 => ("arm-none-eabi-gcc", &["-mcpu=cortex-m3", "-mthumb", "-Os"]),
            Board::Riscv32 => (
                "riscv64-unknown-elf-gcc",
                &["-march=rv32imac", "-mabi=ilp32", "-Os", "-ffreestanding"],
            ),
        }
    }

    /// `ld` and its emulation for `ld -r`.
    pub fn ld(self) -> (&'static str, &'static [&'static str]) {
        match self {
            Board::Mps2 => ("arm-none-eabi-ld", &[]),
            Board::Riscv32 => ("riscv64-unknown-elf-ld", &["-m", "elf32lriscv"]),
        }
    }

    /// Why the tests for this board cannot run here, if they cannot.
    pub fn missing(self) -> Option<String> {
        let ok = |cmd: &str, arg: &str| {
            Command::new(cmd)
                .arg(arg)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        for tool in [self.qemu(), self.cc().0] {
            if !ok(tool, "--version") {
                return Some(format!("{tool} is not installed"));
            }
        }
        let installed = Command::new("rustup")
            .args(["target", "list", "--installed"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains(self.target()))
            .unwrap_or(true);
        (!installed).then(|| format!("the Rust target {} is not installed", self.target()))
    }

    /// Prints a notice and returns true when the board's tests must be skipped.
    pub fn skip(self, test: &str) -> bool {
        match self.missing() {
            Some(why) => {
                eprintln!("SKIPPED {test} on {}: {why}", self.name());
                true
            }
            None => false,
        }
    }
}

/// `examples/qemu`.
pub fn qemu_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The C corpus shared with `ext-run`'s tests.
pub fn corpus(name: &str) -> PathBuf {
    qemu_dir().join(format!("../ext-run/tests/corpus/{name}.c"))
}

/// The objects GNU ld links and loaders used to refuse (issue 9), shared with `ext-run`'s tests.
pub fn ld_rules(file: &str) -> PathBuf {
    qemu_dir().join(format!("../ext-run/tests/ld_rules/{file}"))
}

/// The firmware in QEMU, started by `run.sh`; stopped when dropped.
pub struct Qemu {
    child: Child,
    /// `tcp:127.0.0.1:PORT`.
    pub port: String,
}

/// Serialises firmware builds: `run.sh` runs cargo, and parallel tests would only wait on its lock.
static BUILD: Mutex<()> = Mutex::new(());

impl Qemu {
    /// Starts `run.sh BOARD ARGS` and waits for `listening on`.
    pub fn start(board: Board, args: &[&str]) -> Qemu {
        // Held until QEMU runs its copy of the firmware, which a build with other features
        // (`--bench`) would replace.
        let _build = BUILD.lock().unwrap_or_else(|e| e.into_inner());
        let run_sh = qemu_dir().join("run.sh");
        let bench: &[&str] = if args.contains(&"--bench") {
            &["--bench"]
        } else {
            &[]
        };
        let status = Command::new(&run_sh)
            .arg(board.name())
            .arg("--build-only")
            .args(bench)
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("RUSTFLAGS")
            .status()
            .expect("run run.sh --build-only");
        assert!(
            status.success(),
            "building the {} firmware failed",
            board.name()
        );
        let mut child = Command::new(&run_sh)
            .arg(board.name())
            .arg("--no-build")
            .args(args)
            .stdout(Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("start run.sh");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("run.sh printed nothing");
        let port = line
            .trim_end()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from run.sh: {line:?}"))
            .to_string();
        Qemu { child, port }
    }

    /// Connects the client library; device log lines are collected in `logs`.
    pub fn connect(&self) -> Device {
        let mut client = Client::connect(&self.port).expect("connect to the firmware");
        // An emulated board on a loaded 2-core machine (the suite runs several QEMUs at once) can
        // be many times slower than real hardware: wait longer than host-push would, so a slow
        // push is not taken for a lost link.
        client.set_timeouts(llext_transports::client::Timeouts {
            answer: Duration::from_secs(10),
            resend: Duration::from_secs(1),
            push_stall: Duration::from_secs(30),
        });
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        client.set_log_handler(move |l| sink.lock().unwrap().push(l.to_string()));
        Device { client, logs }
    }

    /// Whether QEMU is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Stops QEMU (run.sh and QEMU both, by process group) and waits for it.
    pub fn stop(&mut self) {
        let pgid = self.child.id() as i32;
        // SAFETY: signals the process group this harness created for run.sh and its QEMU.
        unsafe { libc::kill(-pgid, libc::SIGTERM) };
        for _ in 0..50 {
            if !self.running() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        // SAFETY: as above; QEMU did not stop on SIGTERM.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A connected client and the device log lines it has received.
pub struct Device {
    /// The client.
    pub client: Client,
    /// Log lines, in arrival order.
    pub logs: Arc<Mutex<Vec<String>>>,
}

impl Device {
    /// Takes the log lines received so far (after polling for `wait`).
    pub fn take_logs(&mut self, wait: Duration) -> Vec<String> {
        let _ = self.client.poll_logs(wait);
        std::mem::take(&mut *self.logs.lock().unwrap())
    }

    /// Pushes a packed image as `name`, panicking with the device's message on failure.
    pub fn push(&mut self, name: &str, image: &[u8]) {
        if let Err(e) = self.client.push(name, image, |_| {}) {
            panic!("push {name}: {e}");
        }
    }

    /// Calls `int sym(void)` of `ext`.
    pub fn call(&mut self, ext: &str, sym: &str) -> i32 {
        self.client
            .call(ext, sym)
            .unwrap_or_else(|e| panic!("call {ext}.{sym}: {e}"))
    }

    /// Extension memory in use.
    pub fn used(&mut self) -> u64 {
        self.client.status().expect("status").used_memory
    }
}

fn build_dir(board: Board) -> PathBuf {
    let d = std::env::temp_dir()
        .join("llext-qemu-tests")
        .join(board.name())
        .join(std::process::id().to_string());
    std::fs::create_dir_all(&d).expect("build dir");
    d
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Cross-compiles C sources for `board` (joining several with `ld -r`) and returns the object.
pub fn compile(board: Board, name: &str, sources: &[PathBuf], extra: &[&str]) -> Vec<u8> {
    let dir = build_dir(board);
    let (cc, flags) = board.cc();
    let mut objs = Vec::new();
    for (i, src) in sources.iter().enumerate() {
        let o = dir.join(format!("{name}.{i}.o"));
        run(Command::new(cc)
            .args(flags)
            .arg("-I")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("include"))
            .args(extra)
            .arg("-c")
            .arg(src)
            .arg("-o")
            .arg(&o));
        objs.push(o);
    }
    let out = if objs.len() == 1 {
        objs.pop().expect("one")
    } else {
        let o = dir.join(format!("{name}.o"));
        let (ld, emulation) = board.ld();
        run(Command::new(ld)
            .args(emulation)
            .arg("-r")
            .args(&objs)
            .arg("-o")
            .arg(&o));
        o
    };
    std::fs::read(out).expect("read object")
}

/// Compiles C source text for `board`.
pub fn compile_text(board: Board, name: &str, source: &str) -> Vec<u8> {
    let c = build_dir(board).join(format!("{name}.c"));
    std::fs::write(&c, source).expect("write source");
    compile(board, name, &[c], &[])
}

/// Packs an object into stream order.
pub fn pack(obj: &[u8]) -> Vec<u8> {
    llext_loader::pack::pack(obj, &Default::default()).expect("pack")
}

/// Compiles and packs one corpus file.
pub fn corpus_ext(board: Board, name: &str) -> Vec<u8> {
    pack(&compile(board, name, &[corpus(name)], &[]))
}

/// A large generated extension: `n` functions, a table of pointers to them and strings, and
/// calls into the firmware; `big_sum` returns the value given alongside.
pub fn large_extension(n: usize) -> (String, i32) {
    let mut src =
        String::from("unsigned strlen(const char *);\nvoid *memset(void *, int, unsigned);\n");
    let mut expect: i32 = 0;
    for i in 0..n {
        src.push_str(&format!(
            "static const char s{i}[] = \"name-{i}\";\nint f{i}(int x) {{ return x * {m} + (int)strlen(s{i}); }}\n",
            m = i % 97 + 1
        ));
        let len = format!("name-{i}").len() as i32;
        expect = expect.wrapping_add(((i as i32) * (i as i32 % 97 + 1)) + len);
    }
    src.push_str("static int (*const table[])(int) = {");
    for i in 0..n {
        src.push_str(&format!("f{i},"));
    }
    src.push_str("};\nint big_sum(void) { int s = 0; for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++) s += table[i]((int)i); return s; }\n");
    (src, expect)
}

/// The real `host-push`, built by the workspace next to the tests; `None` (with a notice that
/// `test` is skipped) when it is not built.
pub fn host_push(test: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().expect("test path");
    let found = exe
        .parent()
        .and_then(|d| d.parent())
        .map(|d| d.join("host-push"))
        .filter(|p| p.exists());
    if found.is_none() {
        eprintln!("SKIPPED {test}: host-push is not built (cargo build -p host-push)");
    }
    found
}

/// What a run of `host-push` gave.
pub struct HostPushRun {
    /// Its exit code.
    pub code: i32,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

impl std::fmt::Display for HostPushRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n{}{}", self.code, self.stdout, self.stderr)
    }
}

/// `host-push ARGS`, keeping pushed images in `cache` when given.
pub fn host_push_run(exe: &Path, cache: Option<&Path>, args: &[&str]) -> HostPushRun {
    let mut cmd = Command::new(exe);
    cmd.args(args);
    if let Some(c) = cache {
        cmd.env("HOST_PUSH_CACHE", c);
    }
    let out = cmd.output().expect("run host-push");
    HostPushRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `host-push ARGS` (kept images in `cache` when given): its standard output, after checking
/// that it succeeded.
pub fn run_host_push(exe: &Path, cache: Option<&Path>, args: &[&str]) -> String {
    let r = host_push_run(exe, cache, args);
    assert!(r.code == 0, "host-push {args:?}: {r}");
    r.stdout
}

pub mod bench;
pub mod fault;
pub mod flash;
pub mod gdb;
pub mod monitor;
pub mod rust;
pub mod signed;
pub mod suite;

/// The end-to-end tests every board runs, as `#[test]` functions for board `$board`.
#[macro_export]
macro_rules! board_suite {
    ($board:expr) => {
        use $crate::{Board, suite};

        const B: Board = $board;

        #[test]
        fn rust_extensions_run_with_the_sdk() {
            if !B.skip("rust") {
                $crate::rust::rust_extensions(B);
            }
        }

        #[test]
        fn corpus_runs_with_the_expected_results() {
            if !B.skip("corpus") {
                suite::corpus_runs(B);
            }
        }

        #[test]
        fn calls_into_the_firmware_and_printf_to_the_log() {
            if !B.skip("firmware_calls") {
                suite::firmware_calls_and_log(B);
            }
        }

        #[test]
        fn constructors_and_destructors_run_in_order() {
            if !B.skip("ctors") {
                suite::ctors_and_dtors(B);
            }
        }

        #[test]
        fn one_extension_uses_another() {
            if !B.skip("two_extensions") {
                suite::two_extensions(B);
            }
        }

        #[test]
        fn unload_and_reload_returns_the_pool_to_its_baseline() {
            if !B.skip("reload") {
                suite::reload_many_times(B, 25);
            }
        }

        #[test]
        fn calling_a_data_symbol_is_refused() {
            if !B.skip("not_code") {
                suite::data_symbols_are_not_called(B);
            }
        }

        #[test]
        fn malformed_elf_and_cut_link_leave_the_firmware_running() {
            if !B.skip("bad_input") {
                suite::survives_bad_input(B);
            }
        }

        #[test]
        fn load_figures_under_icount() {
            if !B.skip("figures") {
                let (f, size) = suite::figures(B, 400);
                println!("{}: large extension {size} B packed: {f:?}", B.name());
                assert!(f.transient_peak > 0 && f.count > 0);
            }
        }

        #[test]
        fn start_up_bench_reports_guest_instructions_per_load() {
            if !B.skip("bench") {
                qemu_tests::bench::check(B);
            }
        }

        #[test]
        fn objects_gnu_ld_links_load_and_run() {
            if !B.skip("ld_rules") {
                suite::ld_rules(B);
            }
        }

        #[test]
        fn signed_pushes_run_and_refusals_lose_nothing() {
            if !B.skip("signed_pushes") {
                $crate::signed::signed_pushes(B);
            }
        }

        #[test]
        fn host_push_pushes_and_calls() {
            if !B.skip("host_push_cli") {
                suite::host_push_cli(B);
            }
        }
    };
}
