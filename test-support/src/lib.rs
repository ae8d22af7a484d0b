//! Helpers the integration tests of several crates share: a running `sim-device`, C extensions
//! compiled by a real compiler, and the sample extensions the tests push.

pub mod bench;
pub mod elf;
pub mod rng;
pub mod rust;
mod sim;

pub use sim::SimDevice;

use std::path::Path;
use std::process::Command;

/// Compiles C `source` as `dir/NAME.c` into `dir/NAME.o` with `compiler -c FLAGS`; `None` when
/// the compiler is not installed (the caller prints a skip notice), a panic naming the compiler
/// and its message when it fails.
pub fn compile_in(
    dir: &Path,
    compiler: &str,
    name: &str,
    source: &str,
    flags: &[&str],
) -> Option<std::path::PathBuf> {
    static UNIQUE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    if Command::new(compiler).arg("--version").output().is_err() {
        return None;
    }
    std::fs::create_dir_all(dir).expect("build dir");
    // Tests running side by side may build the same NAME: each writes its own files and moves
    // the object into place in one step, so nobody reads a half-written object.
    let n = UNIQUE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let c = dir.join(format!("{name}.{n}.c"));
    let tmp = dir.join(format!("{name}.{n}.o"));
    let o = dir.join(format!("{name}.o"));
    std::fs::write(&c, source).expect("write source");
    let out = Command::new(compiler)
        .args(flags)
        .arg("-c")
        .arg(&c)
        .arg("-o")
        .arg(&tmp)
        .output()
        .expect("run compiler");
    assert!(
        out.status.success(),
        "{compiler} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(&c);
    std::fs::rename(&tmp, &o).expect("move the object into place");
    Some(o)
}

/// Compiles the source file `src` (C, C++ or assembly, by its extension) into
/// `dir/COMPILER-FILE.o` with `compiler -c FLAGS`; panics naming the compiler and its message when
/// it fails (or is not installed: `.ci/run` installs every compiler the tests use).
pub fn compile_file(dir: &Path, compiler: &str, src: &Path, flags: &[&str]) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).expect("build dir");
    let file = src.file_name().expect("a file").to_string_lossy();
    let o = dir.join(format!("{compiler}-{file}.o"));
    let out = Command::new(compiler)
        .args(flags)
        .arg("-c")
        .arg(src)
        .arg("-o")
        .arg(&o)
        .output()
        .unwrap_or_else(|e| panic!("run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "{compiler} {file} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    o
}

/// The repository's sample extension: prints three lines, `hello_main` returns 112.
pub const HELLO: &str = include_str!("../../examples/sample/hello.c");

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

/// Corpus files (`examples/ext-run/tests/corpus/`), the functions called and the values expected
/// (derived in ext-run's tests).
pub const CORPUS: &[(&str, &[(&str, i32)])] = &[
    (
        "calls",
        &[
            ("calls_fib20", 6765),
            ("calls_parity", 5001),
            ("calls_updown", 255),
        ],
    ),
    (
        "data",
        &[
            ("data_sum", 9931),
            ("data_string_hash", 78023),
            ("data_literal_hash", 241516),
            ("data_mutate", 39654),
        ],
    ),
    (
        "tables",
        &[
            ("tables_ops_ro_sum", 132),
            ("tables_ops_rw_sum", 323),
            ("tables_names_hash", 218317),
            ("tables_first_letters", 7628641),
        ],
    ),
    (
        "switch",
        &[("switch_pick_sum", 22740), ("switch_apply_sum", 81197)],
    ),
    ("align", &[("align_bits", 31), ("align_contents", 101036)]),
    (
        "bigbss",
        &[("bigbss_touch", 117297), ("bigbss_global_sum", 33435705)],
    ),
    ("weak", &[("weak_present", 0), ("weak_mix", 31)]),
    (
        "structs",
        &[
            ("structs_copy", 745060),
            ("structs_libc", 191250),
            ("structs_format_hash", 20549),
            ("structs_memcpy", 1922613),
        ],
    ),
];
