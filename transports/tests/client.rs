//! The client library against the device server in this process, over TCP loopback: a stalled
//! push gives back every byte it held, a resumed push completes, version and answer errors.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use llext_loader::memory::{Block, MemKind, MemoryProvider, PoolProvider, SealError};
use llext_transports::client::Client;
use llext_transports::host_io::thread_link;
use llext_transports::protocol::{self, ErrorCode, FrameDecoder, Request, Response};
use llext_transports::server::{Config, Device, DeviceInfo, MemoryInfo, NoLogs};

/// A firmware-like pool whose usage the test can watch from another thread.
struct Watched {
    pool: PoolProvider,
    used: Arc<AtomicUsize>,
}

// SAFETY: forwards to the pool, which upholds the contract.
unsafe impl MemoryProvider for Watched {
    fn alloc(&mut self, kind: MemKind, size: usize, align: usize) -> Option<Block> {
        let b = self.pool.alloc(kind, size, align);
        self.used.store(self.pool.used(), Ordering::SeqCst);
        b
    }
    unsafe fn free(&mut self, kind: MemKind, block: Block) {
        // SAFETY: the caller's guarantee is passed on.
        unsafe { self.pool.free(kind, block) };
        self.used.store(self.pool.used(), Ordering::SeqCst);
    }
    fn seal(&mut self, kind: MemKind, block: &Block) -> Result<(), SealError> {
        self.pool.seal(kind, block)
    }
    fn free_bytes(&self) -> Option<usize> {
        self.pool.free_bytes()
    }
}

impl MemoryInfo for Watched {
    fn used_memory(&self) -> u64 {
        self.pool.used() as u64
    }
    fn free_memory(&self) -> Option<u64> {
        Some(self.pool.free_bytes_now() as u64)
    }
}

/// Serves a device on a pool in a thread; returns its port and the pool's usage.
fn serve_on_pool(push_timeout_ms: u64) -> (String, Arc<AtomicUsize>) {
    let used = Arc::new(AtomicUsize::new(0));
    let watch = used.clone();
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = format!("tcp:{}", l.local_addr().unwrap());
    thread::spawn(move || {
        let memory = Box::leak(vec![core::mem::MaybeUninit::new(0u8); 1 << 20].into_boxed_slice());
        let pool = Watched {
            pool: PoolProvider::new(memory),
            used: watch,
        };
        let info = DeviceInfo {
            name: "pool-device",
            float_abi: Some("soft"),
            exports: common::EXPORTS,
        };
        let config = Config {
            push_timeout: embassy_time::Duration::from_millis(push_timeout_ms),
            ..Config::default()
        };
        let mut dev: Device<Watched, NoLogs, 4> = Device::new(pool, info, config, NoLogs);
        for s in l.incoming() {
            let s = s.unwrap();
            let link = thread_link(s.try_clone().unwrap(), s.try_clone().unwrap(), 4096, 8);
            futures::executor::block_on(dev.serve(link));
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    });
    (port, used)
}

fn send(s: &mut TcpStream, seq: u16, req: &Request<'_>) {
    let (mut scratch, mut out) = (vec![0u8; 4096], vec![0u8; 4200]);
    let n = protocol::encode(seq, req, &mut scratch, &mut out).unwrap();
    s.write_all(&out[..n]).unwrap();
}

#[test]
fn a_stalled_push_returns_everything_it_held_to_the_pool() {
    let (port, used) = serve_on_pool(300);
    let image = common::build("stall_pool", &big_source());
    let mut s = TcpStream::connect(port.strip_prefix("tcp:").unwrap()).unwrap();
    send(
        &mut s,
        1,
        &Request::PushBegin {
            push_id: 5,
            name: "stalled",
            total_len: image.len() as u32,
            crc32: protocol::CRC32.checksum(&image),
        },
    );
    // Everything but the last frame: the loader has placed the regions by then.
    let last = image.len() - 1;
    for (i, chunk) in image[..last].chunks(1024).enumerate() {
        let offset = (i * 1024) as u32;
        send(
            &mut s,
            0,
            &Request::Data {
                offset,
                bytes: chunk,
            },
        );
    }
    let mut dec = FrameDecoder::<4096>::new();
    let mut buf = [0u8; 1024];
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut held = 0;
    let code = 'wait: loop {
        held = held.max(used.load(Ordering::SeqCst));
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0);
        let mut input = &buf[..n];
        while !input.is_empty() {
            let (k, done) = dec.feed(input);
            input = &input[k..];
            if done
                && let Ok((_, Response::PushDone { result, .. })) =
                    protocol::decode::<Response<'_>>(dec.frame())
            {
                break 'wait result.expect_err("stalled").code;
            }
        }
    };
    assert_eq!(code, ErrorCode::Timeout);
    assert!(held > 0, "the partial load held pool memory");
    assert_eq!(used.load(Ordering::SeqCst), 0, "the pool is whole again");
}

