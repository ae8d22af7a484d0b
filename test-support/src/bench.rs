//! The extensions the benchmarks load: a worst case the size Zephyr users reported (25,300
//! relocations against 300 firmware exports) and a small one.

use std::fmt::Write as _;

/// Firmware exports the large extension calls: `fw_0` .. `fw_299`.
pub const EXPORTS: usize = 300;

/// C source: 100 functions making 250 calls each to the [`EXPORTS`] firmware functions, plus a
/// table of pointers to all of them (data relocations).
pub fn big_source() -> String {
    let mut s = String::new();
    for i in 0..EXPORTS {
        writeln!(s, "int fw_{i}(int);").unwrap();
    }
    for f in 0..100 {
        writeln!(s, "int f{f}(int x) {{").unwrap();
        for c in 0..250 {
            writeln!(s, "  x = fw_{}(x);", (f * 7 + c * 13) % EXPORTS).unwrap();
        }
        writeln!(s, "  return x; }}").unwrap();
    }
    write!(s, "int (*const table[])(int) = {{").unwrap();
    for i in 0..EXPORTS {
        write!(s, "fw_{i},").unwrap();
    }
    writeln!(s, "}};").unwrap();
    s
}

/// A six-line extension: a global, a helper, string formatting through the firmware.
pub const SMALL: &str = r#"
#include <stdio.h>
#include <string.h>
static int counter = 5;
const char *msg = "hello";
int helper(int x) { return x * 3 + counter; }
int go(void) { char buf[32]; snprintf(buf, sizeof buf, "%s-%d", msg, helper(2)); return (int)strlen(buf); }
"#;

/// Compiles `source` with `compiler -c FLAGS` in a scratch directory and returns the object;
/// `None` when the compiler is not installed.
pub fn compile_object(compiler: &str, flags: &[&str], name: &str, source: &str) -> Option<Vec<u8>> {
    let dir = std::env::temp_dir().join(format!("llext-bench-{}", std::process::id()));
    let o = crate::compile_in(&dir, compiler, name, source, flags)?;
    let obj = std::fs::read(&o).expect("read object");
    let _ = std::fs::remove_dir_all(&dir);
    Some(obj)
}

/// C source with 120,000 bytes of initialised data (30,000 `int`s) and a function summing them:
/// a load dominated by copying data, with two relocations.
pub fn data_source() -> String {
    let mut s = String::from("int data[30000] = {");
    for i in 0..30_000u32 {
        write!(s, "{},", i.wrapping_mul(2_654_435_761) % 1000).unwrap();
    }
    s.push_str("};\nint sum(void) { int t = 0; for (int i = 0; i < 30000; i++) t += data[i]; return t; }\n");
    s
}

/// A function calling two firmware exports and reading a global: three relocations (built with
/// `-fno-asynchronous-unwind-tables`, so no `.eh_frame` adds a fourth).
pub const TINY: &str = "int fw_0(int); int fw_1(int);\nint v = 7;\n\
                        int go(void) { return fw_0(v) + fw_1(1); }\n";
