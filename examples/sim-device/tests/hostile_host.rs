//! The device survives every host: inputs a hostile or buggy host sends to the real
//! `sim-device`, each of which once crashed, bricked or misled it.

mod common;

use std::path::Path;

use common::{SimDevice, build, build_raw, flash_file, start};
use llext_transports::client::{Client, ClientError, InstallOptions, Listing};
use llext_transports::protocol::ErrorCode;
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
        Err(ClientError::Device { code, message }) => {
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
        Err(ClientError::Device { code, message }) => {
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
