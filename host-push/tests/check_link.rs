//! `host-push check` lists every problem before anything is sent; `host-push link` writes the
//! loader's own link as `layout.json` and section images.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn host_push(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_host-push"))
        .args(args)
        .output()
        .expect("run host-push")
}

fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("check-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn compile(cc: &str, dir: &Path, stem: &str, src: &str, flags: &[&str]) -> Option<PathBuf> {
    if Command::new(cc).arg("--version").output().is_err() {
        eprintln!("SKIPPED: {cc} not installed");
        return None;
    }
    let c = dir.join(format!("{stem}.c"));
    let o = dir.join(format!("{stem}.o"));
    std::fs::write(&c, src).unwrap();
    let out = Command::new(cc)
        .args(flags)
        .arg("-c")
        .arg(&c)
        .arg("-o")
        .arg(&o)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(o)
}

/// `host-push link O --exports EX --base BASE --out OUT`, which must succeed; its layout.json.
fn link(o: &Path, ex: &Path, base: &str, out: &Path) -> serde_json::Value {
    let run = host_push(&[
        "link",
        o.to_str().unwrap(),
        "--exports",
        ex.to_str().unwrap(),
        "--base",
        base,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&std::fs::read(out.join("layout.json")).unwrap()).unwrap()
}

const EXT: &str = "int puts(const char *); int fw_a(int); int fw_b(int);\n\
    int counter = 3;\n\
    int entry(void) { puts(\"x\"); return fw_a(counter) + fw_b(2); }\n";

#[test]
fn check_passes_when_every_symbol_is_exported() {
    let dir = scratch("ok");
    let o = compile("cc", &dir, "e", EXT, &["-O2"]).unwrap();
    let ex = dir.join("exports.txt");
    std::fs::write(
        &ex,
        "# arch: x86_64\nputs 0x401000\nfw_a 0x401010\nfw_b 0x401020\n",
    )
    .unwrap();
    let out = host_push(&[
        "check",
        o.to_str().unwrap(),
        "--exports",
        ex.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("would load"));
}

#[test]
fn check_lists_every_missing_symbol_and_fails() {
    let dir = scratch("missing");
    let o = compile("cc", &dir, "e", EXT, &["-O2"]).unwrap();
    let ex = dir.join("exports.txt");
    std::fs::write(&ex, "puts 0x401000\n").unwrap();
    let out = host_push(&[
        "check",
        o.to_str().unwrap(),
        "--exports",
        ex.to_str().unwrap(),
        "--json",
    ]);
    assert!(!out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    let problems: Vec<String> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    assert!(problems.iter().any(|p| p.contains("fw_a")), "{problems:?}");
    assert!(problems.iter().any(|p| p.contains("fw_b")), "{problems:?}");
    assert_eq!(problems.len(), 2, "{problems:?}");
}

#[test]
fn check_reports_a_wrong_architecture() {
    let dir = scratch("arch");
    let o = compile("cc", &dir, "e", EXT, &["-O2"]).unwrap();
    let ex = dir.join("exports.txt");
    std::fs::write(&ex, "# arch: arm\nputs 0x1001\n").unwrap();
    let out = host_push(&[
        "check",
        o.to_str().unwrap(),
        "--exports",
        ex.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("built for x86_64") && err.contains("arm"),
        "{err}"
    );
}

#[test]
fn check_reports_a_float_abi_mismatch() {
    let dir = scratch("float");
    let Some(o) = compile(
        "arm-none-eabi-gcc",
        &dir,
        "f",
        "float scale(float x) { return x * 2.5f; }",
        &[
            "-mcpu=cortex-m4",
            "-mthumb",
            "-mfloat-abi=hard",
            "-mfpu=fpv4-sp-d16",
            "-O2",
        ],
    ) else {
        return;
    };
    let ex = dir.join("exports.txt");
    std::fs::write(&ex, "# arch: arm\n# float-abi: soft\nputs 0x1001\n").unwrap();
    let out = host_push(&[
        "check",
        o.to_str().unwrap(),
        "--exports",
        ex.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("float ABI") && err.contains("hard"), "{err}");
}

#[test]
fn link_writes_layout_json_and_section_images() {
    let dir = scratch("link");
    let o = compile("cc", &dir, "e", EXT, &["-O2"]).unwrap();
    let ex = dir.join("exports.txt");
    std::fs::write(&ex, "puts 0x401000\nfw_a 0x401010\nfw_b 0x401020\n").unwrap();
    let out_dir = dir.join("out");
    let layout = link(&o, &ex, "0x500000", &out_dir);
    assert_eq!(layout["arch"], "x86_64");
    let sections = layout["sections"].as_array().unwrap();
    assert!(!sections.is_empty());
    let mut text_seen = false;
    for s in sections {
        let addr = s["addr"].as_u64().unwrap();
        assert!(addr >= 0x500000, "{s}");
        if let Some(f) = s["file"].as_str() {
            let bytes = std::fs::read(out_dir.join(f)).unwrap();
            assert_eq!(bytes.len() as u64, s["size"].as_u64().unwrap(), "{s}");
        }
        text_seen |= s["name"] == ".text";
    }
    assert!(text_seen, "{sections:?}");
    let entry = layout["symbols"]["entry"]
        .as_u64()
        .expect("entry in symbols");
    assert!(
        sections
            .iter()
            .any(|s| s["name"] == ".text" && s["addr"].as_u64() == Some(entry))
    );
    for x in layout["extra"].as_array().unwrap() {
        assert_eq!(x["kind"], "got");
        assert!(out_dir.join(x["file"].as_str().unwrap()).exists());
    }
}

#[test]
fn link_rejects_a_bad_base_address() {
    let out = host_push(&[
        "link",
        "x.o",
        "--exports",
        "e.txt",
        "--base",
        "0xzz",
        "--out",
        "/tmp/x",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an address"));
}

#[test]
fn check_lists_missing_symbols_and_unsupported_relocations_together() {
    let dir = scratch("every");
    let Some(o) = compile(
        "arm-none-eabi-gcc",
        &dir,
        "a",
        "extern int fw_a(int); extern int fw_b(int); int g = 3;\nint entry(void) { return fw_a(g) + fw_b(4); }",
        &["-mcpu=cortex-m3", "-mthumb", "-Os"],
    ) else {
        return;
    };
    // Retype both calls (R_ARM_THM_CALL, 10) to relocations no back-end supports.
    let mut b = std::fs::read(&o).unwrap();
    let rd = |b: &[u8], at: usize| u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize;
    let (shoff, shnum) = (
        rd(&b, 0x20),
        u16::from_le_bytes([b[0x30], b[0x31]]) as usize,
    );
    let mut retyped = 0;
    for i in 0..shnum {
        let sh = shoff + i * 40;
        if rd(&b, sh + 4) != 9 {
            continue;
        }
        let (off, size) = (rd(&b, sh + 16), rd(&b, sh + 20));
        for e in (off..off + size).step_by(8) {
            if b[e + 4] == 10 {
                b[e + 4] = [26, 108][retyped % 2];
                retyped += 1;
            }
        }
    }
    assert_eq!(retyped, 2);
    let bad = dir.join("bad.o");
    std::fs::write(&bad, &b).unwrap();
    let ex = dir.join("exports.txt");
    std::fs::write(&ex, "# arch: arm\nfw_a 0x1001\n").unwrap();
    let out = host_push(&[
        "check",
        bad.to_str().unwrap(),
        "--exports",
        ex.to_str().unwrap(),
        "--json",
    ]);
    assert!(!out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        p.iter().any(|p| p.contains("missing symbol: fw_b")),
        "{p:?}"
    );
    assert!(p.iter().any(|p| p.contains("R_ARM_GOT_BREL")), "{p:?}");
    assert!(p.iter().any(|p| p.contains("R_ARM_TLS_LE32")), "{p:?}");
    assert_eq!(p.len(), 3, "{p:?}");
}

/// `link` does what a device does with the file: it links the packed file, in which
/// `R_RISCV_ALIGN` padding is relaxed as GNU ld relaxes it (issue 9, input 6).
#[test]
fn link_places_symbols_where_the_device_does() {
    let dir = scratch("relaxed");
    let gcc = "riscv64-unknown-elf-gcc";
    let s = dir.join("f.s");
    let o = dir.join("f.o");
    std::fs::write(&s, ".text\n.globl f\n.balign 4\nf: li a0,1\nret\n").unwrap();
    let built = Command::new(gcc)
        .args(["-march=rv32imac", "-mabi=ilp32", "-c"])
        .arg(&s)
        .arg("-o")
        .arg(&o)
        .status()
        .expect("run riscv64-unknown-elf-gcc");
    assert!(built.success());
    let ex = dir.join("exports.txt");
    std::fs::write(&ex, "# arch: riscv32\nputs 0x80100000\n").unwrap();
    let layout = link(&o, &ex, "0x80000000", &dir.join("out"));
    // GNU ld deletes the padding the assembler left for `.balign 4` at an aligned start.
    assert_eq!(
        layout["symbols"]["f"].as_u64(),
        Some(0x8000_0000),
        "{layout}"
    );
    let check = host_push(&[
        "check",
        o.to_str().unwrap(),
        "--exports",
        ex.to_str().unwrap(),
    ]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}
