//! Execute-in-place installs with the real `host-push install --xip` against the real
//! `sim-device --flash FILE`: linked once on the device into its mapped flash file, loaded at
//! the next start without relocation, code run from flash and only data and bss in RAM; the
//! C corpus (firmware calls, data and string relocations, constructors, jump tables, large bss)
//! gives the same results as from RAM; a firmware whose exports moved refuses it.

mod common;
mod flash_device;

use common::{HELLO, compile, host_push, start_sim};
use flash_device::{FlashDevice, flash_file};

/// Where sim-device maps its flash file, and its RAM for extensions installed in place.
const FLASH_AT: u64 = 0x6000_0000_0000;
const RAM_AT: u64 = FLASH_AT + (1 << 30);

fn corpus(name: &str) -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/ext-run/tests/corpus/"
    );
    let src = std::fs::read_to_string(format!("{path}{name}.c")).expect("corpus source");
    compile(&format!("xip_{name}"), &src)
}

/// `host-push install OBJ -n NAME --xip --boot` (exit 0 asserted); its standard output.
fn install_xip(port: &str, obj: &str, name: &str) -> String {
    let r = host_push(&["install", obj, "-n", name, "--xip", "--boot", "-p", port]);
    assert_eq!(r.code, 0, "{r}");
    r.stdout
}

/// A device on a fresh flash file for `test`, with the sample extension installed in place as
/// `hello`; the install's standard output.
fn hello_installed(test: &str) -> (std::path::PathBuf, FlashDevice, String) {
    let flash = flash_file(test);
    let hello = compile(test, HELLO);
    let dev = FlashDevice::start(&flash);
    let out = install_xip(&dev.address, &hello, "hello");
    (flash, dev, out)
}

fn call(port: &str, ext: &str, sym: &str) -> String {
    let r = host_push(&["call", ext, sym, "-p", port]);
    assert_eq!(r.code, 0, "{r}");
    r.stdout
}

#[test]
fn installed_in_place_it_runs_from_flash_after_a_restart_with_only_data_and_bss_in_ram() {
    let (flash, dev, out) = hello_installed("xip_hello");
    assert!(
        out.contains("hello v1: pending, slot 1, in place (flash), loads at boot"),
        "{out}"
    );
    dev.kill();

    let dev = FlashDevice::start(&flash);
    assert!(
        dev.booted("boot: hello v1 loaded and confirmed"),
        "{:?}",
        dev.boot
    );
    assert_eq!(
        call(&dev.address, "hello", "hello_main"),
        "hello_main = 112\n"
    );
    let l = host_push(&["list", "-p", &dev.address]);
    assert!(
        l.stdout.contains("hello v1 confirmed, slot 1 (in place), "),
        "{l}"
    );
    let st = host_push(&["status", "-p", &dev.address, "--json"]);
    assert_eq!(st.code, 0, "{st}");
    let st = st.json();
    assert_eq!(
        st["used_memory"], 0,
        "nothing taken from the extension pool: {st}"
    );
    let e = &st["extensions"][0];
    let regions = e["regions"].as_array().expect("regions");
    assert!(regions.len() >= 4, "{e}");
    for r in regions {
        let addr = r["addr"].as_u64().expect("addr");
        let (lo, hi) = match r["kind"].as_str().unwrap() {
            "data" | "bss" => (RAM_AT, RAM_AT + (8 << 20)),
            _ => (FLASH_AT, FLASH_AT + (2 << 20)),
        };
        assert!((lo..hi).contains(&addr), "{r} not in {lo:x}..{hi:x}");
    }
    // No section addresses are kept for code run in place: `gdb` says so and what to do.
    let gdb = host_push(&["gdb", "hello", "-p", &dev.address]);
    assert_eq!(gdb.code, 4, "{gdb}");
    let said = "`hello` runs in place from flash (installed with --xip)";
    assert!(gdb.stderr.contains(said), "{gdb}");
    assert!(gdb.stderr.contains("--name hello-dbg"), "{gdb}");
}

