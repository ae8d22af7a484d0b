//! The device survives every host: inputs a hostile or buggy host sends to the real
//! `sim-device`, each of which once crashed, bricked or misled it.

mod common;

use std::path::Path;

use common::raw::{Raw, push_begin};
use common::{SimDevice, build, build_raw, flash_file, start};
use llext_transports::client::{Client, ClientError, InstallOptions, Listing};
use llext_transports::protocol::{self, ErrorCode, Request, Response};
use test_support::elf::{Field, set_section_field};

fn start_flash(flash: &Path) -> SimDevice {
    start(&["--flash", flash.to_str().expect("utf-8 path")])
}

fn boot_text(l: &Listing) -> Vec<String> {
    l.boot_report.iter().map(|e| e.text.clone()).collect()
}

const BOOT: InstallOptions = InstallOptions {
    boot: true,
    version: None,
    xip: false,
};

#[test]
fn an_image_that_reads_past_four_gib_is_reported_at_boot_and_the_rest_come_up() {
    let flash = flash_file("far_text");
    let good = build("keep", "int keep(void) { return 41; }\n");
    // Unpacked, so boot loads it seekably; `.text` claims to start at 0xFFFFFF00.
    let mut bad = build_raw("far", "int far(void) { return 7; }\n");
    set_section_field(&mut bad, ".text", Field::Offset, 0xFFFF_FF00);
    let dev = start_flash(&flash);
    let mut c = Client::connect(&dev.address).expect("connect");
    c.install("keep", &good, BOOT, |_| {})
        .expect("install keep");
    c.install("far", &bad, BOOT, |_| {})
        .expect("the device stores what it is given");
    drop((c, dev));

    for start in 0..2 {
        let mut dev = start_flash(&flash);
        assert!(dev.running(), "start {start}");
        let mut c = Client::connect(&dev.address).expect("the device comes up");
        let l = c.list().expect("list");
        let report = boot_text(&l);
        assert!(
            report.iter().any(|t| t.contains("keep v1 loaded")),
            "start {start}: {report:?}"
        );
        let far = l.extensions.iter().find(|e| e.name == "far").expect("far");
        assert!(!far.loaded, "{far:?}");
        let state = &far.stored.as_ref().expect("still installed").active.state;
        assert_eq!(state, "failed", "start {start}: {report:?}");
        if start == 0 {
            assert!(
                report
                    .iter()
                    .any(|t| t.contains("far v1 failed: load failed")),
                "{report:?}"
            );
        } else {
            assert!(
                report
                    .iter()
                    .any(|t| t.contains("far") && t.contains("failed an earlier trial")),
                "{report:?}"
            );
        }
        assert_eq!(c.call("keep", "keep").expect("call keep"), 41);
    }
}

/// Exports a table (read-only data), a `.exported_sym` entry naming data, and a function.
const DATA_SYMBOLS: &str = r#"
const int table[4] = {1, 2, 3, 4};
int counter = 5;
struct sym { const char *name; const void *addr; };
__attribute__((section(".exported_sym"), used))
static const struct sym exported[] = { {"counter_alias", &counter} };
int sum(void) { return table[0] + table[1] + table[2] + table[3] + counter; }
"#;

fn refused_as_not_code(c: &mut Client, ext: &str, sym: &str) -> String {
    match c.call(ext, sym) {
        Err(ClientError::Device { code, cause }) => {
            let message = cause.to_string();
            assert_eq!(code, ErrorCode::NotCode, "{message}");
            message
        }
        other => panic!("calling {sym}: {other:?}"),
    }
}

#[test]
fn calling_data_is_refused_and_every_extension_stays_loaded() {
    let mut dev = start(&[]);
    let mut c = Client::connect(&dev.address).expect("connect");
    c.push(
        "other",
        &build("other", "int other(void) { return 9; }\n"),
        |_| {},
    )
    .expect("push other");
    c.push("data", &build("data", DATA_SYMBOLS), |_| {})
        .expect("push data");
    let m = refused_as_not_code(&mut c, "data", "table");
    assert!(
        m.contains("`table` of `data` is not code: it points into its read-only data (0x"),
        "{m}"
    );
    let m = refused_as_not_code(&mut c, "data", "counter");
    assert!(m.contains("into its data"), "{m}");
    let m = refused_as_not_code(&mut c, "data", "counter_alias");
    assert!(m.contains("`counter_alias` of `data` is not code"), "{m}");
    assert!(dev.running());
    assert_eq!(c.call("data", "sum").expect("sum"), 15);
    assert_eq!(c.call("other", "other").expect("other"), 9);
    assert_eq!(c.status().expect("status").extensions.len(), 2);
}

