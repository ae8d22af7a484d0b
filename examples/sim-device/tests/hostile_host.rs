//! The device survives every host: inputs a hostile or buggy host sends to the real
//! `sim-device`, each of which once crashed, bricked or misled it.

mod common;

use std::path::Path;

use common::{SimDevice, build, build_raw, flash_file, start};
use llext_transports::client::{Client, InstallOptions, Listing};
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