#[test]
fn the_c_corpus_runs_in_place_as_it_does_from_ram() {
    let flash = flash_file("xip_corpus");
    let dev = FlashDevice::start(&flash);
    // Firmware calls, data and string relocations, jump tables, constructors, a large bss.
    const CTORS: (&str, &[(&str, i32)]) = (
        "ctors",
        &[("ctors_get_order", 123), ("ctors_get_count", 126)],
    );
    let cases: Vec<_> = test_support::CORPUS
        .iter()
        .filter(|(f, _)| ["data", "tables", "switch", "structs", "bigbss"].contains(f))
        .chain([&CTORS])
        .collect();
    for (name, _) in &cases {
        let obj = corpus(name);
        let r = host_push(&[
            "install",
            &obj,
            "-n",
            name,
            "--xip",
            "--boot",
            "-p",
            &dev.address,
        ]);
        assert_eq!(r.code, 0, "{r}");
    }
    dev.kill();
    let dev = FlashDevice::start(&flash);
    for (name, calls) in &cases {
        assert!(
            dev.booted(&format!("boot: {name} v1 loaded")),
            "{:?}",
            dev.boot
        );
        for (sym, want) in *calls {
            assert_eq!(
                call(&dev.address, name, sym),
                format!("{sym} = {want}\n"),
                "{name}"
            );
        }
    }
}

#[test]
fn a_firmware_whose_exports_moved_refuses_it_and_says_to_install_again() {
    let (flash, dev, _) = hello_installed("xip_moved");
    dev.kill();
    // Without the fixed addresses the firmware's exports land elsewhere: another table id.
    let dev = FlashDevice::start_with_env(&flash, &[("SIM_DEVICE_FIXED_ADDRESSES", "1")]);
    assert!(
        dev.booted("hello v1 failed") && dev.booted("install it again"),
        "{:?}",
        dev.boot
    );
    let r = host_push(&["call", "hello", "hello_main", "-p", &dev.address]);
    assert_ne!(r.code, 0, "{r}");
    // Installed again, it is linked for this firmware.
    let hello = compile("xip_moved_again", HELLO);
    install_xip(&dev.address, &hello, "hello");
}

/// A symbol an installed extension exports is no use to a link in place (it sees the
/// firmware's exports only): refused before a byte is sent, exit 2, saying so.
#[test]
fn a_symbol_of_another_extension_is_refused_before_sending_in_place() {
    let (_flash, dev, _) = hello_installed("xip_other_ext");
    let user = compile(
        "xip_other_ext_user",
        "int hello_main(void);\nint twice(void) { return 2 * hello_main(); }\n",
    );
    let r = host_push(&["install", &user, "--xip", "-p", &dev.address]);
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stderr.contains("missing symbol: hello_main")
            && r.stderr.contains("nothing was sent")
            && r.stderr.contains("firmware's exports only"),
        "{r}"
    );
    let list = host_push(&["list", "-p", &dev.address]);
    assert!(!list.stdout.contains("user"), "{list}");
}

/// A device whose extension memory (16 KiB) is smaller than an extension's code (about 25 KiB
/// of text and rodata): pushed, it does not fit; installed in place it links a flash page at a
/// time within that memory, and after a restart returns what it returns from RAM on a device
/// with memory to spare.
#[test]
fn with_less_memory_than_its_code_it_still_installs_in_place_and_runs_the_same() {
    let obj = compile("xip_tables", &test_support::bench::tables_source(120));
    let roomy = start_sim("tcp:127.0.0.1:0");
    let r = host_push(&["push", &obj, "-n", "t", "-p", &roomy.address]);
    assert_eq!(r.code, 0, "{r}");
    let expected = call(&roomy.address, "t", "run");
    drop(roomy);

    let flash = flash_file("xip_small_memory");
    let small = ["--memory", "16384"];
    let dev = FlashDevice::start_with(&flash, &small, &[]);
    let r = host_push(&["push", &obj, "-n", "t", "-p", &dev.address]);
    assert_ne!(r.code, 0, "pushed, its code does not fit in 16 KiB: {r}");
    install_xip(&dev.address, &obj, "t");
    dev.kill();
    let dev = FlashDevice::start_with(&flash, &small, &[]);
    assert!(
        dev.booted("boot: t v1 loaded and confirmed"),
        "{:?}",
        dev.boot
    );
    assert_eq!(call(&dev.address, "t", "run"), expected);
    let st = host_push(&["status", "-p", &dev.address, "--json"]).json();
    let code: u64 = st["extensions"][0]["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .filter(|r| r["kind"] == "text" || r["kind"] == "rodata")
        .map(|r| r["size"].as_u64().unwrap())
        .sum();
    assert!(
        code > 16384,
        "{code} B of text and rodata: more than the device's memory"
    );
}
