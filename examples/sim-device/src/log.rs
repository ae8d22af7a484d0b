//! The device log: what extensions print, split into lines for the server to send.

use std::collections::VecDeque;
use std::ffi::c_char;
use std::sync::Mutex;

use llext_transports::server::LogSource;

/// Lines kept when no host reads them; older ones are dropped.
const KEEP: usize = 1000;

struct Log {
    partial: Vec<u8>,
    lines: VecDeque<Vec<u8>>,
}

static LOG: Mutex<Log> = Mutex::new(Log {
    partial: Vec::new(),
    lines: VecDeque::new(),
});

fn push(bytes: &[u8]) {
    let mut log = LOG.lock().unwrap_or_else(|e| e.into_inner());
    for &b in bytes {
        if b == b'\n' {
            let line = std::mem::take(&mut log.partial);
            log.lines.push_back(line);
            if log.lines.len() > KEEP {
                log.lines.pop_front();
            }
        } else {
            log.partial.push(b);
        }
    }
}

/// Adds a line of the firmware's own to the log (sent to the next host that connects).
pub fn line(text: &str) {
    push(text.as_bytes());
    push(b"\n");
}

/// Called by `shim.c` with text an extension printed.
#[unsafe(no_mangle)]
pub extern "C" fn sim_log_write(s: *const c_char, n: usize) {
    if s.is_null() || n == 0 {
        return;
    }
    // SAFETY: `shim.c` passes a pointer to `n` initialised bytes that stay valid during the call.
    let bytes = unsafe { std::slice::from_raw_parts(s.cast::<u8>(), n) };
    push(bytes);
}

/// The log as the server reads it; an unfinished line is sent as it is.
pub struct SimLogs;

impl LogSource for SimLogs {
    fn next_line(&mut self, buf: &mut [u8]) -> Option<usize> {
        let mut log = LOG.lock().unwrap_or_else(|e| e.into_inner());
        let line = match log.lines.pop_front() {
            Some(l) => l,
            None if !log.partial.is_empty() => std::mem::take(&mut log.partial),
            None => return None,
        };
        let n = line.len().min(buf.len());
        buf[..n].copy_from_slice(&line[..n]);
        Some(n)
    }
}
