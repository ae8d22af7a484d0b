//! The client library against the real `sim-device` binary, over TCP and over a pty: push, call,
//! status, unload, a second extension that uses the first, logs, errors.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{APP, HELLO, LIB, build, start};
use llext_transports::client::{Client, ClientError};
use llext_transports::protocol::{self, ErrorCode, FrameDecoder, Request, Response};

fn push_call_status_unload(port: &str) {
    let mut c = Client::connect(port).expect("connect");
    let info = c.info().expect("hello").clone();
    assert_eq!(info.arch, "x86_64");
    assert_eq!(info.name, "sim-device");
    let baseline = c.status().expect("status").used_memory;

    let lib = build("lib", LIB);
    let app = build("app", APP);
    let mut last = None;
    let pushed = c.push("lib", &lib, |p| last = Some(p)).expect("push lib");
    assert_eq!(pushed.file_bytes, lib.len() as u64);
    assert_eq!(last.expect("progress reported").acked, lib.len() as u64);
    c.push("app", &app, |_| {}).expect("push app");

    assert_eq!(c.call("app", "app_main").expect("call"), 431_307);
    assert_eq!(c.call("lib", "lib_get_counter").expect("call"), 1003);

    let st = c.status().expect("status");
    let names: Vec<_> = st.extensions.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["lib", "app"]);
    let app_st = &st.extensions[1];
    assert_eq!(app_st.dependencies, ["lib"]);
    assert!(
        app_st
            .regions
            .iter()
            .any(|r| r.kind == "text" && r.size > 0)
    );
    assert!(st.used_memory > baseline);

    let e = c.unload("lib").expect_err("lib is used by app");
    assert_eq!(e.code(), Some(ErrorCode::InUse));
    assert!(e.to_string().contains("app"), "{e}");
    assert_eq!(c.unload("app").expect("unload app"), 0);
    assert_eq!(c.unload("lib").expect("unload lib"), 0);
    let st = c.status().expect("status");
    assert!(st.extensions.is_empty());
    assert_eq!(st.used_memory, baseline);
}

#[test]
fn pushes_calls_and_unloads_over_tcp() {
    let dev = start(&["--listen", "tcp:127.0.0.1:0"]);
    assert!(dev.address.starts_with("tcp:127.0.0.1:"));
    push_call_status_unload(&dev.address);
}

#[test]
fn pushes_calls_and_unloads_over_a_pty() {
    let dev = start(&["--listen", "pty"]);
    assert!(dev.address.starts_with("/dev/"), "{}", dev.address);
    push_call_status_unload(&dev.address);
    // A second client on the same terminal, after the first closed it.
    push_call_status_unload(&dev.address);
}

#[test]
fn extension_output_arrives_as_log_lines() {
    let dev = start(&[]);
    let mut c = Client::connect(&dev.address).expect("connect");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    c.set_log_handler(move |s| l.lock().unwrap().push(s.to_string()));
    c.push("hello", &build("hello", HELLO), |_| {})
        .expect("push");
    assert_eq!(c.call("hello", "hello_main").expect("call"), 112);
    let lines = lines.lock().unwrap();
    assert_eq!(
        *lines,
        [
            "hello from an extension over flash",
            "hello from an extension over uart",
            "hello from an extension over usb"
        ]
    );
}

#[test]
fn missing_symbols_are_named_and_memory_is_returned() {
    let dev = start(&[]);
    let mut c = Client::connect(&dev.address).expect("connect");
    let baseline = c.status().expect("status").used_memory;
    let src = "int nowhere_a(void); int nowhere_b(int);\nint f(void) { return nowhere_a() + nowhere_b(2); }\n";
    let e = c
        .push("missing", &build("missing", src), |_| {})
        .expect_err("symbols are missing");
    assert_eq!(e.code(), Some(ErrorCode::MissingSymbols));
    let msg = e.to_string();
    assert!(
        msg.contains("nowhere_a") && msg.contains("nowhere_b"),
        "{msg}"
    );
    let st = c.status().expect("status");
    assert_eq!(st.used_memory, baseline);
    assert_eq!(st.pushes_failed, 1);
}

#[test]
fn a_loaded_name_is_refused_until_unloaded() {
    let dev = start(&[]);
    let mut c = Client::connect(&dev.address).expect("connect");
    let lib = build("lib2", LIB);
    c.push("lib", &lib, |_| {}).expect("push");
    let e = c.push("lib", &lib, |_| {}).expect_err("already loaded");
    assert_eq!(e.code(), Some(ErrorCode::AlreadyLoaded));
    c.unload("lib").expect("unload");
    c.push("lib", &lib, |_| {}).expect("push again");
}

#[test]
fn calls_name_what_is_missing() {
    let dev = start(&[]);
    let mut c = Client::connect(&dev.address).expect("connect");
    let e = c.call("nothing", "f").expect_err("not loaded");
    assert_eq!(e.code(), Some(ErrorCode::NotLoaded));
    c.push("lib", &build("lib3", LIB), |_| {}).expect("push");
    let e = c.call("lib", "no_such_fn").expect_err("no symbol");
    assert_eq!(e.code(), Some(ErrorCode::NoSymbol));
    assert!(e.to_string().contains("no_such_fn"));
}

