//! Installs into flash through the device server in this process (a RAM flash double behind
//! `FlashStore`): a stalled install times out like a push and resumes from the byte the device
//! got; the client's install, list, confirm, rollback and remove.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::thread;
use std::time::Duration;

use llext_loader::memory::{Counting, HostProvider};
use llext_storage::flash::RamFlash;
use llext_storage::{Layout, Storage};
use llext_transports::client::{Client, ClientError, InstallOptions};
use llext_transports::host_io::thread_link;
use llext_transports::protocol::{
    self, ErrorCode, FrameDecoder, ImageState, InstallInfo, Request, Response,
};
use llext_transports::server::{Config, DEFAULT_FRAME, Device, DeviceInfo, FlashStore, NoLogs};

type Flash = RamFlash<4, 512>;
type FlashDevice = Device<Counting<HostProvider>, NoLogs, 4, DEFAULT_FRAME, FlashStore<Flash, 4>>;

/// Serves a device with a 128 KiB RAM flash (a 32 KiB catalog, three 32 KiB slots) in a
/// thread; returns its port.
fn serve_with_flash(push_timeout_ms: u64) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = format!("tcp:{}", l.local_addr().unwrap());
    thread::spawn(move || {
        let layout = Layout::uniform(128 << 10, 32 << 10);
        let storage = futures::executor::block_on(Storage::open(Flash::new(256), layout)).unwrap();
        let info = DeviceInfo {
            name: "flash-device",
            float_abi: None,
            exports: common::EXPORTS,
        };
        let config = Config {
            push_timeout: embassy_time::Duration::from_millis(push_timeout_ms),
            ..Config::default()
        };
        let memory = Counting::new(HostProvider::new());
        let mut dev: FlashDevice =
            Device::with_store(memory, info, config, NoLogs, FlashStore::new(storage));
        for s in l.incoming() {
            let s = s.unwrap();
            let link = thread_link(s.try_clone().unwrap(), s.try_clone().unwrap(), 4096, 8);
            futures::executor::block_on(dev.serve(link));
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    });
    port
}

/// A host speaking raw frames.
struct Raw {
    s: TcpStream,
    dec: FrameDecoder<4096>,
    buf: Vec<u8>,
    pos: usize,
}

