//! Helpers for the C extension corpus tests: compile the sources in
//! `tests/corpus/` with the system `cc` at several flag sets, pack objects into
//! stream order and run the real `ext-run` binary on them (from a file or
//! through a non-seekable pipe), collecting every failure with enough context
//! (file, flags, mode, stderr) to tell what went wrong.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The compiler flag sets every extension is built with (always with `-c`).
/// Debian's gcc 12 defaults to `-fPIE`, no stack protector; the default
/// asynchronous unwind tables (`.eh_frame`) are kept on purpose: the loader has
/// to cope with them. `-fno-pic` code uses absolute 32-bit addresses: the host
/// provider places extensions in the low 2 GiB for it.
pub const FLAG_SETS: &[&[&str]] = &[
    &["-O0"],
    &["-O2"],
    &["-Os", "-ffunction-sections", "-fdata-sections", "-fcommon"],
    &["-O2", "-fPIC"],
    &["-O2", "-fno-pic"],
];

/// How long one `ext-run` may take before it is killed and reported as hung.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

pub fn ext_run() -> &'static str {
    env!("CARGO_BIN_EXE_ext-run")
}

/// Where a test builds its objects: `$CARGO_TARGET_TMPDIR/corpus/<test>.<pid>`
/// (the process id keeps concurrent `cargo test` runs apart). Removed when the
/// test passes, kept for a look when it fails.
pub fn test_dir(test: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("corpus")
        .join(format!("{test}.{}", std::process::id()))
}

/// Objects of one flag set, built into their own directory.
pub struct Build {
    /// Index into [`FLAG_SETS`].
    pub index: usize,
    /// The flags, space separated, for messages.
    pub flags: String,
    pub dir: PathBuf,
}

impl Build {
    /// Path of the object built from `name` (`name.o`).
    pub fn obj(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.o"))
    }
}

