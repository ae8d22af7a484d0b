//! The C extension corpus (`tests/corpus/*.c`), compiled at test time with the
//! system `cc` at every flag set of [`common::FLAG_SETS`] and run through the
//! real `ext-run` binary, (a) from the object as the compiler wrote it and
//! (b) packed into stream order and written to ext-run's stdin through a pipe.
//!
//! The expected values are derived by hand from the C sources (the comments in
//! each .c show the arithmetic); they are sums over tables, string hashes and
//! similar, so a wrong relocation changes them.

mod common;

use common::{
    Build, Failures, Mode, build_all, check_calls, check_file_and_pipe, ld_r, pack_file, run_ext,
    tool_output,
};

/// Builds one source at every flag set and checks `expected` for each object,
/// from the file and packed through a pipe.
fn check_single(test: &'static str, source: &str, extra: &[&str], expected: &[(&str, i64)]) {
    let mut failures = Failures::new(test);
    for build in build_all(test, &[source], extra) {
        check_file_and_pipe(&mut failures, &build, &build.obj(source), expected);
    }
    failures.finish();
}

#[test]
fn calls_between_functions_in_both_directions_and_recursively() {
    check_single(
        "calls",
        "calls",
        &[],
        &[
            ("calls_fib20", 6765),
            ("calls_parity", 5001),
            ("calls_updown", 255),
        ],
    );
}

#[test]
fn relocates_initialised_globals_and_pointers_to_data_and_strings() {
    check_single(
        "data",
        "data",
        &[],
        &[
            ("data_sum", 9931),
            ("data_string_hash", 78023),
            ("data_literal_hash", 241516),
            ("data_mutate", 39654),
        ],
    );
}

#[test]
fn relocates_tables_of_function_and_string_pointers() {
    check_single(
        "tables",
        "tables",
        &[],
        &[
            ("tables_ops_ro_sum", 132),
            ("tables_ops_rw_sum", 323),
            ("tables_names_hash", 218317),
            ("tables_first_letters", 7628641),
        ],
    );
}

#[test]
fn dispatches_dense_switches_through_jump_tables() {
    let test = "switch";
    let mut failures = Failures::new(test);
    for build in build_all(test, &["switch"], &[]) {
        let obj = build.obj("switch");
        // The corpus itself: every flag set really emits a jump table, i.e. a
        // relocated .rodata section (one entry per case of switch_apply).
        let relocs = tool_output("readelf", &["-rW"], &obj);
        assert!(
            relocs.contains("'.rela.rodata"),
            "switch.c @ `{}` has no jump table (.rela.rodata*):\n{relocs}",
            build.flags
        );
        check_file_and_pipe(
            &mut failures,
            &build,
            &obj,
            &[("switch_pick_sum", 22740), ("switch_apply_sum", 81197)],
        );
    }
    failures.finish();
}

/// Runs ctors.c and checks the whole stdout: constructors print in priority
/// order before the calls, destructors print in reverse priority order at
/// teardown, after the results.
#[test]
fn runs_constructors_in_priority_order_and_destructors_at_teardown() {
    let test = "ctors";
    let mut failures = Failures::new(test);
    let syms = ["ctors_get_order", "ctors_get_count"];
    let want = [
        "ctor 101",
        "ctor 102",
        "ctor plain",
        "ctors_get_order = 123",
        "ctors_get_count = 126",
        "dtor plain order=123",
        "dtor 102 seen=32",
        "dtor 101 seen=321",
    ];
    for build in build_all(test, &["ctors"], &[]) {
        let objs = [build.obj("ctors")];
        for mode in [Mode::Files, Mode::PackedPipe(0)] {
            failures.checked();
            let case = common::case_name(&objs, &build.flags, mode);
            let (mut args, stdin) = match common::mode_args(&objs, mode) {
                Ok(x) => x,
                Err(e) => {
                    failures.add(&case, e);
                    continue;
                }
            };
            args.extend(common::call_args(&syms));
            let out = run_ext(&args, stdin.as_deref());
            if !out.success() {
                failures.add(&case, format!("ext-run failed: {}", out.describe()));
                continue;
            }
            let got: Vec<&str> = out.stdout.lines().map(str::trim_end).collect();
            if got != want {
                failures.add(
                    &case,
                    format!(
                        "wrong stdout (order of constructor/destructor output and results)\n    \
                         expected: {want:?}\n    got:      {got:?}\n    {}",
                        out.describe()
                    ),
                );
            }
        }
    }
    failures.finish();
}

