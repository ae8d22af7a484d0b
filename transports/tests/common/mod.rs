//! Shared by the transport tests: a C extension built with the system `cc`, a device over the
//! host's C library, and a host that speaks raw frames over any in-memory double of a link.

#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::future::poll_fn;
use std::path::PathBuf;
use std::rc::Rc;
use std::task::{Poll, Waker};

use llext_loader::exports;
use llext_loader::memory::{Counting, HostProvider};
use llext_loader::symbols::ExportTable;
use llext_transports::protocol::{self, CRC32, FrameDecoder, Request, Response, max_data_payload};
use llext_transports::server::{Config, DEFAULT_FRAME, Device, DeviceInfo, NoLogs};

/// What the test device exports.
pub const EXPORTS: ExportTable = exports![
    "memcpy" => libc::memcpy,
    "strlen" => libc::strlen,
];

/// A device like a firmware's, on the host's memory.
pub type TestDevice = Device<Counting<HostProvider>, NoLogs, 8>;

/// A device with default settings.
pub fn device() -> TestDevice {
    let info = DeviceInfo {
        name: "test-device",
        float_abi: None,
        exports: EXPORTS,
    };
    Device::new(
        Counting::new(HostProvider::new()),
        info,
        Config::default(),
        NoLogs,
    )
}

/// Compiles C `source` with `cc -c -O2` and packs it into stream order.
pub fn build(name: &str, source: &str) -> Vec<u8> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("transports")
        .join(std::process::id().to_string());
    let o = test_support::compile_in(&dir, "cc", name, source, &["-O2"]).expect("cc is needed");
    llext_loader::pack::pack(&std::fs::read(&o).unwrap(), &Default::default()).unwrap()
}

/// An extension with data, a string and a call into the firmware: `lib_value` returns 1007.
pub const LIB: &str = r#"
#include <string.h>
int lib_counter = 1000;
static char name[40] = "library";
int lib_value(void) { return lib_counter + (int)strlen(name); }
"#;

/// One direction of an in-memory link: bytes or packets waiting, and who waits for them.
#[derive(Default)]
pub struct Queue<T> {
    items: RefCell<VecDeque<T>>,
    waker: RefCell<Option<Waker>>,
}

impl<T> Queue<T> {
    /// Adds an item and wakes the reader.
    pub fn push(&self, item: T) {
        self.items.borrow_mut().push_back(item);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    /// Waits for items and takes up to `max` of them.
    pub async fn take(&self, max: usize) -> Vec<T> {
        poll_fn(|cx| {
            let mut q = self.items.borrow_mut();
            if q.is_empty() {
                *self.waker.borrow_mut() = Some(cx.waker().clone());
                return Poll::Pending;
            }
            let n = max.min(q.len());
            Poll::Ready(q.drain(..n).collect())
        })
        .await
    }
}

/// The host's end of a link double.
#[allow(async_fn_in_trait)]
pub trait HostEnd {
    /// Sends bytes to the device.
    async fn send(&mut self, bytes: &[u8]);
    /// Waits for bytes from the device.
    async fn recv(&mut self) -> Vec<u8>;
}

/// A host speaking raw frames.
pub struct RawHost<H> {
    pub io: H,
    dec: FrameDecoder<4096>,
    pending: VecDeque<u8>,
    seq: u16,
}

impl<H: HostEnd> RawHost<H> {
    pub fn new(io: H) -> Self {
        Self {
            io,
            dec: FrameDecoder::new(),
            pending: VecDeque::new(),
            seq: 0,
        }
    }

    pub async fn send(&mut self, seq: u16, req: &Request<'_>) {
        let (mut s, mut o) = (vec![0u8; 8192], vec![0u8; 8300]);
        let n = protocol::encode(seq, req, &mut s, &mut o).unwrap();
        self.io.send(&o[..n]).await;
    }

    pub async fn request(&mut self, req: &Request<'_>) -> u16 {
        self.seq += 1;
        let seq = self.seq;
        self.send(seq, req).await;
        seq
    }

    /// The content of the next frame from the device.
    pub async fn frame(&mut self) -> Vec<u8> {
        loop {
            while !self.pending.is_empty() {
                let (a, _) = self.pending.as_slices();
                let (used, done) = self.dec.feed(a);
                self.pending.drain(..used);
                if done {
                    return self.dec.frame().to_vec();
                }
            }
            let bytes = self.io.recv().await;
            self.pending.extend(bytes);
        }
    }