/// Compiles `sources` (names in `tests/corpus/` without `.c`) at every flag set
/// into `test_dir(test)/<index>/<name>.o`, adding `extra` flags. A compiler failure is a broken corpus, so it panics.
pub fn build_all(test: &str, sources: &[&str], extra: &[&str]) -> Vec<Build> {
    FLAG_SETS
        .iter()
        .enumerate()
        .map(|(index, flags)| {
            let dir = test_dir(test).join(index.to_string());
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create build dir");
            let mut all_flags: Vec<&str> = flags.to_vec();
            all_flags.extend_from_slice(extra);
            for name in sources {
                let src = corpus_dir().join(format!("{name}.c"));
                let out = dir.join(format!("{name}.o"));
                let output = Command::new("cc")
                    .arg("-c")
                    .args(&all_flags)
                    .arg(&src)
                    .arg("-o")
                    .arg(&out)
                    .output()
                    .expect("run cc");
                assert!(
                    output.status.success(),
                    "cc -c {} {} failed:\n{}",
                    all_flags.join(" "),
                    src.display(),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            Build {
                index,
                flags: all_flags.join(" "),
                dir,
            }
        })
        .collect()
}

/// `ld -r inputs... -o out`.
pub fn ld_r(inputs: &[PathBuf], out: &Path) {
    let output = Command::new("ld")
        .arg("-r")
        .args(inputs)
        .arg("-o")
        .arg(out)
        .output()
        .expect("run ld");
    assert!(
        output.status.success(),
        "ld -r {inputs:?} -o {} failed:\n{}",
        out.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Output of a command-line tool (`readelf`, `nm`) as text, for checks that the
/// corpus really contains what a test is about.
pub fn tool_output(tool: &str, args: &[&str], file: &Path) -> String {
    let output = Command::new(tool)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("run {tool}: {e}"));
    assert!(
        output.status.success(),
        "{tool} {args:?} {} failed",
        file.display()
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Rewrites an object into stream order with `llext_loader::pack::pack`.
pub fn pack_file(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    llext_loader::pack::pack(&bytes, &llext_loader::pack::PackOptions { keep_all: false })
        .map_err(|e| format!("pack {} failed: {e:?}", path.display()))
}

/// What one `ext-run` run did.
pub struct Outcome {
    /// Exit code, `None` if killed by a signal or by the timeout.
    pub code: Option<i32>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// A short description for failure messages.
    pub fn describe(&self) -> String {
        let status = if self.timed_out {
            format!("timed out after {RUN_TIMEOUT:?} (killed)")
        } else {
            match self.code {
                Some(c) => format!("exit code {c}"),
                None => "killed by a signal".to_string(),
            }
        };
        format!(
            "{status}\n    --- stdout ---\n{}\n    --- stderr ---\n{}",
            indent(&self.stdout),
            indent(&self.stderr)
        )
    }
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    | {l}\n"))
        .collect::<String>()
}

/// Runs `ext-run args...`; with `stdin` the bytes are written to a pipe (a
/// non-seekable stream), otherwise stdin is closed.
pub fn run_ext(args: &[String], stdin: Option<&[u8]>) -> Outcome {
    let mut child = Command::new(ext_run())
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ext-run");

    let writer = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        let bytes = bytes.to_vec();
        // ext-run may stop reading early (on an error); a broken pipe is fine.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let mut out_pipe = child.stdout.take().expect("stdout pipe");
    let mut err_pipe = child.stderr.take().expect("stderr pipe");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });

    let deadline = Instant::now() + RUN_TIMEOUT;
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for ext-run") {
            break status;
        }
        if Instant::now() > deadline {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("wait for killed ext-run");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    Outcome {
        code: if timed_out { None } else { status.code() },
        timed_out,
        stdout,
        stderr,
    }
}

/// `--call SYM` for each symbol.
pub fn call_args(syms: &[&str]) -> Vec<String> {
    syms.iter()
        .flat_map(|s| ["--call".to_string(), s.to_string()])
        .collect()
}

/// The `SYM = VALUE` lines expected for `(sym, value)` pairs.
pub fn result_lines(expected: &[(&str, i64)]) -> Vec<String> {
    expected.iter().map(|(s, v)| format!("{s} = {v}")).collect()
}

/// The lines of `stdout` that look like a result of one of `syms` (`SYM = ...`),
/// in order; other output (from the extensions) is ignored.
pub fn result_lines_in(stdout: &str, syms: &[&str]) -> Vec<String> {
    stdout
        .lines()
        .map(str::trim_end)
        .filter(|l| syms.iter().any(|s| l.starts_with(&format!("{s} = "))))
        .map(str::to_string)
        .collect()
}

/// Collects failures of one test so that every file, flag set and mode is tried
/// and all problems are reported together.
pub struct Failures {
    test: &'static str,
    list: Vec<String>,
    checked: usize,
}

impl Failures {
    pub fn new(test: &'static str) -> Self {
        Self {
            test,
            list: Vec::new(),
            checked: 0,
        }
    }

    pub fn checked(&mut self) {
        self.checked += 1;
    }

    pub fn add(&mut self, case: &str, what: impl AsRef<str>) {
        self.list.push(format!("{case}: {}", what.as_ref()));
    }

    /// Panics with every failure, if any; otherwise removes the test's objects.
    pub fn finish(self) {
        if self.list.is_empty() {
            let _ = std::fs::remove_dir_all(test_dir(self.test));
            return;
        }
        let mut msg = format!(
            "{}: {} of {} cases failed\n",
            self.test,
            self.list.len(),
            self.checked
        );
        for f in &self.list {
            let _ = writeln!(msg, "\n* {f}");
        }
        panic!("{msg}");
    }
}

/// One way of giving the objects to ext-run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `ext-run a.o b.o ...`: files as the compiler wrote them, seekable.
    Files,
    /// The object at this position replaced by `-`, its packed (stream order)
    /// form written to ext-run's stdin through a pipe.
    PackedPipe(usize),
}

/// Builds the arguments for `objs` in `mode`, and the bytes to pipe.
pub fn mode_args(objs: &[PathBuf], mode: Mode) -> Result<(Vec<String>, Option<Vec<u8>>), String> {
    let mut args = Vec::new();
    let mut stdin = None;
    for (i, obj) in objs.iter().enumerate() {
        if mode == Mode::PackedPipe(i) {
            stdin = Some(pack_file(obj)?);
            args.push("-".to_string());
        } else {
            args.push(obj.display().to_string());
        }
    }
    Ok((args, stdin))
}

/// Describes a case for messages: `files @ flags (mode)`.
pub fn case_name(objs: &[PathBuf], flags: &str, mode: Mode) -> String {
    let names: Vec<String> = objs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            if mode == Mode::PackedPipe(i) {
                format!("- (packed {n} on a pipe)")
            } else {
                n
            }
        })
        .collect();
    let dir = objs
        .first()
        .and_then(|p| p.parent())
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    format!("[{}] @ `{flags}` in {dir}", names.join(" "))
}

/// Runs `objs` with `--call` for every expected symbol in `mode` and checks the
/// `SYM = VALUE` lines are exactly the expected ones, in order.
pub fn check_calls(
    failures: &mut Failures,
    objs: &[PathBuf],
    flags: &str,
    mode: Mode,
    expected: &[(&str, i64)],
) {
    failures.checked();
    let case = case_name(objs, flags, mode);
    let (mut args, stdin) = match mode_args(objs, mode) {
        Ok(x) => x,
        Err(e) => return failures.add(&case, e),
    };
    let syms: Vec<&str> = expected.iter().map(|(s, _)| *s).collect();
    args.extend(call_args(&syms));
    let out = run_ext(&args, stdin.as_deref());
    if !out.success() {
        return failures.add(&case, format!("ext-run failed: {}", out.describe()));
    }
    let got = result_lines_in(&out.stdout, &syms);
    let want = result_lines(expected);
    if got != want {
        failures.add(
            &case,
            format!(
                "wrong results\n    expected: {want:?}\n    got:      {got:?}\n    {}",
                out.describe()
            ),
        );
    }
}

/// The usual pair of checks: the object as compiled, then packed through a pipe.
pub fn check_file_and_pipe(
    failures: &mut Failures,
    build: &Build,
    obj: &Path,
    expected: &[(&str, i64)],
) {
    let objs = [obj.to_path_buf()];
    check_calls(failures, &objs, &build.flags, Mode::Files, expected);
    check_calls(failures, &objs, &build.flags, Mode::PackedPipe(0), expected);
}
