//! Installs into flash under faults, with the real binaries: `sim-device` killed with SIGKILL
//! at random moments during `host-push install`; a link cut mid-install, then resumed with and
//! without a device reset in between; bit flips written into a slot while the device is
//! stopped.

mod common;
mod flash_device;

use std::io::{Read, Seek, SeekFrom, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{compile, host_push};
use flash_device::{
    FlashDevice, SLOT_SIZE, SLOTS_START, call_version, cutting_relay, entry, flash_file, list,
    versioned,
};
use test_support::rng::Rng;

/// Table entries of the test extensions: about 48 KiB packed, a dozen flash pages.
const TABLE: usize = 12_000;

/// Checks a restarted device: its boot loaded `ver` with nothing failed, `ver` runs (version 1
/// or 2, never -1 for a damaged table), and the catalog holds it with the slots accounted for.
fn check_after_restart(dev: &FlashDevice, context: &str) -> i64 {
    assert!(
        !dev.boot
            .iter()
            .any(|l| l.contains("failed") || l.contains("not loaded")),
        "{context}: {:?}",
        dev.boot
    );
    let v = call_version(&dev.address, "ver");
    assert!(v == 1 || v == 2, "{context}: version() returned {v}");
    let l = list(&dev.address);
    let e = entry(&l, "ver").unwrap_or_else(|| panic!("{context}: ver not installed: {l}"));
    assert_eq!(e["loaded"], true, "{context}: {l}");
    assert_eq!(
        e["stored"]["active"]["state"], "confirmed",
        "{context}: {l}"
    );
    let held = 1 + usize::from(!e["stored"]["previous"].is_null());
    let interrupted = usize::from(!l["interrupted"].is_null());
    assert!(
        l["free_slots"].as_u64().unwrap() as usize >= 15 - held - interrupted,
        "{context}: slots lost: {l}"
    );
    v
}

#[test]
fn sigkill_at_random_moments_during_install_never_loses_or_corrupts_the_extension() {
    let flash = flash_file("sigkill");
    let images = [
        compile("kill_v1", &versioned(1, TABLE)),
        compile("kill_v2", &versioned(2, TABLE)),
    ];
    let dev = FlashDevice::start(&flash);
    let r = host_push(&[
        "install",
        &images[0],
        "-n",
        "ver",
        "--boot",
        "-p",
        &dev.address,
    ]);
    assert_eq!(r.code, 0, "{r}");
    dev.kill();
    let dev = FlashDevice::start(&flash);
    assert_eq!(check_after_restart(&dev, "first boot"), 1);
    // How long a whole `host-push install` takes here, to spread the kills over it.
    let started = Instant::now();
    let r = host_push(&["install", &images[1], "-n", "ver", "-p", &dev.address]);
    assert_eq!(r.code, 0, "{r}");
    let whole = started.elapsed().as_micros() as u64 + 1;
    dev.kill();
    let mut dev = FlashDevice::start(&flash);
    let mut running = check_after_restart(&dev, "second boot");
    assert_eq!(running, 2);

    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (mut finished, mut cut, mut resumed) = (0, 0, 0);
    for i in 0..30 {
        let other = 3 - running;
        let mut child = Command::new(env!("CARGO_BIN_EXE_host-push"))
            .args([
                "install",
                &images[other as usize - 1],
                "-n",
                "ver",
                "--json",
            ])
            .args(["-p", &dev.address])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start host-push");
        std::thread::sleep(Duration::from_micros(rng.next_u64() % (whole + whole / 4)));
        dev.kill();
        let status = child.wait().expect("host-push ends");
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        match status.code() {
            Some(0) => {
                finished += 1;
                let v: serde_json::Value = serde_json::from_str(&out).expect("json");
                if v["install"]["resumed_from"].as_u64() > Some(0) {
                    resumed += 1;
                }
            }
            Some(3) => cut += 1,
            c => panic!("iteration {i}: host-push exited {c:?}: {out}"),
        }
        dev = FlashDevice::start(&flash);
        running = check_after_restart(&dev, &format!("iteration {i}"));
    }
    eprintln!("30 kills: {finished} installs finished first, {cut} cut off, {resumed} resumed");

    // After all that, an install still completes and the next boot runs it.
    let other = 3 - running;
    let r = host_push(&[
        "install",
        &images[other as usize - 1],
        "-n",
        "ver",
        "-p",
        &dev.address,
    ]);
    assert_eq!(r.code, 0, "{r}");
    dev.kill();
    let dev = FlashDevice::start(&flash);
    assert_eq!(check_after_restart(&dev, "final boot"), other);
    assert!(list(&dev.address)["interrupted"].is_null());
}

/// Installs `image` as `ver` through a relay that cuts the link after about half of it, and
/// returns where the device got to (from `list`) and the file's length.
fn install_cut_off(dev: &FlashDevice, image: &str) -> (u64, u64) {
    let total = std::fs::metadata(image).expect("object").len();
    let relay = cutting_relay(&dev.address, total as usize / 2);
    let r = host_push(&["install", image, "-n", "ver", "-p", &relay]);
    assert_eq!(r.code, 3, "the link was cut: {r}");
    assert!(r.stderr.contains("install again"), "{r}");
    let i = list(&dev.address)["interrupted"].clone();
    assert_eq!(i["name"], "ver", "{i}");
    let (offset, len) = (
        i["offset"].as_u64().unwrap(),
        i["total_len"].as_u64().unwrap(),
    );
    assert!(offset > 0 && offset < len, "{i}");
    (offset, len)
}

#[test]
fn a_cut_link_resumes_from_the_byte_received_and_a_reset_from_the_page_flash_recorded() {
    let flash = flash_file("resume");
    let v1 = compile("resume_v1", &versioned(1, TABLE));
    let v2 = compile("resume_v2", &versioned(2, TABLE));
    let dev = FlashDevice::start(&flash);

    // The link is cut; the device keeps running: it resumes from the exact byte.
    let (got, total) = install_cut_off(&dev, &v1);
    let r = host_push(&[
        "install",
        &v1,
        "-n",
        "ver",
        "--boot",
        "-p",
        &dev.address,
        "--json",
    ]);
    assert_eq!(r.code, 0, "{r}");
    let i = &r.json()["install"];
    assert_eq!(i["resumed_from"].as_u64(), Some(got), "{r}");
    assert_eq!(i["file_bytes"].as_u64(), Some(total));
    assert!(i["sent_bytes"].as_u64().unwrap() < total, "{r}");
    assert_eq!(i["sent_bytes"].as_u64().unwrap() + got, total, "{r}");
    dev.kill();
    let dev = FlashDevice::start(&flash);
    assert_eq!(call_version(&dev.address, "ver"), 1);

    // The link is cut, then the device is reset: it resumes from the last page flash recorded.
    let (got, total) = install_cut_off(&dev, &v2);
    dev.kill();
    let dev = FlashDevice::start(&flash);
    assert_eq!(
        call_version(&dev.address, "ver"),
        1,
        "the old version still runs"
    );
    let recorded = list(&dev.address)["interrupted"]["offset"]
        .as_u64()
        .unwrap();
    assert!(recorded > 0 && recorded <= got, "{recorded} of {got}");
    assert_eq!(recorded % 4096, 0, "a whole flash page");
    let r = host_push(&["install", &v2, "-n", "ver", "-p", &dev.address, "--json"]);
    assert_eq!(r.code, 0, "{r}");
    let i = &r.json()["install"];
    assert_eq!(i["resumed_from"].as_u64(), Some(recorded), "{r}");
    assert_eq!(i["sent_bytes"].as_u64().unwrap() + recorded, total, "{r}");
    assert_eq!(i["resent_bytes"], 0, "{r}");
    dev.kill();
    let dev = FlashDevice::start(&flash);
    assert!(dev.booted("ver v2 loaded and confirmed"), "{:?}", dev.boot);
    assert_eq!(call_version(&dev.address, "ver"), 2);
}

#[test]
fn bit_flips_in_a_slot_are_caught_at_boot_and_the_previous_version_runs() {
    let flash = flash_file("bitflip");
    let v1 = compile("flip_v1", &versioned(1, 1000));
    let v2 = compile("flip_v2", &versioned(2, 1000));
    let dev = FlashDevice::start(&flash);
    assert_eq!(
        host_push(&["install", &v1, "-n", "ver", "--boot", "-p", &dev.address]).code,
        0
    );
    dev.kill();
    let dev = FlashDevice::start(&flash);
    assert_eq!(
        host_push(&["install", &v2, "-n", "ver", "-p", &dev.address]).code,
        0
    );
    dev.kill();
    let dev = FlashDevice::start(&flash);
    assert_eq!(call_version(&dev.address, "ver"), 2);
    let l = list(&dev.address);
    assert_eq!(l["slot_size"].as_u64(), Some(SLOT_SIZE));
    let active = &entry(&l, "ver").unwrap()["stored"]["active"];
    let (slot, len) = (
        active["slot"].as_u64().unwrap(),
        active["len"].as_u64().unwrap(),
    );
    dev.kill();

    // Flip bits in the middle of v2's image, as worn flash would.
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&flash)
        .unwrap();
    let at = SLOTS_START + slot * SLOT_SIZE + len / 2;
    let mut b = [0u8; 2];
    f.seek(SeekFrom::Start(at)).unwrap();
    f.read_exact(&mut b).unwrap();
    b[0] ^= 0x10;
    b[1] ^= 0x81;
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(&b).unwrap();
    drop(f);

    let dev = FlashDevice::start(&flash);
    assert!(
        dev.booted("boot: ver v2 failed: corrupt in flash: CRC"),
        "{:?}",
        dev.boot
    );
    assert!(
        dev.booted("boot: ver rolled back from v2 to v1"),
        "{:?}",
        dev.boot
    );
    assert!(dev.booted("boot: ver v1 loaded"), "{:?}", dev.boot);
    assert_eq!(call_version(&dev.address, "ver"), 1);
    let l = list(&dev.address);
    let s = &entry(&l, "ver").unwrap()["stored"];
    assert_eq!(s["active"]["version"], 1);
    assert_eq!(s["active"]["state"], "confirmed");
    assert!(s["previous"].is_null(), "{l}");
    let failed = &l["boot_report"][0];
    assert_eq!(failed["event"], "failed", "{l}");
    assert_eq!(failed["version"], 2, "{l}");
    assert!(
        failed["reason"]
            .as_str()
            .unwrap()
            .contains("corrupt in flash"),
        "{l}"
    );
    for cmd in ["list", "status"] {
        let r = host_push(&[cmd, "-p", &dev.address]);
        assert!(
            r.stdout
                .contains("boot report:\n  ver v2 failed: corrupt in flash: CRC"),
            "{cmd}: {r}"
        );
        assert!(
            r.stdout.contains("  ver rolled back from v2 to v1\n"),
            "{cmd}: {r}"
        );
    }
}
