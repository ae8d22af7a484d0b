//! What the user sees: results on stdout (text, or one JSON object with `--json`), progress, device
//! log lines and messages on stderr, so `SYM = VALUE` never mixes with anything else.

use std::io::IsTerminal;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

static START: OnceLock<Instant> = OnceLock::new();
/// The progress bar on screen, if any: log lines and errors are printed above it.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);
/// Device log lines seen so far, for the JSON output.
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records when `host-push` started (first thing in `main`).
pub fn mark_start() {
    let _ = START.set(Instant::now());
}

/// Time since `host-push` started.
pub fn since_start() -> Duration {
    START.get_or_init(Instant::now).elapsed()
}

/// Milliseconds with three decimals, for JSON.
pub fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// Prints one JSON object on stdout.
pub fn json(value: &serde_json::Value) {
    println!("{value}");
}

/// Shows a device log line on stderr as `[device] LINE` (above the progress bar) and keeps it for
/// the JSON output.
pub fn device_line(line: &str) {
    LOG.lock().expect("log lock").push(line.to_string());
    let line = printable(line);
    let bar = BAR.lock().expect("bar lock");
    match &*bar {
        Some(b) => b.suspend(|| eprintln!("[device] {line}")),
        None => eprintln!("[device] {line}"),
    }
}

pub use llext_transports::client::printable;

/// `n` and the noun, in the plural unless `n` is 1: `count(1, "relocation")` is "1 relocation".
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The device log lines seen so far.
pub fn device_lines() -> Vec<String> {
    LOG.lock().expect("log lock").clone()
}

/// Prints a message on stderr, above the progress bar if one is shown.
pub fn note(msg: &str) {
    let bar = BAR.lock().expect("bar lock");
    match &*bar {
        Some(b) => b.suspend(|| eprintln!("{msg}")),
        None => eprintln!("{msg}"),
    }
}

/// A progress bar for `total` bytes (bytes, rate, ETA) on stderr; hidden when stderr is not a
/// terminal or `hidden` (`--json`).
pub fn start_progress(total: u64, label: &str, hidden: bool) -> ProgressBar {
    let bar = if hidden || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        b.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        b.set_message(label.to_string());
        b
    };
    *BAR.lock().expect("bar lock") = Some(bar.clone());
    bar
}

/// Removes the progress bar from the screen.
pub fn clear_progress() {
    if let Some(b) = BAR.lock().expect("bar lock").take() {
        b.finish_and_clear();
    }
}

/// `1,234 B`, `12.3 KiB`, `4.5 MiB`.
pub fn bytes(n: u64) -> String {
    if n < 10 * 1024 {
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        format!("{out} B")
    } else if n < 1 << 20 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", n as f64 / (1 << 20) as f64)
    }
}

/// `n` bytes in `d` as a rate.
pub fn rate(n: u64, d: Duration) -> String {
    let s = d.as_secs_f64();
    if s <= 0.0 {
        return "-".into();
    }
    let r = n as f64 / s;
    if r < 1024.0 {
        format!("{r:.0} B/s")
    } else if r < (1 << 20) as f64 {
        format!("{:.1} KiB/s", r / 1024.0)
    } else {
        format!("{:.1} MiB/s", r / (1 << 20) as f64)
    }
}

/// `12 ms`, `1.24 s`.
pub fn duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.0} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_sizes_rates_and_durations() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1234), "1,234 B");
        assert_eq!(bytes(25_472), "24.9 KiB");
        assert_eq!(bytes(16 << 20), "16.0 MiB");
        assert_eq!(rate(2048, Duration::from_secs(2)), "1.0 KiB/s");
        assert_eq!(duration(Duration::from_millis(12)), "12 ms");
        assert_eq!(duration(Duration::from_millis(1240)), "1.24 s");
    }

    #[test]
    fn device_text_cannot_drive_the_terminal() {
        assert_eq!(printable("hello\tworld"), "hello\tworld");
        assert_eq!(
            printable("\u{1b}[31mRED\rhello_main = 999"),
            "\\u{1b}[31mRED\\rhello_main = 999"
        );
    }
}
