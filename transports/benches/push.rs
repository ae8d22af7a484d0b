//! Push throughput as a fraction of raw link capacity, over in-memory links modelled on a UART
//! at 115,200 baud (8N1: 11,520 bytes/s) and on USB full-speed CDC (1 MB/s, 1 ms turnaround).
//!
//! The real client pushes to the real device server (loader included, x86-64 extension compiled
//! at run time) through two one-way link models: each byte takes 1/rate seconds on the wire, in
//! order, and arrives `latency` after it left. Run: `cargo bench -p llext-transports --features
//! std --bench push`.

use std::io;
use std::process::Command;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use llext_loader::exports;
use llext_loader::memory::{Counting, HostProvider};
use llext_loader::symbols::ExportTable;
use llext_transports::client::{Client, Link};
use llext_transports::host_io::thread_link;
use llext_transports::server::{Config, Device, DeviceInfo, NoLogs};

const EXPORTS: ExportTable = exports!["memcpy" => libc::memcpy];

/// One direction of a link: serialises bytes at `rate` bytes/s, delivers them `latency` later.
#[derive(Clone, Copy)]
struct Model {
    rate: f64,
    latency: Duration,
}

/// The sending side of one direction.
struct Wire {
    model: Model,
    busy_until: Instant,
    tx: mpsc::Sender<(Instant, Vec<u8>)>,
}

impl Wire {
    /// A wire whose bytes come out of the returned receiver at their arrival times.
    fn new(model: Model) -> (Wire, mpsc::Receiver<Vec<u8>>) {
        let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
        let (out_tx, out_rx) = mpsc::channel();
        thread::spawn(move || {
            for (at, bytes) in rx {
                let now = Instant::now();
                if at > now {
                    thread::sleep(at - now);
                }
                if out_tx.send(bytes).is_err() {
                    return;
                }
            }
        });
        let wire = Wire {
            model,
            busy_until: Instant::now(),
            tx,
        };
        (wire, out_rx)
    }

    fn put(&mut self, bytes: &[u8]) {
        let start = self.busy_until.max(Instant::now());
        self.busy_until = start + Duration::from_secs_f64(bytes.len() as f64 / self.model.rate);
        let _ = self
            .tx
            .send((self.busy_until + self.model.latency, bytes.to_vec()));
    }
}

impl io::Write for Wire {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.put(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What arrives from a wire, as a blocking reader (for the device's reader thread).
struct Arrivals(mpsc::Receiver<Vec<u8>>, Vec<u8>);

impl io::Read for Arrivals {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.1.is_empty() {
            match self.0.recv() {
                Ok(b) => self.1 = b,
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.1.len());
        buf[..n].copy_from_slice(&self.1[..n]);
        self.1.drain(..n);
        Ok(n)
    }
}

/// The host's end: sends on one wire, receives from the other.
struct HostLink {
    wire: Wire,
    rx: mpsc::Receiver<Vec<u8>>,
    pending: Vec<u8>,
}

impl Link for HostLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.wire.put(bytes);
        Ok(())
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if self.pending.is_empty() {
            let got = if timeout.is_zero() {
                self.rx.try_recv().ok()
            } else {
                self.rx.recv_timeout(timeout).ok()
            };
            match got {
                Some(b) => self.pending = b,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

/// Starts a device in a thread behind a pair of wires, trusting `trust`; returns a connected
/// client.
fn device_behind(model: Model, trust: llext_sign::Policy) -> Client {
    let (down, down_rx) = Wire::new(model);
    let (up, up_rx) = Wire::new(model);
    thread::spawn(move || {
        let info = DeviceInfo {
            name: "bench",
            float_abi: None,
            exports: EXPORTS,
        };
        let mut dev: Device<_, _, 4> = Device::new(
            Counting::new(HostProvider::new()),
            info,
            Config {
                trust,
                ..Config::default()
            },
            NoLogs,
        );
        let link = thread_link(Arrivals(down_rx, Vec::new()), up, 4096, 64);
        futures::executor::block_on(dev.serve(link));
    });
    let host = HostLink {
        wire: down,
        rx: up_rx,
        pending: Vec::new(),
    };
    Client::new(Box::new(host), "model")
}

/// A packed extension with a `size`-byte table of pseudo-random bytes (few zeros, the worst
/// case for COBS).
fn extension(size: usize) -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("llext-push-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut src = format!("const unsigned char table[{size}] = {{");
    let mut x: u32 = 0x9E37_79B9;
    for _ in 0..size {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        src.push_str(&format!("{},", x & 0xff));
    }
    src.push_str("};\nint first(void) { return table[0]; }\n");
    let (c, o) = (
        dir.join(format!("t{size}.c")),
        dir.join(format!("t{size}.o")),
    );
    std::fs::write(&c, src).unwrap();
    let ok = Command::new("cc")
        .args(["-c", "-O2", "-o"])
        .arg(&o)
        .arg(&c)
        .status()
        .unwrap()
        .success();
    assert!(ok, "cc failed");
    let obj = std::fs::read(&o).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    llext_loader::pack::pack(&obj, &Default::default()).unwrap()
}

fn bench_link(c: &mut Criterion, label: &str, model: Model, size: usize, signed: bool) {
    let mut image = extension(size);
    let mut trust = llext_sign::Policy::DEVELOPMENT;
    if signed {
        let key = llext_sign::host::generate().unwrap();
        image = llext_sign::host::sign(&image, "bench", 1, &key).unwrap();
        let keys = Vec::leak(vec![key.verifying_key().to_bytes()]);
        trust = llext_sign::Policy::production(keys);
    }
    let mut client = device_behind(model, trust);
    client.hello().unwrap();
    let mut g = c.benchmark_group("push");
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(100));
    g.throughput(Throughput::Bytes(image.len() as u64));
    let (mut bytes, mut time) = (0.0f64, 0.0f64);
    g.bench_function(label, |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                client.push("bench", &image, |_| {}).unwrap();
                let dt = t.elapsed();
                total += dt;
                bytes += image.len() as f64;
                time += dt.as_secs_f64();
                client.unload("bench").unwrap();
            }
            total
        })
    });
    g.finish();
    eprintln!(
        "push/{label}: {} bytes, mean {:.1} % of raw link capacity ({:.0} bytes/s)",
        image.len(),
        bytes / time / model.rate * 100.0,
        model.rate
    );
}

fn push(c: &mut Criterion) {
    let uart = Model {
        rate: 115_200.0 / 10.0,
        latency: Duration::from_micros(100),
    };
    let usb = Model {
        rate: 1_000_000.0,
        latency: Duration::from_millis(1),
    };
    bench_link(c, "uart-115200", uart, 24 * 1024, false);
    bench_link(c, "uart-115200-signed", uart, 24 * 1024, true);
    bench_link(c, "usb-1MBps-1ms", usb, 384 * 1024, false);
    bench_link(c, "usb-1MBps-1ms-signed", usb, 384 * 1024, true);
}

criterion_group!(benches, push);
criterion_main!(benches);