#[test]
fn aligns_data_rodata_bss_and_code_up_to_512_bytes() {
    check_single(
        "align",
        "align",
        &[],
        &[("align_bits", 31), ("align_contents", 101036)],
    );
}

#[test]
fn allocates_a_large_zeroed_bss() {
    check_single(
        "bigbss",
        "bigbss",
        &[],
        &[("bigbss_touch", 117297), ("bigbss_global_sum", 33435705)],
    );
}

#[test]
fn resolves_undefined_weak_symbols_to_null() {
    check_single(
        "weak",
        "weak",
        &[],
        &[("weak_present", 0), ("weak_mix", 31)],
    );
}

#[test]
fn calls_host_memcpy_and_string_functions_for_struct_copies() {
    let test = "structs";
    let mut failures = Failures::new(test);
    for build in build_all(test, &["structs"], &[]) {
        let obj = build.obj("structs");
        // The corpus itself: the host functions really are called. gcc -Os
        // copies (struct assignments and memcpy alike) and sets with `rep
        // movsb`/`rep stosb`; the other sets call memcpy and memset.
        let undefined = tool_output("nm", &["-u"], &obj);
        let mut called = vec!["memmove", "strlen", "strcmp", "snprintf"];
        if !build.flags.contains("-Os") {
            called.extend(["memcpy", "memset"]);
        }
        for f in called {
            assert!(
                undefined.contains(f),
                "structs.c @ `{}` does not call {f}:\n{undefined}",
                build.flags
            );
        }
        check_file_and_pipe(
            &mut failures,
            &build,
            &obj,
            &[
                ("structs_copy", 745060),
                ("structs_libc", 191250),
                ("structs_format_hash", 20549),
                ("structs_memcpy", 1922613),
            ],
        );
    }
    failures.finish();
}

#[test]
fn loads_two_objects_joined_with_ld_r() {
    let test = "ld_r";
    let mut failures = Failures::new(test);
    for build in build_all(test, &["ldr_a", "ldr_b"], &[]) {
        let joined = build.obj("ldr_ab");
        ld_r(&[build.obj("ldr_a"), build.obj("ldr_b")], &joined);
        check_file_and_pipe(
            &mut failures,
            &build,
            &joined,
            &[
                ("ldr_chain", 105),
                ("ldr_cross_data", 30135),
                ("ldr_b_entry", 353),
            ],
        );
    }
    failures.finish();
}

#[test]
fn links_an_extension_against_an_earlier_extensions_function_and_data() {
    let test = "lib_app";
    let mut failures = Failures::new(test);
    let expected = [("app_main", 431307), ("lib_get_counter", 1003)];
    for build in build_all(test, &["lib", "app"], &[]) {
        let objs = [build.obj("lib"), build.obj("app")];
        for mode in [Mode::Files, Mode::PackedPipe(0), Mode::PackedPipe(1)] {
            check_calls(&mut failures, &objs, &build.flags, mode, &expected);
        }
        // app.o alone (or before lib.o) cannot resolve lib's symbols.
        failures.checked();
        let reversed = [build.obj("app"), build.obj("lib")];
        let case = common::case_name(&reversed, &build.flags, Mode::Files);
        let args: Vec<String> = reversed.iter().map(|p| p.display().to_string()).collect();
        let out = run_ext(&args, None);
        if out.success() || !out.stderr.contains("lib_") {
            failures.add(
                &case,
                format!(
                    "expected a failure naming lib's unresolved symbols, got {}",
                    out.describe()
                ),
            );
        }
    }
    failures.finish();
}