impl Raw {
    fn connect(port: &str) -> Raw {
        let s = TcpStream::connect(port.strip_prefix("tcp:").unwrap()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        Raw {
            s,
            dec: FrameDecoder::new(),
            buf: Vec::new(),
            pos: 0,
        }
    }

    fn send(&mut self, seq: u16, req: &Request<'_>) {
        let (mut scratch, mut out) = (vec![0u8; 4096], vec![0u8; 4200]);
        let n = protocol::encode(seq, req, &mut scratch, &mut out).unwrap();
        self.s.write_all(&out[..n]).unwrap();
    }

    /// Waits for a response `pick` accepts.
    fn wait<T>(&mut self, mut pick: impl FnMut(&Response<'_>) -> Option<T>) -> T {
        loop {
            while self.pos < self.buf.len() {
                let (k, done) = self.dec.feed(&self.buf[self.pos..]);
                self.pos += k;
                if done
                    && let Ok((_, r)) = protocol::decode::<Response<'_>>(self.dec.frame())
                    && let Some(v) = pick(&r)
                {
                    return v;
                }
            }
            let mut b = [0u8; 1024];
            let n = self.s.read(&mut b).unwrap();
            assert!(n > 0, "the device closed the link");
            self.buf = b[..n].to_vec();
            self.pos = 0;
        }
    }

    fn begin(&mut self, push_id: u32, image: &[u8]) -> Result<u32, Result<InstallInfo, ErrorCode>> {
        self.send(
            1,
            &Request::InstallBegin {
                push_id,
                name: "big",
                total_len: image.len() as u32,
                crc32: protocol::CRC32.checksum(image),
                boot: true,
                version: None,
                xip: false,
            },
        );
        self.wait(|r| match r {
            Response::Ack {
                push_id: id,
                next_offset,
                ..
            } if *id == push_id => Some(Ok(*next_offset)),
            Response::InstallDone {
                push_id: id,
                result,
            } if *id == push_id => Some(Err(result.map_err(|e| e.code))),
            _ => None,
        })
    }

    fn data(&mut self, image: &[u8], from: usize, to: usize) {
        for (i, chunk) in image[from..to].chunks(1024).enumerate() {
            let offset = (from + i * 1024) as u32;
            self.send(
                0,
                &Request::Data {
                    offset,
                    bytes: chunk,
                },
            );
        }
    }

    fn done(&mut self, push_id: u32) -> Result<InstallInfo, ErrorCode> {
        self.wait(|r| match r {
            Response::InstallDone {
                push_id: id,
                result,
            } if *id == push_id => Some(result.map_err(|e| e.code)),
            _ => None,
        })
    }
}

fn big_image() -> Vec<u8> {
    let mut s = String::from("const unsigned char big[16384] = {");
    for i in 0..16384 {
        s.push_str(&format!("{},", i % 251));
    }
    s.push_str("};\nint first(void) { return big[1]; }\n");
    common::build("install_big", &s)
}

#[test]
fn a_stalled_install_times_out_like_a_push_and_resumes_from_the_byte_the_device_got() {
    let port = serve_with_flash(300);
    let image = big_image();
    let half = image.len() / 2 + 100;
    let mut raw = Raw::connect(&port);
    assert_eq!(raw.begin(7, &image), Ok(0));
    raw.data(&image, 0, half);
    assert_eq!(raw.done(7), Err(ErrorCode::Timeout));
    // The same image under a new id: the device asks for the first byte it has not got.
    assert_eq!(raw.begin(8, &image), Ok(half as u32));
    raw.data(&image, half, image.len());
    let info = raw.done(8).expect("installed");
    assert_eq!((info.version, info.state), (1, ImageState::Pending));
    assert!(info.boot && !info.unchanged && info.previous.is_none());
    // The same id again: the result is repeated, nothing runs twice.
    assert_eq!(raw.begin(8, &image), Err(Ok(info)));
}

#[test]
fn the_client_installs_lists_confirms_rolls_back_and_removes() {
    let port = serve_with_flash(1000);
    let image = big_image();
    let mut c = Client::connect(&port).unwrap();
    let opts = InstallOptions {
        boot: true,
        version: Some(7),
        xip: false,
    };
    let done = c.install("big", &image, opts, |_| {}).unwrap();
    assert_eq!((done.version, done.state.as_str()), (7, "pending"));
    assert_eq!(
        (done.resumed_from, done.sent_bytes),
        (0, image.len() as u64)
    );
    let again = c.install("big", &image, opts, |_| {}).unwrap();
    assert!(again.unchanged && again.sent_bytes == 0);

    let l = c.list().unwrap();
    assert!(l.storage);
    assert_eq!((l.slots, l.free_slots, l.slot_size), (3, 2, 32 << 10));
    assert_eq!(l.extensions.len(), 1);
    let e = &l.extensions[0];
    let s = e.stored.as_ref().unwrap();
    assert_eq!((e.name.as_str(), e.loaded, s.boot), ("big", false, true));
    assert_eq!((s.active.version, s.active.len), (7, image.len() as u32));
    assert_eq!(s.active.crc32, protocol::CRC32.checksum(&image));

    let e = c.confirm("big").unwrap();
    assert_eq!(e.stored.unwrap().active.state, "confirmed");
    let code = |e: ClientError| e.code();
    assert_eq!(
        c.rollback("big").err().and_then(code),
        Some(ErrorCode::NoPrevious)
    );
    c.remove("big").unwrap();
    assert_eq!(
        c.remove("big").err().and_then(code),
        Some(ErrorCode::NotInstalled)
    );
    assert!(c.list().unwrap().extensions.is_empty());
}
