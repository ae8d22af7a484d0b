//! Code built with `-fno-pic` (absolute 32-bit addresses, as in a program linked at a fixed
//! address) runs: the host provider places extensions in the low 2 GiB, and calls into the C
//! library, mapped far above, go through the loader's stubs.

mod common;

use std::path::Path;

use common::{pack_file, run_ext, test_dir};

/// Compiles `source` as `dir/NAME.o` with `cc -O2 -fno-pic -c`.
fn no_pic(dir: &Path, name: &str, source: &str) -> std::path::PathBuf {
    test_support::compile_in(dir, "cc", name, source, &["-O2", "-fno-pic"]).expect("cc is needed")
}

/// Runs `ext-run OBJ --call test` from the file and from its packed stream; both must print
/// `test = VALUE`.
fn check(obj: &Path, value: i32) {
    let args = |file: &str| vec![file.to_string(), "--call".into(), "test".into()];
    let from_file = run_ext(&args(obj.to_str().unwrap()), None);
    let packed = pack_file(obj).expect("pack");
    let from_pipe = run_ext(&args("-"), Some(&packed));
    for (how, o) in [("file", from_file), ("stream", from_pipe)] {
        assert!(
            o.success() && o.stdout.contains(&format!("test = {value}")),
            "{how}: {}",
            o.describe()
        );
    }
}

#[test]
fn runs_code_built_with_absolute_addresses() {
    let dir = test_dir("absolute");
    let o = no_pic(
        &dir,
        "abs",
        "int g = 5; int *p(void){return &g;} int test(void){return *p()+1;}\n",
    );
    let relocs = common::tool_output("readelf", &["-r"], &o);
    assert!(relocs.contains("R_X86_64_32"), "{relocs}");
    check(&o, 6);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn code_with_absolute_addresses_reaches_the_c_library_through_stubs() {
    let dir = test_dir("absolute_libc");
    let src = r#"
        #include <string.h>
        #include <stdio.h>
        static const char *words[] = { "one", "three", "seventeen" };
        static char buf[32];
        int test(void) {
            int n = 0;
            for (int i = 0; i < 3; i++)
                n += (int)strlen(words[i]);
            snprintf(buf, sizeof buf, "%d", n);
            return n * 100 + (int)strlen(buf);
        }
    "#;
    let o = no_pic(&dir, "abs_libc", src);
    check(&o, 1702);
    let _ = std::fs::remove_dir_all(&dir);
}