    /// Pushes `image` as `name`, following the device's acks; returns the `PushDone` result.
    pub async fn push(&mut self, name: &str, image: &[u8]) -> Result<protocol::Loaded, String> {
        let seq = self
            .request(&Request::Hello {
                version: protocol::VERSION,
            })
            .await;
        let hello = self.frame().await;
        let (s, Response::Hello(h)) = protocol::decode::<Response<'_>>(&hello).unwrap() else {
            panic!("no hello")
        };
        assert_eq!(s, seq);
        let chunk = max_data_payload(h.max_frame as usize);
        let window = h.window as usize;
        self.request(&Request::PushBegin {
            push_id: 1,
            name,
            total_len: image.len() as u32,
            crc32: CRC32.checksum(image),
        })
        .await;
        let (mut sent, mut acked) = (0usize, 0usize);
        loop {
            while sent < image.len() && sent - acked < window {
                let end = (sent + chunk).min(image.len());
                let data = Request::Data {
                    offset: sent as u32,
                    bytes: &image[sent..end],
                };
                self.send(0, &data).await;
                sent = end;
            }
            let f = self.frame().await;
            match protocol::decode::<Response<'_>>(&f).unwrap().1 {
                Response::Ack { next_offset, .. } => acked = acked.max(next_offset as usize),
                Response::PushDone { result, .. } => {
                    return result.map_err(|e| e.cause.to_string());
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    /// Calls `int sym(void)`.
    pub async fn call(&mut self, ext: &str, sym: &str) -> i32 {
        let seq = self
            .request(&Request::Call {
                ext,
                sym,
                time_limit_ms: 0,
            })
            .await;
        let f = self.frame().await;
        match protocol::decode::<Response<'_>>(&f).unwrap() {
            (s, Response::CallResult { value }) if s == seq => value,
            other => panic!("unexpected {other:?}"),
        }
    }

    /// Names of the loaded extensions.
    pub async fn status(&mut self) -> (u64, Vec<String>) {
        let seq = self.request(&Request::Status).await;
        let f = self.frame().await;
        let (s, Response::Status(h)) = protocol::decode::<Response<'_>>(&f).unwrap() else {
            panic!("no status")
        };
        assert_eq!(s, seq);
        let mut names = Vec::new();
        for _ in 0..h.extensions {
            let f = self.frame().await;
            let (_, Response::Extension(e)) = protocol::decode::<Response<'_>>(&f).unwrap() else {
                panic!("no extension")
            };
            names.push(e.name.to_string());
        }
        (h.used_memory, names)
    }
}

/// Push, call, status and unload over `host`.
pub async fn scenario<H: HostEnd>(host: &mut RawHost<H>, image: &[u8]) {
    let (baseline, names) = host.status().await;
    assert!(names.is_empty());
    let loaded = host.push("lib", image).await.expect("push");
    assert!(loaded.image_bytes > 0);
    assert_eq!(host.call("lib", "lib_value").await, 1007);
    let (used, names) = host.status().await;
    assert_eq!(names, ["lib"]);
    assert!(used > baseline);
    let seq = host.request(&Request::Unload { name: "lib" }).await;
    let f = host.frame().await;
    assert!(matches!(
        protocol::decode::<Response<'_>>(&f).unwrap(),
        (s, Response::Unloaded { use_count: 0 }) if s == seq
    ));
    assert_eq!(host.status().await.0, baseline);
}

/// Runs the device on `link` and `host_side` together until the host side is done.
pub fn run_with<L, F>(device: &mut TestDevice, link: L, host_side: F)
where
    L: embedded_io_async::Read + embedded_io_async::Write,
    F: std::future::Future<Output = ()>,
{
    futures::executor::block_on(async {
        let _ = DEFAULT_FRAME;
        match embassy_futures::select::select(device.serve(link), host_side).await {
            embassy_futures::select::Either::First(end) => panic!("device stopped: {end}"),
            embassy_futures::select::Either::Second(()) => {}
        }
    });
}

/// Shared queues, cloned into both ends.
pub type Shared<T> = Rc<Queue<T>>;
