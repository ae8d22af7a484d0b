//! What GNU ld links, the loader links (issue 9, `docs/LINKING.md`), on the host: objects that
//! failed before, compiled at test time, run through the real `ext-run` from the file and packed
//! through a pipe, and compared with the same object linked natively by `cc` into a program.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{call_args, pack_file, result_lines_in, run_ext, test_dir};

fn source(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/ld_rules")
        .join(name)
}

fn compile(dir: &Path, compiler: &str, name: &str, flags: &[&str]) -> PathBuf {
    test_support::compile_file(dir, compiler, &source(name), flags)
}

/// What `int sym(void)` returns when `objs` are linked natively (by `linker`) into a program.
fn native(dir: &Path, linker: &str, objs: &[PathBuf], sym: &str) -> i64 {
    let main = dir.join("main.c");
    std::fs::write(
        &main,
        format!("#include <stdio.h>\nint {sym}(void);\nint main(void) {{ printf(\"%d\\n\", {sym}()); return 0; }}\n"),
    )
    .unwrap();
    let main_o = dir.join("main.o");
    assert!(
        Command::new("cc")
            .args(["-c", "-o"])
            .arg(&main_o)
            .arg(&main)
            .status()
            .unwrap()
            .success()
    );
    let exe = dir.join("native");
    let st = Command::new(linker)
        .args(objs)
        .arg(&main_o)
        .arg("-o")
        .arg(&exe)
        .status()
        .unwrap();
    assert!(st.success(), "native link failed");
    let out = Command::new(&exe).output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Runs `ext-run objs... --call sym` from the files, then the packed files through a pipe (one
/// object: the pipe carries one stream), and checks `sym = want` each time.
fn runs_as(objs: &[PathBuf], sym: &str, want: i64) {
    let mut args: Vec<String> = objs.iter().map(|p| p.display().to_string()).collect();
    args.extend(call_args(&[sym]));
    let from_file = run_ext(&args, None);
    assert_eq!(
        result_lines_in(&from_file.stdout, &[sym]),
        [format!("{sym} = {want}")],
        "from the file: {}",
        from_file.describe()
    );
    if let [one] = objs {
        let packed = pack_file(one).unwrap();
        let mut args = vec!["-".to_string()];
        args.extend(call_args(&[sym]));
        let piped = run_ext(&args, Some(&packed));
        assert_eq!(
            result_lines_in(&piped.stdout, &[sym]),
            [format!("{sym} = {want}")],
            "packed, through a pipe: {}",
            piped.describe()
        );
    }
}

#[test]
fn symbols_in_empty_sections_and_linker_set_bounds_have_addresses() {
    let dir = test_dir("empty_sections");
    let obj = compile(&dir, "cc", "empty_sections.c", &["-O2"]);
    let want = native(&dir, "cc", std::slice::from_ref(&obj), "test");
    assert_eq!(
        want, 4201,
        "the native build's value (the C source's arithmetic)"
    );
    runs_as(&[obj], "test", want);
}

#[test]
fn sections_of_one_name_are_bracketed_together_as_ld_merges_them() {
    let dir = test_dir("linker_sets");
    let obj = compile(&dir, "cc", "linker_sets.c", &["-O2"]);
    let want = native(&dir, "cc", std::slice::from_ref(&obj), "test");
    assert_eq!(want, 21110);
    runs_as(&[obj], "test", want);
}

#[test]
fn init_and_fini_array_bounds_are_the_extensions_own() {
    let dir = test_dir("init_bounds");
    let obj = compile(&dir, "cc", "init_bounds.c", &["-O2"]);
    // Two constructors (each run once by bringup: 1 + 10), one destructor.
    runs_as(&[obj], "test", 2 * 1000 + 100 + 11);
}

#[test]
fn symbol_names_longer_than_the_name_buffer_load_and_run() {
    let dir = test_dir("long_names");
    let obj = compile(&dir, "c++", "long_names.cpp", &["-O2", "-fno-exceptions"]);
    let longest = std::fs::read(&obj)
        .unwrap()
        .split(|&b| b == 0)
        .map(<[u8]>::len)
        .max()
        .unwrap();
    assert!(longest > 256, "the object has a name of {longest} bytes");
    let want = native(&dir, "c++", std::slice::from_ref(&obj), "test");
    runs_as(&[obj], "test", want);
}

#[test]
fn imports_resolve_through_another_extensions_exported_sym_table() {
    let dir = test_dir("exported_sym");
    let provider = compile(&dir, "cc", "provider.c", &["-O2"]);
    let user = compile(&dir, "cc", "user.c", &["-O2"]);
    // `number` and `twice` are static in the provider: only its `.exported_sym` table names them.
    runs_as(&[provider, user], "get", 2 * 42 + 1);
}
