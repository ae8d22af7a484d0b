//! Installing into flash with the real `host-push` against the real `sim-device --flash FILE`:
//! install, restart, run without pushing again; update, confirm, rollback; remove; a device
//! without flash.

mod common;
mod flash_device;

use common::{HELLO, compile, host_push};
use flash_device::{FlashDevice, call_version, entry, flash_file, list, versioned};

#[test]
fn an_extension_installed_for_boot_loads_at_restart_and_runs_without_pushing_again() {
    let flash = flash_file("install_reboot_run");
    let hello = compile("hello_flash", HELLO);
    let dev = FlashDevice::start(&flash);
    assert_eq!(dev.boot, ["boot: nothing marked for boot"]);
    let r = host_push(&[
        "install",
        &hello,
        "--name",
        "hello",
        "--boot",
        "-p",
        &dev.address,
    ]);
    assert_eq!(r.code, 0, "{r}");
    assert!(
        r.stdout
            .contains("hello v1: pending, slot 0, loads at boot"),
        "{r}"
    );
    assert!(r.stderr.contains("installed hello v1 on sim-device"), "{r}");
    let l = list(&dev.address);
    assert_eq!(l["storage"], true);
    assert_eq!(l["slot_size"], 128 << 10);
    let e = entry(&l, "hello").expect("installed");
    assert_eq!(e["loaded"], false, "installing does not load: {e}");
    assert_eq!(e["stored"]["boot"], true);
    assert_eq!(e["stored"]["active"]["state"], "pending");
    assert_eq!(e["stored"]["active"]["version"], 1);

    dev.kill();
    let dev = FlashDevice::start(&flash);
    assert!(
        dev.booted("boot: hello v1 loaded and confirmed"),
        "{:?}",
        dev.boot
    );
    let r = host_push(&["call", "hello", "hello_main", "-p", &dev.address]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(r.stdout, "hello_main = 112\n", "{r}");
    let e = list(&dev.address);
    let e = entry(&e, "hello").expect("installed");
    assert_eq!(e["loaded"], true);
    assert_eq!(e["stored"]["active"]["state"], "confirmed");
    let st = host_push(&["status", "-p", &dev.address]);
    assert!(
        st.stdout
            .contains("boot report:\n  hello v1 loaded and confirmed"),
        "{st}"
    );
    assert!(st.stdout.contains("hello: ready"), "{st}");

    // Installing the same file again sends nothing.
    let r = host_push(&[
        "install",
        &hello,
        "--name",
        "hello",
        "-p",
        &dev.address,
        "--json",
    ]);
    assert_eq!(r.code, 0, "{r}");
    let i = &r.json()["install"];
    assert_eq!(i["unchanged"], true, "{r}");
    assert_eq!(i["sent_bytes"], 0, "{r}");
    assert_eq!(i["boot"], true, "an update keeps the boot flag: {r}");
}

#[test]
fn an_update_is_pending_until_confirmed_and_rollback_brings_back_the_previous_version() {
    let flash = flash_file("update");
    let v1 = compile("ver1", &versioned(1, 64));
    let v2 = compile("ver2", &versioned(2, 64));
    let dev = FlashDevice::start(&flash);
    let r = host_push(&["install", &v1, "-n", "ver", "--boot", "-p", &dev.address]);
    assert_eq!(r.code, 0, "{r}");
    dev.kill();
    let dev = FlashDevice::start(&flash);
    assert_eq!(call_version(&dev.address, "ver"), 1);

    let r = host_push(&["install", &v2, "-n", "ver", "-p", &dev.address, "--json"]);
    assert_eq!(r.code, 0, "{r}");
    let i = &r.json()["install"];
    assert_eq!(
        (i["version"].as_u64(), i["previous"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(i["state"], "pending");
    let l = list(&dev.address);
    let s = &entry(&l, "ver").expect("installed")["stored"];
    assert_eq!(s["active"]["state"], "pending");
    assert_eq!(s["previous"]["version"], 1);
    assert_eq!(s["previous"]["state"], "confirmed");
    assert_ne!(s["active"]["slot"], s["previous"]["slot"]);
    let text = host_push(&["list", "-p", &dev.address]);
    assert!(
        text.stdout.contains("ver v2 pending") && text.stdout.contains("previous v1 confirmed"),
        "{text}"
    );

    let r = host_push(&["confirm", "ver", "-p", &dev.address, "--json"]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(
        r.json()["extension"]["stored"]["active"]["state"],
        "confirmed"
    );
    let r = host_push(&["rollback", "ver", "-p", &dev.address, "--json"]);
    assert_eq!(r.code, 0, "{r}");
    let s = &r.json()["extension"]["stored"];
    assert_eq!(s["active"]["version"], 1, "{r}");
    assert!(s["previous"].is_null(), "{r}");
    let r = host_push(&["rollback", "ver", "-p", &dev.address]);
    assert_eq!(r.code, 4, "{r}");
    assert!(r.stderr.contains("[no-previous]"), "{r}");
    dev.kill();

    let dev = FlashDevice::start(&flash);
    assert!(dev.booted("boot: ver v1 loaded"), "{:?}", dev.boot);
    assert_eq!(call_version(&dev.address, "ver"), 1);
    // Installed again, v2 is tried and confirmed by the next boot.
    let r = host_push(&["install", &v2, "-n", "ver", "-p", &dev.address]);
    assert_eq!(r.code, 0, "{r}");
    dev.kill();
    let dev = FlashDevice::start(&flash);
    assert!(
        dev.booted("boot: ver v2 loaded and confirmed"),
        "versions count up from the active one: {:?}",
        dev.boot
    );
    assert_eq!(call_version(&dev.address, "ver"), 2);
}

#[test]
fn a_removed_extension_no_longer_loads_at_boot_and_its_slot_is_free() {
    let flash = flash_file("remove");
    let v1 = compile("rm1", &versioned(1, 64));
    let dev = FlashDevice::start(&flash);
    let r = host_push(&["install", &v1, "-n", "rm", "--boot", "-p", &dev.address]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(list(&dev.address)["free_slots"], 14);
    dev.kill();
    let dev = FlashDevice::start(&flash);
    assert_eq!(call_version(&dev.address, "rm"), 1);

    let r = host_push(&["remove", "rm", "-p", &dev.address]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(r.stdout, "removed rm from flash\n", "{r}");
    let l = list(&dev.address);
    assert_eq!(l["free_slots"], 15);
    let e = entry(&l, "rm").expect("still loaded");
    assert!(e["stored"].is_null() && e["loaded"] == true, "{e}");
    let r = host_push(&["remove", "rm", "-p", &dev.address, "--json"]);
    assert_eq!(r.code, 4, "{r}");
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .contains("[not-installed]")
            && r.json()["hint"] == "`host-push list` shows what is installed",
        "{r}"
    );
    dev.kill();

    let dev = FlashDevice::start(&flash);
    assert_eq!(dev.boot, ["boot: nothing marked for boot"]);
    let r = host_push(&["call", "rm", "version", "-p", &dev.address]);
    assert_eq!(r.code, 4, "{r}");
    assert!(
        list(&dev.address)["extensions"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_device_without_flash_refuses_installs_and_lists_what_is_loaded() {
    let dev = common::start_sim("tcp:127.0.0.1:0");
    let v1 = compile("noflash", &versioned(1, 16));
    let r = host_push(&["install", &v1, "-p", &dev.address]);
    assert_eq!(r.code, 4, "{r}");
    assert!(r.stderr.contains("keeps no extensions in flash"), "{r}");
    let r = host_push(&[&v1, "-p", &dev.address]);
    assert_eq!(r.code, 0, "{r}");
    let l = list(&dev.address);
    assert_eq!(l["storage"], false);
    assert_eq!(entry(&l, "noflash").expect("loaded")["loaded"], true);
    for cmd in ["remove", "confirm", "rollback"] {
        let r = host_push(&[cmd, "noflash", "-p", &dev.address]);
        assert_eq!(r.code, 4, "{cmd}: {r}");
        assert!(r.stderr.contains("[no-storage]"), "{cmd}: {r}");
    }
}