#[test]
fn allocates_common_symbols() {
    let test = "common";
    let mut failures = Failures::new(test);
    for build in build_all(test, &["common"], &["-fcommon"]) {
        let obj = build.obj("common");
        let syms = tool_output("nm", &[], &obj);
        assert!(
            syms.contains(" C common_var"),
            "common.c @ `{}` has no COMMON symbol:\n{syms}",
            build.flags
        );
        check_file_and_pipe(
            &mut failures,
            &build,
            &obj,
            &[("common_check", 1123647), ("common_distinct", 4321)],
        );
    }
    failures.finish();
}

#[test]
fn rejects_an_unpacked_object_on_a_pipe_with_a_stream_order_error() {
    let test = "unpacked_pipe";
    let mut failures = Failures::new(test);
    for build in build_all(test, &["data"], &[]) {
        let obj = build.obj("data");
        failures.checked();
        let case = format!("[- (data.o as compiled, on a pipe)] @ `{}`", build.flags);
        let bytes = std::fs::read(&obj).expect("read data.o");
        let args = vec![
            "-".to_string(),
            "--call".to_string(),
            "data_sum".to_string(),
        ];
        let out = run_ext(&args, Some(&bytes));
        let err = out.stderr.to_lowercase();
        if out.success() || out.timed_out {
            failures.add(
                &case,
                format!("expected a non-zero exit, got {}", out.describe()),
            );
        } else if !err.contains("stream order") || !err.contains("host-push pack") {
            failures.add(
                &case,
                format!(
                    "stderr does not mention both \"stream order\" and \"host-push pack\": {}",
                    out.describe()
                ),
            );
        }
    }
    failures.finish();
}

#[test]
fn reports_every_missing_symbol_by_name() {
    let test = "missing";
    let mut failures = Failures::new(test);
    for build in build_all(test, &["missing"], &[]) {
        let objs = [build.obj("missing")];
        for mode in [Mode::Files, Mode::PackedPipe(0)] {
            failures.checked();
            let case = common::case_name(&objs, &build.flags, mode);
            let (mut args, stdin) = match common::mode_args(&objs, mode) {
                Ok(x) => x,
                Err(e) => {
                    failures.add(&case, e);
                    continue;
                }
            };
            args.extend(common::call_args(&["missing_main"]));
            let out = run_ext(&args, stdin.as_deref());
            if out.success() || out.timed_out {
                failures.add(
                    &case,
                    format!("expected a non-zero exit, got {}", out.describe()),
                );
            } else if !out.stderr.contains("nope_one") || !out.stderr.contains("nope_two") {
                failures.add(
                    &case,
                    format!(
                        "stderr does not name both nope_one and nope_two: {}",
                        out.describe()
                    ),
                );
            }
        }
    }
    failures.finish();
}

/// A JSON number as u64, or a description of what it was instead.
fn json_u64(v: &serde_json::Value, key: &str) -> Result<u64, String> {
    match v.get(key) {
        None => Err(format!("missing key {key:?}")),
        Some(x) => x
            .as_u64()
            .ok_or_else(|| format!("{key:?} is not a non-negative integer: {x}")),
    }
}

/// A count-like field: a positive number or a non-empty array/object.
fn json_count(v: &serde_json::Value, key: &str) -> Result<(), String> {
    match v.get(key) {
        None => Err(format!("missing key {key:?}")),
        Some(serde_json::Value::Number(n)) if n.as_u64().is_some_and(|n| n > 0) => Ok(()),
        Some(serde_json::Value::Array(a)) if !a.is_empty() => Ok(()),
        Some(serde_json::Value::Object(o)) if !o.is_empty() => Ok(()),
        Some(x) => Err(format!("{key:?} should be a positive count, got {x}")),
    }
}