/// A C extension with a 16 KiB table (its regions are allocated before the table arrives).
fn big_source() -> String {
    let mut s = String::from("const unsigned char big[16384] = {");
    for i in 0..16384 {
        s.push_str(&format!("{},", i % 251));
    }
    s.push_str("};\nint first(void) { return big[1]; }\n");
    s
}

#[test]
fn hello_reports_the_device() {
    let (port, _) = serve_on_pool(1000);
    let c = Client::connect(&port).unwrap();
    let info = c.info().unwrap();
    assert_eq!(info.name, "pool-device");
    assert_eq!(info.arch, "x86_64");
    assert_eq!(info.float_abi.as_deref(), Some("soft"));
    assert_eq!(info.version, protocol::VERSION);
    assert_eq!(info.exports_id, common::EXPORTS.id());
    assert_eq!(info.used_memory, 0);
    assert!(info.free_memory.unwrap() > 0);
}

#[test]
fn a_newer_device_is_reported_as_a_version_mismatch() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = format!("tcp:{}", l.local_addr().unwrap());
    thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut dec = FrameDecoder::<4096>::new();
        let mut buf = [0u8; 256];
        loop {
            let n = s.read(&mut buf).unwrap_or(0);
            if n == 0 {
                return;
            }
            let mut input = &buf[..n];
            while !input.is_empty() {
                let (k, done) = dec.feed(input);
                input = &input[k..];
                if done {
                    let (seq, _) = protocol::decode::<Request<'_>>(dec.frame()).unwrap();
                    // Version 9's Hello answer: variant 0, version first, then fields this
                    // client does not know.
                    let (mut raw, mut out) = ([0u8; 64], [0u8; 80]);
                    let n = protocol::encode(seq, &(0u8, 9u16, [1u8, 2, 3]), &mut raw, &mut out)
                        .unwrap();
                    s.write_all(&out[..n]).unwrap();
                }
            }
        }
    });
    let e = Client::connect(&port).err().expect("mismatch");
    assert!(
        e.to_string().contains("version 9")
            && e.to_string()
                .contains(&format!("version {}", protocol::VERSION)),
        "{e}"
    );
}

#[test]
fn a_push_into_a_pool_is_freed_by_unload() {
    let (port, used) = serve_on_pool(1000);
    let mut c = Client::connect(&port).unwrap();
    // Pool memory is not executable on a PC: this only loads (and unloads) an extension with
    // no constructors, then checks the pool is whole again.
    let image = common::build("pool_data", "int data[100] = {1};\n");
    let p = c.push("data", &image, |_| {}).unwrap();
    assert!(p.image_bytes >= 400);
    assert!(used.load(Ordering::SeqCst) > 0);
    let st = c.status().unwrap();
    assert_eq!(st.extensions[0].name, "data");
    c.unload("data").unwrap();
    assert_eq!(c.status().unwrap().used_memory, 0);
}

