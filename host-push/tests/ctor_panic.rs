//! A constructor that panics (through the firmware API's `llext_panic`, called from C) on
//! `sim-device`, which contains panics: a push fails with exit 5 and loads nothing; at boot the
//! installed extension fails its trial, and `host-push monitor` names the function and line of
//! that boot report from the image this host kept.

mod common;
mod flash_device;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{compile_with, host_push, start_sim};
use flash_device::{FlashDevice, flash_file};

const CTOR: &str = "\
__attribute__((noreturn)) void llext_panic(const char *m, unsigned long ml, const char *f,
                                           unsigned long fl, unsigned line, unsigned col);
__attribute__((constructor)) static void boom(void) { llext_panic(\"bad\", 3, \"ctor.c\", 6, 3, 1); }
int x(void) { return 5; }
";

#[test]
fn monitor_names_a_constructor_that_panicked_at_boot() {
    let obj = compile_with("cc", "ctor", CTOR, &["-g"]).expect("cc is needed");
    let flash = flash_file("monitor_ctor");
    let dev = FlashDevice::start(&flash);
    let inst = host_push(&["install", &obj, "--boot", "-p", &dev.address]);
    assert_eq!(inst.code, 0, "{inst}");
    dev.kill();
    let dev = FlashDevice::start(&flash);
    let failed = "ctor v1 failed: a constructor faulted: panic at text+0x";
    assert!(dev.booted(failed), "{:?}", dev.boot);

    // The device sends its boot report to the first host: the monitor.
    let mut mon = Command::new(env!("CARGO_BIN_EXE_host-push"))
        .args(["monitor", "-p", &dev.address])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start host-push monitor");
    let (tx, rx) = mpsc::channel();
    let out = mon.stdout.take().expect("piped");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let until = Instant::now() + Duration::from_secs(20);
    while !seen
        .iter()
        .any(|l: &String| l.starts_with("  - ctor v1: in "))
    {
        let left = until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => seen.push(l),
            Err(_) => break,
        }
    }
    let _ = mon.kill();
    let _ = mon.wait();
    let at = seen.iter().position(|l| l.contains(failed));
    let at = at.unwrap_or_else(|| panic!("no boot failure: {seen:#?}"));
    // The function and the line of the `llext_panic` call (the test's compiler names the file
    // `ctor.N.c`, N counting the compilations of this test binary).
    let named = seen.get(at + 1).map(String::as_str).unwrap_or("");
    assert!(
        named.starts_with("  - ctor v1: in boom+0x")
            && named.contains(" (ctor.")
            && named.ends_with(".c:3)"),
        "{seen:#?}"
    );
    assert!(
        seen.iter().any(|l| l == "panicked at ctor.c:3:1: bad"),
        "{seen:#?}"
    );
}

#[test]
fn a_constructor_that_panics_fails_the_push_and_loads_nothing() {
    let obj = compile_with("cc", "ctor", CTOR, &["-g"]).expect("cc is needed");
    let sim = start_sim("tcp:127.0.0.1:0");
    let push = host_push(&[&obj, "--port", &sim.address]);
    assert_eq!(push.code, 5, "{push}");
    let said = "a constructor of `ctor` panicked (line 3) at pc 0x";
    assert!(push.stderr.contains(said), "{push}");
    assert!(
        push.stderr.contains("[device] panicked at ctor.c:3:1: bad"),
        "{push}"
    );
    let st = host_push(&["status", "--port", &sim.address, "--json"]).json();
    assert_eq!(st["used_memory"], 0, "{st}");
    assert_eq!(st["extensions"], serde_json::json!([]), "{st}");
}

const CALL_PANICS: &str = "\
__attribute__((noreturn)) void llext_panic(const char *m, unsigned long ml, const char *f,
                                           unsigned long fl, unsigned line, unsigned col);
int boom(void) { llext_panic(\"bad\", 3, \"call.c\", 6, 3, 1); }
";

/// A call that panics in an extension installed in place (no section addresses on the device):
/// the report still names the function and line, from the image kept at install, and the hint
/// says to install the fixed build (pushing would not replace what loads at boot); `status`
/// names it too.
#[test]
fn a_panic_in_an_extension_installed_in_place_is_symbolized_from_the_kept_image() {
    let obj = compile_with("cc", "xpanic", CALL_PANICS, &["-g"]).expect("cc is needed");
    let flash = flash_file("xip_call_panic");
    let dev = FlashDevice::start(&flash);
    let inst = host_push(&["install", &obj, "--xip", "--boot", "-p", &dev.address]);
    assert_eq!(inst.code, 0, "{inst}");
    dev.kill();
    let dev = FlashDevice::start(&flash);
    let r = host_push(&["call", "xpanic", "boom", "-p", &dev.address]);
    assert_eq!(r.code, 5, "{r}");
    assert!(r.stderr.contains(" in boom+0x"), "{r}");
    assert!(
        r.stderr.contains("`host-push install` the fixed build"),
        "{r}"
    );
    // `status` shows the kept fault the same way.
    let st = host_push(&["status", "-p", &dev.address]);
    assert_eq!(st.code, 0, "{st}");
    assert!(
        st.stdout.contains("xpanic: faulted") && st.stdout.contains(" in boom+0x"),
        "{st}"
    );
}