fn check_json(stdout: &str, input_len: u64, exact_len: bool) -> Result<(), String> {
    let start = stdout.find('{').ok_or("no JSON object on stdout")?;
    let value: serde_json::Value = serde_json::Deserializer::from_str(&stdout[start..])
        .into_iter()
        .next()
        .ok_or("no JSON value on stdout")?
        .map_err(|e| format!("stdout is not valid JSON: {e}"))?;
    if !value.is_object() {
        return Err(format!("not a JSON object: {value}"));
    }
    let file_bytes = json_u64(&value, "file_bytes")?;
    let image_bytes = json_u64(&value, "image_bytes")?;
    let peak_bytes = json_u64(&value, "peak_bytes")?;
    json_count(&value, "symbols")?;
    json_count(&value, "relocations")?;
    if image_bytes == 0 {
        return Err(format!("image_bytes is 0 in {value}"));
    }
    if peak_bytes < image_bytes {
        return Err(format!(
            "peak_bytes ({peak_bytes}) < image_bytes ({image_bytes}) in {value}"
        ));
    }
    if exact_len && file_bytes != input_len {
        return Err(format!(
            "file_bytes ({file_bytes}) is not the file's size ({input_len}) in {value}"
        ));
    }
    if !exact_len && (file_bytes == 0 || file_bytes > input_len) {
        return Err(format!(
            "file_bytes ({file_bytes}) is not in 1..={input_len} (bytes piped) in {value}"
        ));
    }
    Ok(())
}

#[test]
fn prints_load_statistics_as_json() {
    let test = "json";
    let mut failures = Failures::new(test);
    for build in build_all(test, &["data"], &[]) {
        let obj = build.obj("data");
        for mode in [Mode::Files, Mode::PackedPipe(0)] {
            failures.checked();
            let objs = [obj.clone()];
            let case = common::case_name(&objs, &build.flags, mode);
            let (mut args, stdin) = match common::mode_args(&objs, mode) {
                Ok(x) => x,
                Err(e) => {
                    failures.add(&case, e);
                    continue;
                }
            };
            args.push("--json".to_string());
            let out = run_ext(&args, stdin.as_deref());
            if !out.success() {
                failures.add(&case, format!("ext-run --json failed: {}", out.describe()));
                continue;
            }
            let (len, exact) = match &stdin {
                Some(b) => (b.len() as u64, false),
                None => (std::fs::metadata(&obj).unwrap().len(), true),
            };
            if let Err(e) = check_json(&out.stdout, len, exact) {
                failures.add(&case, format!("{e}\n    {}", out.describe()));
            }
        }
    }
    failures.finish();
}

/// Every object of the corpus packs into stream order, and the packed form is
/// still a valid ELF that `readelf` reads and `ld -r` accepts.
#[test]
fn packs_every_corpus_object_into_a_valid_elf() {
    let test = "pack_all";
    let sources = [
        "calls", "data", "tables", "switch", "ctors", "align", "bigbss", "weak", "structs", "lib",
        "app", "common", "missing",
    ];
    let mut failures = Failures::new(test);
    let builds: Vec<Build> = build_all(test, &sources, &[]);
    for build in &builds {
        for name in sources {
            failures.checked();
            let obj = build.obj(name);
            let case = format!("[{name}.o] @ `{}`", build.flags);
            let packed = match pack_file(&obj) {
                Ok(p) => p,
                Err(e) => {
                    failures.add(&case, e);
                    continue;
                }
            };
            let out = build.dir.join(format!("{name}.packed.o"));
            std::fs::write(&out, &packed).expect("write packed object");
            let check = std::process::Command::new("ld")
                .arg("-r")
                .arg(&out)
                .arg("-o")
                .arg(build.dir.join(format!("{name}.relinked.o")))
                .output()
                .expect("run ld");
            if !check.status.success() {
                failures.add(
                    &case,
                    format!(
                        "ld -r rejects the packed object: {}",
                        String::from_utf8_lossy(&check.stderr)
                    ),
                );
            }
        }
    }
    failures.finish();
}