#[test]
fn sections_say_where_each_section_of_the_pushed_file_went() {
    let (port, _) = serve_on_pool(1000);
    let mut c = Client::connect(&port).unwrap();
    let image = common::build(
        "placed",
        "int d[8] = {1};\nint b[16];\nconst int r[4] = {1, 2, 3, 4};\nint f(void) { return d[0] + b[1] + r[2]; }\n",
    );
    c.push("placed", &image, |_| {}).unwrap();
    let s = c.sections("placed").unwrap();
    assert_eq!(s.total_len as usize, image.len());
    assert_eq!(s.crc32, protocol::CRC32.checksum(&image));
    assert_eq!(s.dropped, 0);
    let regions = &c.status().unwrap().extensions[0].regions;
    for want in ["text", "rodata", "data", "bss"] {
        assert!(
            s.sections.iter().any(|p| p.region == want),
            "no {want} section in {s:?}"
        );
    }
    for p in &s.sections {
        let r = regions
            .iter()
            .find(|r| r.kind == p.region)
            .unwrap_or_else(|| panic!("{p:?}: no such region in {regions:?}"));
        assert!(
            p.addr >= r.addr && p.addr + p.size as u64 <= r.addr + r.size as u64,
            "{p:?} outside {r:?}"
        );
        // Indices are of the packed file: each names a real section header.
        let shnum = u16::from_le_bytes([image[60], image[61]]) as u32;
        assert!(p.index > 0 && p.index < shnum, "{p:?}");
    }
    let e = c.sections("nothing").unwrap_err();
    assert_eq!(e.code(), Some(ErrorCode::NotLoaded), "{e}");
    c.unload("placed").unwrap();
    assert!(c.sections("placed").is_err());
}

/// The next answer on `s` (log lines skipped).
fn answer(s: &mut TcpStream, dec: &mut FrameDecoder<4096>) -> (u16, String) {
    let mut buf = [0u8; 512];
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    loop {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the device closed the link");
        let mut input = &buf[..n];
        while !input.is_empty() {
            let (k, done) = dec.feed(input);
            input = &input[k..];
            if done {
                match protocol::decode::<Response<'_>>(dec.frame()) {
                    Ok((_, Response::Log { .. })) => {}
                    Ok((seq, r)) => return (seq, format!("{r:?}")),
                    Err(e) => panic!("undecodable answer: {e:?}"),
                }
            }
        }
    }
}

/// A request under the sequence number of the last one runs: only the same bytes under the
/// same number are a repeat, answered again without running twice.
#[test]
fn another_request_under_a_reused_seq_runs_and_a_repeat_does_not() {
    let (port, used) = serve_on_pool(1000);
    let mut c = Client::connect(&port).unwrap();
    let image = common::build("reused_seq", "int data[100] = {1};\n");
    c.push("data", &image, |_| {}).unwrap();
    drop(c);
    let mut s = TcpStream::connect(port.strip_prefix("tcp:").unwrap()).unwrap();
    let mut dec = FrameDecoder::<4096>::new();
    let call = Request::Call {
        ext: "data",
        sym: "nope",
        time_limit_ms: 0,
    };
    send(&mut s, 7, &call);
    let (seq, a) = answer(&mut s, &mut dec);
    assert!(seq == 7 && a.contains("Error"), "{a}");
    send(&mut s, 7, &Request::Unload { name: "data" });
    let (seq, a) = answer(&mut s, &mut dec);
    assert!(seq == 7 && a.starts_with("Unloaded"), "{a}");
    assert_eq!(used.load(Ordering::SeqCst), 0, "the unload ran");
    // The same Unload again (a lost answer): the same answer, not `not loaded`.
    send(&mut s, 7, &Request::Unload { name: "data" });
    let (seq, again) = answer(&mut s, &mut dec);
    assert!(seq == 7 && again.starts_with("Unloaded"), "{again}");
}
