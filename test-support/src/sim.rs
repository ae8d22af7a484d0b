//! A running `sim-device`, started from its binary and killed when dropped.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running `sim-device`, killed when dropped.
pub struct SimDevice {
    child: Child,
    /// What it printed after `listening on ` (`tcp:127.0.0.1:PORT` or `/dev/pts/N`).
    pub address: String,
}

impl SimDevice {
    /// Starts `BIN ARGS` and waits (at most a minute) for its `listening on ADDRESS` line; lines
    /// before it (a boot report) are skipped.
    pub fn start(bin: &Path, args: &[&str]) -> SimDevice {
        Self::try_start(bin, args, Duration::from_secs(60)).unwrap_or_else(|e| panic!("{e}"))
    }

    /// As [`SimDevice::start`], waiting at most `wait`; when the device ends or stays silent
    /// that long (a crash or a hang at boot), it is killed and the error lists what it printed.
    pub fn try_start(bin: &Path, args: &[&str], wait: Duration) -> Result<SimDevice, String> {
        let mut child = Command::new(bin)
            .args(args)
            // One malloc arena: glibc opens a 64 MiB one for a thread that allocates under
            // contention, which the soak test's address-space figure would take for a leak.
            .env("MALLOC_ARENA_MAX", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sim-device");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut before = Vec::new();
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if let Some(addr) = line.trim_end().strip_prefix("listening on ") {
                    let _ = tx.send(Ok(addr.to_string()));
                    // Keep draining so the device never blocks on a full pipe.
                    let mut sink = String::new();
                    while reader.read_line(&mut sink).is_ok_and(|n| n > 0) {
                        sink.clear();
                    }
                    return;
                }
                before.push(std::mem::take(&mut line));
            }
            let _ = tx.send(Err(before));
        });
        match rx.recv_timeout(wait) {
            Ok(Ok(address)) => Ok(SimDevice { child, address }),
            failed => {
                let _ = child.kill();
                let status = child.wait().ok();
                Err(match failed {
                    Ok(Err(lines)) => format!("sim-device ended ({status:?}) after {lines:?}"),
                    _ => format!("sim-device printed no `listening on` within {wait:?}"),
                })
            }
        }
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// Its process id (for tests that kill it their own way).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for SimDevice {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
