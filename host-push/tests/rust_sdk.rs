//! Rust extensions written with `llext-sdk`, built at test time by `host-push build` and run on
//! sim-device: formatting, sorting, iterators and closures, statics and atomics, trait objects,
//! constructor and destructor, the firmware API, a contained panic, one extension calling
//! another's export, and an extension built against a changed API refused.

mod common;

use std::path::{Path, PathBuf};

use common::{host_push, start_sim};
use test_support::rust;

fn build(name: &str) -> String {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rust-ext");
    let obj = rust::build(Path::new(env!("CARGO_BIN_EXE_host-push")), &dir, name, None)
        .expect("the host target is always installed");
    obj.to_str().unwrap().to_string()
}

#[test]
fn rust_extension_features_run_on_sim_device() {
    let features = build("features");
    let sim = start_sim("tcp:127.0.0.1:0");
    let expected = rust::features_calls();
    let mut args = vec![features.as_str(), "--port", &sim.address];
    for (sym, _) in &expected {
        args.extend(["--call", sym]);
    }
    let run = host_push(&args);
    assert_eq!(run.code, 0, "{run}");
    let expected: Vec<(String, i64)> = expected.iter().map(|(s, v)| (s.to_string(), *v)).collect();
    assert_eq!(rust::call_values(&run.stdout), expected, "{run}");
    for line in rust::FEATURES_LOG {
        assert!(run.stderr.contains(line), "no {line:?}: {run}");
    }
    assert!(
        run.stderr
            .contains("[device] hello from Rust on sim-device, "),
        "{run}"
    );
}

fn used_memory(port: &str) -> u64 {
    let st = host_push(&["status", "--port", port, "--json"]);
    st.json()["used_memory"].as_u64().expect("used_memory")
}

#[test]
fn a_panic_is_a_fault_reported_with_its_message_and_location() {
    let (panics, features) = (build("panics"), build("features"));
    let sim = start_sim("tcp:127.0.0.1:0");
    let port = sim.address.as_str();
    let baseline = used_memory(port);
    assert_eq!(host_push(&[&panics, "--port", port]).code, 0);
    let run = host_push(&["call", "panics", "boom", "--port", port]);
    rust::assert_panic_report(run.code, &run.stdout, &run.stderr);
    // Faulted: no further calls until it is unloaded or pushed again.
    let refused = host_push(&["call", "panics", "five", "--port", port]);
    assert_eq!(refused.code, 5, "{refused}");
    let status = host_push(&["status", "--port", port]);
    assert!(status.stdout.contains("panics: faulted"), "{status}");
    assert!(status.stdout.contains("fault: panic (line "), "{status}");
    // Another extension runs; the pool is back at its baseline after the unloads.
    let other = host_push(&[&features, "--port", port, "--call", "init_value"]);
    assert_eq!(other.stdout, "init_value = 42\n", "{other}");
    // sim-device enforces no time limit, and host-push says so.
    let limited = ["call", "features", "init_value", "--timeout-ms", "100"];
    let limited = host_push(&[&limited[..], &["--port", port]].concat());
    assert_eq!(limited.stdout, "init_value = 42\n", "{limited}");
    let warning = "warning: sim-device enforces no time limit: --timeout-ms 100 is not enforced";
    assert!(limited.stderr.contains(warning), "{limited}");
    for name in ["panics", "features"] {
        assert_eq!(host_push(&["unload", name, "--port", port]).code, 0);
    }
    assert_eq!(used_memory(port), baseline);
    // Pushed again, it is a fresh extension.
    let again = host_push(&[&panics, "--port", port, "--call", "five"]);
    assert_eq!(again.stdout, "five = 5\n", "{again}");
}

#[test]
fn one_rust_extension_calls_another_and_destructors_run_at_unload() {
    let (features, user) = (build("features"), build("user"));
    let sim = start_sim("tcp:127.0.0.1:0");
    assert_eq!(host_push(&[&features, "--port", &sim.address]).code, 0);
    let run = host_push(&[&user, "--port", &sim.address, "--call", "llext_main"]);
    assert_eq!(run.stdout, "llext_main = 42\n", "{run}");
    let busy = host_push(&["unload", "features", "--port", &sim.address]);
    assert_eq!(busy.code, 4, "features is used by user: {busy}");
    assert_eq!(
        host_push(&["unload", "user", "--port", &sim.address]).code,
        0
    );
    let gone = host_push(&["unload", "features", "--port", &sim.address]);
    assert_eq!(gone.code, 0, "{gone}");
    assert!(
        gone.stderr
            .contains("[device] features: destructor ran after 0 counts"),
        "{gone}"
    );
}

#[test]
fn an_extension_built_against_another_api_is_refused_naming_the_function() {
    let (stale, features) = (build("stale"), build("features"));
    let sim = start_sim("tcp:127.0.0.1:0");
    // On the PC, before anything is sent.
    let check = host_push(&["check", &stale, "--port", &sim.address]);
    assert_eq!(check.code, 2, "{check}");
    let said = "signature differs: `llext_uptime_ms` (the extension was built against fingerprint ";
    assert!(check.stderr.contains(said), "{check}");
    let push = host_push(&[&stale, "--port", &sim.address, "--call", "llext_main"]);
    assert_eq!(push.code, 2, "{push}");
    assert!(
        push.stderr.contains(said) && push.stderr.contains("nothing was sent"),
        "{push}"
    );
    // With an extension loaded, the host leaves unknown symbols to the device, which refuses it.
    assert_eq!(host_push(&[&features, "--port", &sim.address]).code, 0);
    let device = host_push(&[&stale, "--port", &sim.address, "--call", "llext_main"]);
    assert_eq!(device.code, 2, "{device}");
    let said = "`llext_uptime_ms`: signature differs (extension ";
    assert!(device.stderr.contains(said), "{device}");
    // The whole message fits the device's answer.
    let end = "): rebuild against this firmware's llext-api [missing-symbols]";
    assert!(device.stderr.contains(end), "{device}");
    // The device is unharmed and C-style plain names still resolve for the loaded extension.
    let after = host_push(&["call", "features", "llext_main", "--port", &sim.address]);
    assert_eq!(after.stdout, "llext_main = 7\n", "{after}");
}

#[test]
fn c_extensions_call_the_same_api_by_plain_name() {
    let src = "unsigned llext_uptime_ms(void);\n\
        void llext_log(const char *text, unsigned long len);\n\
        int c_main(void) { llext_log(\"from C\", 6); return llext_uptime_ms() < 600000; }\n";
    let obj = common::compile("capi", src);
    let sim = start_sim("tcp:127.0.0.1:0");
    let run = host_push(&[&obj, "--port", &sim.address, "--call", "c_main"]);
    assert_eq!(run.stdout, "c_main = 1\n", "{run}");
    assert!(run.stderr.contains("[device] from C"), "{run}");
}
