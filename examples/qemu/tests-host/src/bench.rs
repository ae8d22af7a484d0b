//! The firmware's start-up load bench (`run.sh --bench`): the figures it logs.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::{Board, Qemu};

/// The firmware's `llext-fw: bench ...` line as key/value pairs (`load_insns`, `relocations`,
/// `insns_per_reloc`, `transient_peak`, ...), or the line itself when the bench did not run.
pub fn run(board: Board) -> Result<BTreeMap<String, String>, String> {
    let q = Qemu::start(board, &["--bench"]);
    let mut d = q.connect();
    // Generous: the load runs under -icount, slow on a loaded machine; the figures do not depend on it.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        for line in d.take_logs(Duration::from_millis(200)) {
            if let Some(rest) = line.strip_prefix("llext-fw: bench ") {
                return parse(rest).ok_or(line);
            }
            seen.push(line);
        }
    }
    Err(format!("no bench line in the log: {seen:?}"))
}

fn parse(rest: &str) -> Option<BTreeMap<String, String>> {
    rest.split(' ')
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// A figure of the bench as a number (`insns_per_reloc` has two decimals).
pub fn number(figures: &BTreeMap<String, String>, key: &str) -> f64 {
    figures
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{key} missing or not a number in {figures:?}"))
}

/// Checks the figures a board must report are there and non-zero (their values are in
/// docs/PERFORMANCE.md) and prints them.
pub fn check(board: Board) {
    let f = run(board).unwrap_or_else(|e| panic!("{}: bench: {e}", board.name()));
    println!("{}: bench {f:?}", board.name());
    for key in [
        "load_insns",
        "relocations",
        "insns_per_reloc",
        "transient_peak",
        "held",
    ] {
        assert!(number(&f, key) > 0.0, "{key} is zero: {f:?}");
    }
    assert!(!f.contains_key("unload"), "unload failed: {f:?}");
}
