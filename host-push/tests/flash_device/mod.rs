//! Helpers for the install tests: `sim-device --flash FILE` started, killed with SIGKILL and
//! started again on the same file; extensions that return their version; a TCP relay that
//! cuts the link after a number of bytes.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::common::{host_push, sim_device_bin};

/// Where the slots start in the flash file: `FileFlash::DEFAULT_LAYOUT` puts a 128 KiB catalog
/// first, then 128 KiB slots (`list --json` reports the slot size, which the tests check).
pub const SLOTS_START: u64 = 128 << 10;
/// Bytes per slot.
pub const SLOT_SIZE: u64 = 128 << 10;

/// A running `sim-device --flash FILE`, killed with SIGKILL when dropped.
pub struct FlashDevice {
    child: Child,
    /// `tcp:127.0.0.1:PORT`.
    pub address: String,
    /// The `boot: ...` lines it printed before `listening on`.
    pub boot: Vec<String>,
}

impl FlashDevice {
    /// Starts `sim-device --flash FLASH` on a free TCP port and waits until it listens.
    pub fn start(flash: &Path) -> FlashDevice {
        Self::start_with_env(flash, &[])
    }

    /// [`FlashDevice::start`] with environment variables set.
    pub fn start_with_env(flash: &Path, env: &[(&str, &str)]) -> FlashDevice {
        Self::start_with(flash, &[], env)
    }

    /// [`FlashDevice::start`] with more arguments and environment variables.
    pub fn start_with(flash: &Path, args: &[&str], env: &[(&str, &str)]) -> FlashDevice {
        let mut child = Command::new(sim_device_bin())
            .args(["--listen", "tcp:127.0.0.1:0", "--flash"])
            .arg(flash)
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sim-device");
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let mut boot = Vec::new();
            while let Some(Ok(line)) = lines.next() {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    let _ = tx.send(Ok((addr.to_string(), boot)));
                    // Keep reading so the device never blocks on a full pipe.
                    for _ in lines.by_ref() {}
                    return;
                }
                boot.push(line);
            }
            let _ = tx.send(Err(boot));
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok((address, boot))) => FlashDevice {
                child,
                address,
                boot,
            },
            Ok(Err(lines)) => panic!("sim-device ended before listening: {lines:?}"),
            Err(_) => panic!("sim-device printed no `listening on`"),
        }
    }

    /// Kills it with SIGKILL (a power cut for its flash file) and waits until it is gone.
    pub fn kill(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether a boot line contains `text`.
    pub fn booted(&self, text: &str) -> bool {
        self.boot.iter().any(|l| l.contains(text))
    }
}

impl Drop for FlashDevice {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A fresh (missing) flash file path for test `name`.
pub fn flash_file(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("host-push-flash")
        .join(std::process::id().to_string());
    std::fs::create_dir_all(&dir).expect("flash dir");
    let f = dir.join(format!("{name}.flash"));
    let _ = std::fs::remove_file(&f);
    f
}

/// C source of an extension whose `version` returns `v` when its `n`-entry table reads back
/// right (and -1 otherwise): a damaged byte that slipped through would show.
pub fn versioned(v: u32, n: usize) -> String {
    let mut src = format!("static const unsigned table[{n}] = {{");
    let mut x: u32 = 0x9e37_79b9 ^ v.wrapping_mul(0x85eb_ca6b);
    let mut sum: u32 = 0;
    for i in 0..n {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        src.push_str(&format!("{x}u,"));
        sum = sum.wrapping_mul(31).wrapping_add(x ^ i as u32);
    }
    src.push_str(&format!(
        "}};\nint version(void) {{ unsigned h = 0; for (unsigned i = 0; i < {n}; i++) h = h * 31u + (table[i] ^ i); return h == {sum}u ? {v} : -1; }}\n"
    ));
    src
}

/// `list --json` (exit 0 asserted).
pub fn list(port: &str) -> serde_json::Value {
    let r = host_push(&["list", "--port", port, "--json"]);
    assert_eq!(r.code, 0, "{r}");
    r.json()
}

/// The extension `name` in a `list --json` answer.
pub fn entry<'a>(list: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    list["extensions"]
        .as_array()
        .expect("extensions")
        .iter()
        .find(|e| e["name"] == name)
}

/// What `call NAME version` returned (exit 0 asserted).
pub fn call_version(port: &str, name: &str) -> i64 {
    let r = host_push(&["call", name, "version", "--port", port, "--json"]);
    assert_eq!(r.code, 0, "{r}");
    r.json()["value"].as_i64().expect("value")
}

/// A relay between a host and `device` that passes at most `limit` bytes from the host, then
/// closes both connections (a link cut mid-install). Returns the address to connect to.
pub fn cutting_relay(device: &str, limit: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay");
    let addr = listener.local_addr().expect("relay address");
    let device = device.strip_prefix("tcp:").expect("tcp device").to_string();
    std::thread::spawn(move || {
        let Ok((host, _)) = listener.accept() else {
            return;
        };
        let dev = TcpStream::connect(&device).expect("connect device");
        let (mut h_in, mut d_out) = (host.try_clone().unwrap(), dev.try_clone().unwrap());
        let (mut d_in, mut h_out) = (dev.try_clone().unwrap(), host.try_clone().unwrap());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = d_in.read(&mut buf) {
                if h_out.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        });
        let mut left = limit;
        let mut buf = [0u8; 4096];
        while left > 0 {
            let Ok(n @ 1..) = h_in.read(&mut buf[..left.min(4096)]) else {
                break;
            };
            if d_out.write_all(&buf[..n]).is_err() {
                break;
            }
            left -= n;
        }
        let _ = dev.shutdown(Shutdown::Both);
        let _ = host.shutdown(Shutdown::Both);
    });
    format!("tcp:{addr}")
}