#[test]
fn a_constructor_pointing_at_data_is_refused_and_its_memory_returns() {
    let mut dev = start(&[]);
    let mut c = Client::connect(&dev.address).expect("connect");
    let before = c.status().expect("status").used_memory;
    let src = "const int table[4] = {1, 2, 3, 4};\n\
               __attribute__((section(\".init_array\"), used))\n\
               static const void *ctor = table;\n\
               int f(void) { return 1; }\n";
    match c.push("ctor", &build("ctor", src), |_| {}) {
        Err(ClientError::Device { code, cause }) => {
            let message = cause.to_string();
            assert_eq!(code, ErrorCode::NotCode, "{message}");
            assert!(message.contains("a constructor or destructor of `ctor` is not code"));
        }
        other => panic!("{other:?}"),
    }
    assert!(dev.running());
    let st = c.status().expect("status");
    assert!(st.extensions.is_empty());
    assert_eq!(st.used_memory, before);
}

fn pushed_ok(frame: &[u8]) -> bool {
    match protocol::decode::<Response<'_>>(frame).expect("decode").1 {
        Response::PushDone { result, .. } => result.is_ok(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_reused_push_id_is_a_new_push_and_only_the_same_push_gets_its_answer_again() {
    let dev = start(&[]);
    let (a, b) = (
        build("reuse_a", "int a(void) { return 1; }\n"),
        build("reuse_b", "int b(void) { return 2; }\n"),
    );
    let mut raw = Raw::connect(&dev);
    assert!(pushed_ok(&raw.transfer(&push_begin(77, "a", &a), &a)));
    // The same request again (the host lost PushDone): answered, not loaded twice.
    raw.send(2, &push_begin(77, "a", &a));
    assert!(pushed_ok(&raw.recv().1));
    drop(raw);
    let mut c = Client::connect(&dev.address).expect("connect");
    let st = c.status().expect("status");
    assert_eq!(st.extensions.len(), 1, "{st:?}");
    assert_eq!(st.extensions[0].use_count, 1, "{st:?}");
    drop(c);
    // Another extension under the same id, from another connection: a new push.
    let mut raw = Raw::connect(&dev);
    assert!(pushed_ok(&raw.transfer(&push_begin(77, "b", &b), &b)));
    drop(raw);
    let mut c = Client::connect(&dev.address).expect("connect");
    assert_eq!(c.call("b", "b").expect("b was really loaded"), 2);
    drop(c);
    // The same name and id with other bytes is new too: refused as already loaded.
    let mut raw = Raw::connect(&dev);
    let b2 = build("reuse_b2", "int b(void) { return 3; }\n");
    assert!(!pushed_ok(&raw.transfer(&push_begin(77, "b", &b2), &b2)));
}

#[test]
fn a_reused_install_id_is_a_new_install() {
    let flash = flash_file("reuse");
    let dev = start_flash(&flash);
    let (a, b) = (
        build("inst_a", "int a(void) { return 1; }\n"),
        build("inst_b", "int b(void) { return 2; }\n"),
    );
    let begin = |name, image: &[u8]| Request::InstallBegin {
        push_id: 55,
        name,
        total_len: image.len() as u32,
        crc32: protocol::CRC32.checksum(image),
        boot: true,
        version: None,
        xip: false,
    };
    let installed = |frame: &[u8]| match protocol::decode::<Response<'_>>(frame).unwrap().1 {
        Response::InstallDone { result, .. } => result.map(|i| i.version).map_err(|e| e.code),
        other => panic!("{other:?}"),
    };
    let mut raw = Raw::connect(&dev);
    assert_eq!(installed(&raw.transfer(&begin("a", &a), &a)), Ok(1));
    drop(raw);
    let mut raw = Raw::connect(&dev);
    assert_eq!(installed(&raw.transfer(&begin("b", &b), &b)), Ok(1));
    drop(raw);
    let l = Client::connect(&dev.address).unwrap().list().unwrap();
    let names: Vec<_> = l.extensions.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["a", "b"], "{l:?}");
}

#[test]
fn every_undecodable_request_is_answered() {
    let dev = start(&[]);
    let mut raw = Raw::connect(&dev);
    for seq in [9u16, 9, 10, 0, 0] {
        // A request kind no version of the protocol has (variant 255).
        raw.send(seq, &[0xffu8, 0x01, 0x00]);
        let (got, frame) = raw.recv();
        assert_eq!(got, seq);
        match protocol::decode::<Response<'_>>(&frame).unwrap().1 {
            Response::Error(e) => assert_eq!(e.code, ErrorCode::BadRequest, "{}", e.cause),
            other => panic!("{other:?}"),
        }
    }
    // Still serving, and a real request under a seq a bad one used is run, not taken for a
    // repeat.
    raw.send(10, &Request::Status);
    let (seq, frame) = raw.recv();
    assert_eq!(seq, 10);
    assert!(matches!(
        protocol::decode::<Response<'_>>(&frame).unwrap().1,
        Response::Status(_)
    ));
}

