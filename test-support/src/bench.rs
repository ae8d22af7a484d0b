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

/// C source of `n` functions, each with a jump table (relocated from rodata), a table of string
/// pointers and a call to the one before, and `int run(void)` summing the last one over 0..64:
/// about 210 bytes of text and rodata per function and no firmware calls, for tests of code
/// larger than a device's memory (an install in place links it a window at a time).
pub fn tables_source(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let next = match i {
            0 => "x".to_string(),
            _ => format!("f{}(x) + 1", i - 1),
        };
        writeln!(
            s,
            "static const char *const names{i}[] = {{\"a{i}\", \"bb{i}\", \"ccc{i}\", \"d{i}\"}};\n\
             __attribute__((noinline)) int f{i}(int x) {{\n\
               switch ((x + {i}) & 7) {{\n\
               case 0: x = x * 3 + {i}; break; case 1: x -= {i} * 5; break;\n\
               case 2: x ^= 0x{i:x}5; break; case 3: x += names{i}[1][0]; break;\n\
               case 4: x = (x << 2) - {i}; break; case 5: x += {i} * {i}; break;\n\
               case 6: x = ~x + {i}; break; default: x += 7;\n\
               }}\n\
               x += names{i}[x & 3][1];\n\
               return {next};\n\
             }}"
        )
        .unwrap();
    }
    let last = n.saturating_sub(1);
    writeln!(
        s,
        "int run(void) {{ int s = 0; for (int i = 0; i < 64; i++) s += f{last}(i); return s; }}"
    )
    .unwrap();
    s
}
