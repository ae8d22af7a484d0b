//! Pushes through a proxy that flips bits, drops bytes, duplicates bytes and cuts the connection
//! at random points, over many seeds: every push completes with the right result or fails with a
//! clear error, the device keeps answering, and its memory returns to its baseline.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{build, start, table_extension};
use llext_transports::client::{Client, ClientError, Timeouts};
use llext_transports::protocol::ErrorCode;
use test_support::rng::Rng;

/// How one seed damages the link: per-byte odds (1 in N) of each fault, and where to cut.
#[derive(Clone, Copy, Debug)]
struct Damage {
    flip: u64,
    drop: u64,
    dup: u64,
    cut_after: Option<u64>,
}

impl Damage {
    fn for_seed(seed: u64) -> Self {
        let mut r = Rng::new(seed ^ 0xDA3A6E);
        let rate = [2_000, 6_000, 20_000, 100_000][r.below(4) as usize];
        Damage {
            flip: rate + r.below(rate),
            drop: rate + r.below(rate),
            dup: rate + r.below(rate),
            cut_after: (r.below(3) == 0).then(|| r.below(40_000)),
        }
    }
}

/// Copies `from` to `to`, damaging bytes; shuts both connections down when either ends or the
/// cut point is reached. Returns bytes passed.
fn pump(mut from: TcpStream, mut to: TcpStream, d: Damage, seed: u64, other: TcpStream) {
    let mut rng = Rng::new(seed);
    let mut buf = [0u8; 2048];
    let mut out = Vec::with_capacity(4096);
    let mut passed = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        out.clear();
        for &b in &buf[..n] {
            if rng.below(d.drop) == 0 {
                continue;
            }
            let b = if rng.below(d.flip) == 0 {
                b ^ (1 << rng.below(8))
            } else {
                b
            };
            out.push(b);
            if rng.below(d.dup) == 0 {
                out.push(b);
            }
        }
        passed += out.len() as u64;
        let cut = d.cut_after.is_some_and(|c| passed >= c);
        if to.write_all(&out).is_err() || cut {
            break;
        }
    }
    for s in [&from, &to, &other] {
        let _ = s.shutdown(Shutdown::Both);
    }
}

/// Listens on loopback and forwards each connection to `device` through the damage of the seed
/// currently set in `seeds`.
fn start_proxy(device: String, seeds: mpsc::Receiver<u64>) -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let addr = l.local_addr().unwrap();
    thread::spawn(move || {
        for seed in seeds {
            let Ok((client, _)) = l.accept() else { return };
            let Ok(dev) = TcpStream::connect(&device) else {
                return;
            };
            let _ = dev.set_nodelay(true);
            let _ = client.set_nodelay(true);
            let d = Damage::for_seed(seed);
            let (c2, d2) = (client.try_clone().unwrap(), dev.try_clone().unwrap());
            let (c3, d3) = (client.try_clone().unwrap(), dev.try_clone().unwrap());
            thread::spawn(move || pump(client, dev, d, seed, c3));
            thread::spawn(move || pump(d2, c2, d, seed ^ 0x5555, d3));
        }
    });
    format!("tcp:{addr}")
}

/// What one seed's push and call gave.
#[derive(Debug)]
enum Outcome {
    Value(i32),
    Failed(String),
}

fn push_and_call(port: &str, name: &str, image: &[u8]) -> Result<i32, ClientError> {
    let mut c = Client::connect(port)?;
    c.set_timeouts(Timeouts {
        answer: Duration::from_millis(800),
        resend: Duration::from_millis(200),
        push_stall: Duration::from_secs(2),
    });
    c.push(name, image, |_| {})?;
    c.call(name, "check")
}

/// Errors that can only come from the link: never one that says the file itself was bad.
fn is_link_error(e: &ClientError) -> bool {
    match e {
        ClientError::Device { code, .. } => {
            matches!(code, ErrorCode::Timeout | ErrorCode::Interrupted)
        }
        ClientError::NoAnswer { .. }
        | ClientError::Timeout { .. }
        | ClientError::Disconnected { .. }
        | ClientError::Io { .. } => true,
        _ => false,
    }
}

#[test]
fn pushes_through_a_damaged_link_complete_or_fail_clearly() {
    let dev = start(&["--push-timeout-ms", "1000"]);
    let (src, value) = table_extension(3000);
    let image = build("damaged", &src);
    let (seeds_tx, seeds_rx) = mpsc::channel();
    let proxy = start_proxy(
        dev.address.strip_prefix("tcp:").unwrap().to_string(),
        seeds_rx,
    );
    let baseline = Client::connect(&dev.address)
        .unwrap()
        .status()
        .unwrap()
        .used_memory;
    let (mut ok, mut failed) = (0, 0);
    for seed in 1..=40u64 {
        seeds_tx.send(seed).unwrap();
        let name = format!("d{seed}");
        let (tx, rx) = mpsc::channel();
        let (p, n, img) = (proxy.clone(), name.clone(), image.clone());
        thread::spawn(move || {
            let _ = tx.send(match push_and_call(&p, &n, &img) {
                Ok(v) => Outcome::Value(v),
                Err(e) => {
                    assert!(is_link_error(&e), "seed {seed}: unexpected error: {e}");
                    assert!(!e.to_string().is_empty());
                    Outcome::Failed(e.to_string())
                }
            });
        });
        // Every client wait is bounded; this only turns a hang into a failure.
        let outcome = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("seed {seed} ({:?}): hung", Damage::for_seed(seed)));
        match outcome {
            Outcome::Value(v) => {
                assert_eq!(v, value, "seed {seed}: wrong result");
                ok += 1;
            }
            Outcome::Failed(e) => {
                eprintln!("seed {seed}: failed cleanly: {e}");
                failed += 1;
            }
        }
        // The device answers on a clean connection; clean up and check its memory.
        let mut c = Client::connect(&dev.address)
            .unwrap_or_else(|e| panic!("seed {seed}: device no longer answers: {e}"));
        let st = c.status().unwrap();
        if st.extensions.iter().any(|e| e.name == name) {
            c.unload(&name).unwrap();
        }
        let st = c.status().unwrap();
        assert!(st.extensions.is_empty(), "seed {seed}: {:?}", st.extensions);
        assert_eq!(st.used_memory, baseline, "seed {seed}: memory not returned");
    }
    eprintln!("damaged link: {ok} pushes completed, {failed} failed cleanly");
    assert!(ok > 10, "too few pushes got through ({ok} of 40)");
}