#[test]
fn a_silent_or_trickling_host_is_disconnected_and_the_next_one_is_served() {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};

    let dev = start(&["--idle-timeout-ms", "400"]);
    let addr = dev.address.strip_prefix("tcp:").expect("tcp").to_string();
    // One host says nothing; the next trickles a byte every 50 ms and never ends a frame.
    let silent = std::net::TcpStream::connect(&addr).expect("connect");
    let mut trickle = std::net::TcpStream::connect(&addr).expect("connect");
    let dripping = std::thread::spawn(move || {
        let started = Instant::now();
        while trickle.write_all(&[0x41]).is_ok() && started.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(50));
        }
        started.elapsed()
    });
    let started = Instant::now();
    let mut c = Client::connect(&dev.address).expect("served once the others are dropped");
    c.status().expect("status");
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(5), "{waited:?}");
    // The silent host's link was closed by the device.
    let mut silent = silent;
    silent
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 64];
    assert!(matches!(silent.read(&mut buf), Ok(0) | Err(_)));
    drop(c);
    let dripped = dripping.join().unwrap();
    assert!(
        dripped < Duration::from_secs(10),
        "still connected after {dripped:?}"
    );
}

/// The error code the device answered `req` with (sent under `seq`), or `None` for another
/// answer.
fn refused(raw: &mut Raw, seq: u16, req: &Request<'_>) -> Option<ErrorCode> {
    raw.send(seq, req);
    let (got, frame) = raw.recv();
    assert_eq!(got, seq);
    match protocol::decode::<Response<'_>>(&frame).unwrap().1 {
        Response::Error(e) => Some(e.code),
        Response::PushDone { result, .. } => result.err().map(|e| e.code),
        Response::InstallDone { result, .. } => result.err().map(|e| e.code),
        _ => None,
    }
}

#[test]
fn requests_at_their_extremes_get_clear_answers_and_change_nothing() {
    let mut dev = start(&[]);
    let before = Client::connect(&dev.address).unwrap().status().unwrap();
    let mut raw = Raw::connect(&dev);
    let long = "x".repeat(200);
    let push = |name, total_len| Request::PushBegin {
        push_id: total_len ^ 0x55,
        name,
        total_len,
        crc32: 0,
    };
    let cases: [(Request<'_>, Option<ErrorCode>); 10] = [
        (push("big", u32::MAX), Some(ErrorCode::TooLarge)),
        (push("empty", 0), Some(ErrorCode::TooLarge)),
        (push("", 10), Some(ErrorCode::NameTooLong)),
        (push(&long, 10), Some(ErrorCode::NameTooLong)),
        (
            Request::Call {
                ext: "none",
                sym: "f",
                time_limit_ms: 0,
            },
            Some(ErrorCode::NotLoaded),
        ),
        (
            Request::Call {
                ext: &long,
                sym: &long,
                time_limit_ms: u32::MAX,
            },
            Some(ErrorCode::NotLoaded),
        ),
        (Request::Unload { name: "none" }, Some(ErrorCode::NotLoaded)),
        (Request::Remove { name: "none" }, Some(ErrorCode::NoStorage)),
        (
            Request::InstallBegin {
                push_id: 3,
                name: "i",
                total_len: u32::MAX,
                crc32: 0,
                boot: true,
                version: Some(u32::MAX),
                xip: false,
            },
            Some(ErrorCode::NoStorage),
        ),
        (
            Request::Exports {
                start: u32::MAX,
                max: u32::MAX,
            },
            None,
        ),
    ];
    for (i, (req, want)) in cases.iter().enumerate() {
        assert_eq!(refused(&mut raw, 100 + i as u16, req), *want, "{req:?}");
    }
    // Data outside any push is dropped without an answer; the next request is answered.
    raw.send(
        0,
        &Request::Data {
            offset: u32::MAX,
            bytes: &[1, 2, 3],
        },
    );
    assert_eq!(refused(&mut raw, 200, &Request::Status), None);
    drop(raw);
    assert!(dev.running());
    let after = Client::connect(&dev.address).unwrap().status().unwrap();
    assert!(after.extensions.is_empty());
    assert_eq!(after.used_memory, before.used_memory);
}
