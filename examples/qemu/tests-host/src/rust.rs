//! Rust extensions (`test-support/rust-ext`, with `llext-sdk`) built at test time by the real
//! `host-push build` for the board's targets, pushed with `host-push`, and run: every feature
//! of `features`, one extension calling another, destructors at unload, an extension built
//! against a changed API refused, by `host-push` and by the firmware, and a panic (`panics`)
//! reported as a fault.

use std::path::Path;

use test_support::rust;

use crate::{Board, Qemu};

impl Board {
    /// The Rust targets whose extensions this board runs.
    pub fn rust_targets(self) -> &'static [&'static str] {
        match self {
            Board::Mps2 => &["thumbv7m-none-eabi", "thumbv6m-none-eabi"],
            Board::Riscv32 => &["riscv32imac-unknown-none-elf"],
        }
    }
}

fn host_push(bin: &Path, args: &[&str]) -> crate::HostPushRun {
    crate::host_push_run(bin, None, args)
}

/// Everything above, for each of the board's Rust targets installed.
pub fn rust_extensions(board: Board) {
    let Some(bin) = crate::host_push("rust_extensions") else {
        return;
    };
    let target_dir = std::env::temp_dir()
        .join("llext-qemu-tests")
        .join("rust-ext");
    for target in board.rust_targets() {
        let build = |name| rust::build(&bin, &target_dir, name, Some(target));
        let (Some(features), Some(user), Some(stale), Some(panics)) = (
            build("features"),
            build("user"),
            build("stale"),
            build("panics"),
        ) else {
            continue;
        };
        let q = Qemu::start(board, &[]);
        if run_features(&bin, &q.port, &features, board, target) {
            run_pair_and_stale(&bin, &q.port, &user, &stale, target);
        }
        run_panic(&bin, &q.port, &panics, target);
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Runs `features`; false when the link failed (see the note inside).
fn run_features(bin: &Path, port: &str, features: &Path, board: Board, target: &str) -> bool {
    let expected = rust::features_calls();
    let mut args = vec![path(features), "--port", port];
    for (sym, _) in &expected {
        args.extend(["--call", sym]);
    }
    args.extend(["--call", "count", "--replace"]);
    let mut run = host_push(bin, &args);
    for _ in 0..2 {
        if run.code != 3 {
            break;
        }
        // Known (reported): on mps2-an385 under load, pushes of 20-50 KB sometimes see damaged
        // frames and the device falls silent past host-push's patience (exit 3).
        eprintln!("NOTE {target}: the push failed with a link error, pushing again: {run}");
        run = host_push(bin, &args);
    }
    if run.code == 3 {
        eprintln!(
            "SKIPPED {target} on {}: three pushes lost the link: {run}",
            board.name()
        );
        return false;
    }
    assert_eq!(run.code, 0, "{target}: {run}");
    let mut want: Vec<(String, i64)> = expected.iter().map(|(s, v)| (s.to_string(), *v)).collect();
    want.push(("count".into(), 3));
    assert_eq!(rust::call_values(&run.stdout), want, "{target}: {run}");
    for line in rust::FEATURES_LOG {
        assert!(run.stderr.contains(line), "{target}: no {line:?}: {run}");
    }
    assert!(
        run.stderr
            .contains(&format!("hello from Rust on {}", board.name())),
        "{run}"
    );
    true
}

/// `panics`' `boom` faults with its message and location; `panics` is then refused calls and
/// shows as faulted; another extension (`panics` under another name) runs; the pool is back at
/// its baseline once both are unloaded.
fn run_panic(bin: &Path, port: &str, panics: &Path, target: &str) {
    let baseline = used_memory(bin, port);
    let pushed = host_push(bin, &[path(panics), "--port", port]);
    assert_eq!(pushed.code, 0, "{target}: {pushed}");
    let run = host_push(bin, &["call", "panics", "boom", "--port", port]);
    rust::assert_panic_report(run.code, &run.stdout, &run.stderr);
    let refused = host_push(bin, &["call", "panics", "five", "--port", port]);
    assert_eq!(refused.code, 5, "{target}: {refused}");
    let status = host_push(bin, &["status", "--port", port]);
    assert!(
        status.stdout.contains("panics: faulted"),
        "{target}: {status}"
    );
    let other = [
        path(panics),
        "--name",
        "other",
        "--port",
        port,
        "--call",
        "five",
    ];
    let other = host_push(bin, &other);
    assert_eq!(other.stdout, "five = 5\n", "{target}: {other}");
    for name in ["panics", "other"] {
        assert_eq!(host_push(bin, &["unload", name, "--port", port]).code, 0);
    }
    assert_eq!(used_memory(bin, port), baseline, "{target}");
}

/// Extension memory in use (`status --json`).
fn used_memory(bin: &Path, port: &str) -> u64 {
    let st = host_push(bin, &["status", "--json", "--port", port]).stdout;
    let st: serde_json::Value = serde_json::from_str(&st).expect("status --json");
    st["used_memory"].as_u64().expect("used_memory")
}
fn run_pair_and_stale(bin: &Path, port: &str, user: &Path, stale: &Path, target: &str) {
    let run = host_push(bin, &[path(user), "--port", port, "--call", "llext_main"]);
    assert_eq!(run.stdout, "llext_main = 42\n", "{target}: {run}");
    // Built against another `llext_uptime_ms`: host-push defers unknown names to the device
    // while extensions are loaded, and the firmware refuses it, naming the function.
    let refused = host_push(bin, &[path(stale), "--port", port]);
    assert_eq!(refused.code, 2, "{target}: {refused}");
    let said = "`llext_uptime_ms`: signature differs (extension ";
    assert!(refused.stderr.contains(said), "{target}: {refused}");
    assert_eq!(host_push(bin, &["unload", "user", "--port", port]).code, 0);
    let gone = host_push(bin, &["unload", "features", "--port", port]);
    assert_eq!(gone.code, 0, "{target}: {gone}");
    assert!(
        gone.stderr
            .contains("features: destructor ran after 3 counts"),
        "{target}: {gone}"
    );
    // With nothing loaded, host-push itself refuses it before sending.
    let check = host_push(bin, &["check", path(stale), "--port", port]);
    assert!(
        check
            .stderr
            .contains("signature differs: `llext_uptime_ms`"),
        "{target}: {check}"
    );
}
