//! `host-push monitor` run for a while: the lines it printed.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Runs `host-push monitor --port PORT` (images kept in `cache`) until it prints a line that
/// starts with `until` or `secs` pass; the lines printed.
pub fn lines_until(exe: &Path, cache: &Path, port: &str, until: &str, secs: u64) -> Vec<String> {
    let mut mon = Command::new(exe)
        .args(["monitor", "--port", port])
        .env("HOST_PUSH_CACHE", cache)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start host-push monitor");
    let (tx, rx) = mpsc::channel();
    let out = mon.stdout.take().expect("piped");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen: Vec<String> = Vec::new();
    let end = Instant::now() + Duration::from_secs(secs);
    while !seen.iter().any(|l| l.starts_with(until)) {
        match rx.recv_timeout(end.saturating_duration_since(Instant::now())) {
            Ok(l) => seen.push(l),
            Err(_) => break,
        }
    }
    let _ = mon.kill();
    let _ = mon.wait();
    seen
}