#[test]
fn lists_the_firmware_exports() {
    let dev = start(&[]);
    let mut c = Client::connect(&dev.address).expect("connect");
    let n = c.info().expect("hello").exports as usize;
    let exports = c.exports().expect("exports");
    assert_eq!(exports.len(), n);
    for want in ["memcpy", "puts", "printf", "snprintf", "strlen"] {
        assert!(
            exports.iter().any(|e| e.name == want && e.addr != 0),
            "{want}"
        );
    }
}

#[test]
fn nothing_listening_is_a_clear_error() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = format!("tcp:{}", l.local_addr().unwrap());
    drop(l);
    let e = Client::connect(&port).err().expect("nothing listens");
    assert!(matches!(e, ClientError::Open { .. }), "{e}");
    assert!(e.to_string().contains(&port), "{e}");
}

#[test]
fn a_silent_peer_is_reported_as_no_device_answering() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = format!("tcp:{}", l.local_addr().unwrap());
    let t = std::thread::spawn(move || {
        let (mut s, _) = l.accept().expect("accept");
        let mut sink = [0u8; 256];
        while s.read(&mut sink).map(|n| n > 0).unwrap_or(false) {}
    });
    let e = Client::connect(&port).err().expect("no answer");
    assert!(matches!(e, ClientError::NoAnswer { .. }), "{e}");
    assert!(e.to_string().contains("no device answered"), "{e}");
    drop(e);
    t.join().unwrap();
}

/// Sends raw frames (to leave a push half done).
fn send(s: &mut TcpStream, seq: u16, req: &Request<'_>) {
    let (mut scratch, mut out) = (vec![0u8; 4096], vec![0u8; 4200]);
    let n = protocol::encode(seq, req, &mut scratch, &mut out).unwrap();
    s.write_all(&out[..n]).unwrap();
}

fn begin_half_a_push(s: &mut TcpStream, image: &[u8]) {
    send(
        s,
        7,
        &Request::PushBegin {
            push_id: 99,
            name: "half",
            total_len: image.len() as u32,
            crc32: protocol::CRC32.checksum(image),
        },
    );
    let half = image.len() / 2;
    for (i, chunk) in image[..half].chunks(512).enumerate() {
        let offset = (i * 512) as u32;
        send(
            s,
            0,
            &Request::Data {
                offset,
                bytes: chunk,
            },
        );
    }
}

#[test]
fn a_stalled_push_times_out_and_its_memory_returns() {
    let dev = start(&["--push-timeout-ms", "300"]);
    let baseline = Client::connect(&dev.address)
        .expect("connect")
        .status()
        .expect("status")
        .used_memory;
    let (src, _) = common::table_extension(4000);
    let image = build("stall", &src);
    let mut s = TcpStream::connect(dev.address.strip_prefix("tcp:").unwrap()).unwrap();
    begin_half_a_push(&mut s, &image);
    // Then silence: the device must give up on its own and say so.
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut dec = FrameDecoder::<4096>::new();
    let mut buf = [0u8; 512];
    let done = 'wait: loop {
        let n = s.read(&mut buf).expect("device answers");
        assert!(n > 0, "device closed the link");
        let mut input = &buf[..n];
        while !input.is_empty() {
            let (used, complete) = dec.feed(input);
            input = &input[used..];
            if complete
                && let Ok((
                    _,
                    Response::PushDone {
                        push_id: 99,
                        result,
                    },
                )) = protocol::decode::<Response<'_>>(dec.frame())
            {
                break 'wait result.map_err(|e| (e.code, e.cause.to_string()));
            }
        }
    };
    let (code, message) = done.expect_err("the push stalled");
    assert_eq!(code, ErrorCode::Timeout, "{message}");
    drop(s);
    let st = Client::connect(&dev.address).unwrap().status().unwrap();
    assert!(st.extensions.is_empty());
    assert_eq!(st.used_memory, baseline);
}

#[test]
fn keeps_serving_after_a_client_disconnects_mid_push() {
    let mut dev = start(&[]);
    let baseline = Client::connect(&dev.address)
        .unwrap()
        .status()
        .unwrap()
        .used_memory;
    let (src, value) = common::table_extension(4000);
    let image = build("cut", &src);
    for _ in 0..3 {
        let mut s = TcpStream::connect(dev.address.strip_prefix("tcp:").unwrap()).unwrap();
        begin_half_a_push(&mut s, &image);
        drop(s);
    }
    assert!(dev.running());
    let mut c = Client::connect(&dev.address).expect("device still answers");
    assert_eq!(c.status().unwrap().used_memory, baseline);
    c.push("cut", &image, |_| {}).expect("push");
    assert_eq!(c.call("cut", "check").unwrap(), value);
}
