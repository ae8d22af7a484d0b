//! Installs into riscv32-virt's CFI flash: with the real `host-push`, install with `--boot`,
//! restart QEMU on the same flash file, and the extension runs without being pushed again; and
//! an image that would read past 4 GiB of its slot, installed for boot, never stops the board
//! from starting.

use llext_transports::client::InstallOptions;
use test_support::elf::{Field, set_section_field};

use crate::{Board, Qemu, compile, corpus};

/// Installs `calls` for boot, restarts QEMU on the same flash file, and calls it unpushed.
pub fn install_boot_restart(board: Board) {
    let Some(exe) = crate::host_push("install_boot_restart") else {
        return;
    };
    let dir = std::env::temp_dir().join("llext-qemu-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let id = std::process::id();
    let flash = dir.join(format!("flash-{}-{id}.img", board.name()));
    let _ = std::fs::remove_file(&flash);
    let obj = dir.join(format!("calls-install-{}-{id}.o", board.name()));
    std::fs::write(
        &obj,
        compile(board, "calls_install", &[corpus("calls")], &[]),
    )
    .expect("write");
    let (flash_arg, obj) = (flash.to_str().expect("utf-8"), obj.to_str().expect("utf-8"));

    let mut q = Qemu::start(board, &["--flash", flash_arg]);
    let out = crate::run_host_push(
        &exe,
        None,
        &["install", obj, "--name", "fib", "--boot", "--port", &q.port],
    );
    assert!(
        out.contains("fib v1: pending, slot 0, loads at boot"),
        "{out}"
    );
    q.stop();
    let len = std::fs::metadata(&flash).expect("the flash file").len();
    assert_eq!(len, 32 << 20, "run.sh makes a 32 MiB flash file");

    let q = Qemu::start(board, &["--flash", flash_arg]);
    let out = crate::run_host_push(
        &exe,
        None,
        &["call", "fib", "calls_fib20", "--port", &q.port],
    );
    assert_eq!(out, "calls_fib20 = 6765\n");
    let status = crate::run_host_push(&exe, None, &["status", "--port", &q.port]);
    assert!(status.contains("pushes: 0 ok, 0 failed"), "{status}");
    assert!(
        status.contains("boot report:\n  fib v1 loaded and confirmed"),
        "{status}"
    );
    // serde_json writes keys in order: the entry says loaded, installed for boot, confirmed.
    let list = crate::run_host_push(&exe, None, &["list", "--json", "--port", &q.port]);
    assert!(list.contains(r#""storage":true"#), "{list}");
    let entry = list
        .split(r#"{"loaded":true,"name":"fib","stored":"#)
        .nth(1)
        .unwrap_or_else(|| panic!("fib is not listed as loaded and installed: {list}"));
    let entry = entry.split(r#""previous""#).next().expect("split");
    assert!(
        entry.contains(r#""state":"confirmed","version":1"#),
        "{list}"
    );
    assert!(entry.contains(r#""boot":true"#), "{list}");
    drop(q);
    let _ = std::fs::remove_file(&flash);
}

/// A good extension and an unpacked one whose `.text` claims to start at 0xFFFFFF00 in the file,
/// both installed for boot: every start after that comes up, reports the bad one (failed, then
/// not retried) and runs the good one.
pub fn bad_image_for_boot(board: Board) {
    let dir = std::env::temp_dir().join("llext-qemu-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let flash = dir.join(format!(
        "flash-bad-{}-{}.img",
        board.name(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&flash);
    let flash_arg = flash.to_str().expect("utf-8");
    let good = crate::pack(&compile(board, "keep", &[corpus("calls")], &[]));
    let mut bad = crate::compile_text(board, "far", "int far(void) { return 7; }\n");
    set_section_field(&mut bad, ".text", Field::Offset, 0xFFFF_FF00);
    let boot = InstallOptions {
        boot: true,
        version: None,
        xip: false,
    };

    let q = Qemu::start(board, &["--flash", flash_arg]);
    let mut c = q.connect().client;
    c.install("keep", &good, boot, |_| {})
        .expect("install keep");
    c.install("far", &bad, boot, |_| {})
        .expect("the device stores what it is given");
    drop((c, q));

    for start in 0..2 {
        let mut q = Qemu::start(board, &["--flash", flash_arg]);
        let mut c = q.connect().client;
        let l = c.list().expect("list");
        let report: Vec<_> = l.boot_report.iter().map(|e| e.text.clone()).collect();
        let expect = if start == 0 {
            "far v1 failed: load failed"
        } else {
            "far not loaded: failed an earlier trial"
        };
        assert!(
            report.iter().any(|t| t.contains(expect)),
            "start {start}: {report:?}"
        );
        assert!(
            report.iter().any(|t| t.contains("keep v1 loaded")),
            "start {start}: {report:?}"
        );
        assert_eq!(c.call("keep", "calls_fib20").expect("keep runs"), 6765);
        assert!(q.running());
    }
    let _ = std::fs::remove_file(&flash);
}

/// Corpus files installed in place (`install --xip --boot`): firmware calls, data and string
/// relocations, constructors, jump tables, a large bss. After a restart on the same flash each
/// runs from the flash bank with the results it gives from RAM, its text and rodata at bank
/// addresses, its data and bss in RAM, and nothing taken from the extension pool.
pub fn install_xip_boot_restart(board: Board) {
    let Some(exe) = crate::host_push("install_xip_boot_restart") else {
        return;
    };
    let dir = std::env::temp_dir().join("llext-qemu-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let id = std::process::id();
    let flash = dir.join(format!("flash-xip-{}-{id}.img", board.name()));
    let _ = std::fs::remove_file(&flash);
    let flash_arg = flash.to_str().expect("utf-8");
    const CTORS: (&str, &[(&str, i32)]) = (
        "ctors",
        &[("ctors_get_order", 123), ("ctors_get_count", 126)],
    );
    let cases: Vec<_> = test_support::CORPUS
        .iter()
        .filter(|(f, _)| ["data", "tables", "switch", "structs", "bigbss"].contains(f))
        .chain([&CTORS])
        .collect();
    let mut q = Qemu::start(board, &["--flash", flash_arg]);
    for (name, _) in &cases {
        let obj = dir.join(format!("xip-{name}-{}-{id}.o", board.name()));
        std::fs::write(&obj, compile(board, name, &[corpus(name)], &[])).expect("write");
        let args = [
            "install",
            obj.to_str().expect("utf-8"),
            "-n",
            name,
            "--xip",
            "--boot",
        ];
        let out = crate::run_host_push(&exe, None, &[&args[..], &["--port", &q.port]].concat());
        assert!(out.contains("in place (flash), loads at boot"), "{out}");
    }
    q.stop();

    let q = Qemu::start(board, &["--flash", flash_arg]);
    for (name, calls) in cases {
        for (sym, want) in *calls {
            let out = crate::run_host_push(&exe, None, &["call", name, sym, "--port", &q.port]);
            assert_eq!(out, format!("{sym} = {want}\n"), "{name}");
        }
    }
    let status = crate::run_host_push(&exe, None, &["status", "--json", "--port", &q.port]);
    let st: serde_json::Value = serde_json::from_str(&status).expect("status --json");
    assert_eq!(st["used_memory"], 0, "nothing from the pool: {status}");
    for e in st["extensions"].as_array().expect("extensions") {
        for r in e["regions"].as_array().expect("regions") {
            let addr = r["addr"].as_u64().expect("addr");
            let in_bank = (0x2200_0000..0x2400_0000).contains(&addr);
            let flash_kind = !matches!(r["kind"].as_str(), Some("data" | "bss"));
            assert_eq!(in_bank, flash_kind, "{r} of {}", e["name"]);
        }
    }
    drop(q);
    let _ = std::fs::remove_file(&flash);
}
