//! The real `host-push` binary against the real `sim-device`, over TCP and over a pty: push and
//! call, status, call, unload, a second extension that uses the first, problems found before a
//! byte is sent, unreachable ports, exit codes, JSON.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use llext_transports::protocol::{self, FrameDecoder, Request};

use common::{
    APP, HELLO, LIB, MISSING, SimDevice, compile, compile_with, host_push, sim_device_bin,
    start_sim,
};

/// Names of the loaded extensions, from `status --json`.
fn loaded(port: &str) -> Vec<String> {
    let r = host_push(&["status", "--port", port, "--json"]);
    assert_eq!(r.code, 0, "{r}");
    r.json()["extensions"]
        .as_array()
        .expect("extensions array")
        .iter()
        .map(|e| e["name"].as_str().expect("name").to_string())
        .collect()
}

/// Pushes that reached the device, loaded or not (`status --json`).
fn pushes_seen(port: &str) -> u64 {
    let v = host_push(&["status", "--port", port, "--json"]).json();
    v["pushes_ok"].as_u64().unwrap() + v["pushes_failed"].as_u64().unwrap()
}

/// Push with `--call`, status, call, a second extension that uses the first, unload.
fn push_call_status_unload(port: &str) {
    let hello = compile("hello", HELLO);
    let r = host_push(&[&hello, "--port", port, "--call", "hello_main"]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(r.stdout, "hello_main = 112\n", "{r}");
    assert!(
        r.stderr
            .contains("[device] hello from an extension over flash"),
        "{r}"
    );
    assert!(r.stderr.contains("pushed hello to sim-device"), "{r}");
    assert_eq!(loaded(port), ["hello"]);

    // The subcommand form, and a second extension that uses the first.
    let lib = compile("lib", LIB);
    let app = compile("app", APP);
    let r = host_push(&["push", &lib, "--port", port]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(r.stdout, "", "{r}");
    let r = host_push(&[&app, "-p", port, "--call", "app_main", "--name", "app"]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(r.stdout, "app_main = 431307\n", "{r}");

    let st = host_push(&["status", "--port", port, "--json"]).json();
    let app_st = st["extensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "app")
        .expect("app in status");
    assert_eq!(app_st["dependencies"], serde_json::json!(["lib"]));
    assert!(
        app_st["regions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "text")
    );
    let text = host_push(&["status", "--port", port]);
    assert!(
        text.stdout.contains("app: ready") && text.stdout.contains("uses lib"),
        "{text}"
    );

    let r = host_push(&["call", "lib", "lib_get_counter", "--port", port]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(r.stdout, "lib_get_counter = 1003\n", "{r}");

    let r = host_push(&["unload", "lib", "--port", port]);
    assert_eq!(r.code, 4, "lib is used by app: {r}");
    assert!(r.stderr.contains("in-use"), "{r}");
    for name in ["app", "lib", "hello"] {
        let r = host_push(&["unload", name, "--port", port, "--json"]);
        assert_eq!(r.code, 0, "{r}");
        assert_eq!(r.json()["use_count"], 0, "{r}");
    }
    assert!(loaded(port).is_empty());
}

#[test]
fn pushes_calls_and_unloads_over_tcp() {
    let dev = start_sim("tcp:127.0.0.1:0");
    push_call_status_unload(&dev.address);
}

#[test]
fn pushes_calls_and_unloads_over_a_pty() {
    let dev = start_sim("pty");
    assert!(dev.address.starts_with("/dev/"), "{}", dev.address);
    push_call_status_unload(&dev.address);
}

#[test]
fn push_json_reports_the_load_the_calls_and_the_time_to_the_first_byte() {
    let dev = start_sim("tcp:127.0.0.1:0");
    let hello = compile("hello_json", HELLO);
    let r = host_push(&[
        &hello,
        "--port",
        &dev.address,
        "--call",
        "hello_main",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{r}");
    let v = r.json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["name"], "hello_json");
    assert_eq!(v["calls"][0]["symbol"], "hello_main");
    assert_eq!(v["calls"][0]["value"], 112);
    assert!(v["first_push_byte_ms"].as_f64().is_some(), "{v}");
    assert_eq!(v["log"].as_array().unwrap().len(), 3, "{v}");
    assert!(
        !r.stderr.contains('\r'),
        "no progress bar when not a terminal: {r}"
    );
}

#[test]
fn the_load_log_lists_relocations_per_section_and_the_got_entries_made() {
    let dev = start_sim("tcp:127.0.0.1:0");
    let hello = compile("hello_log", HELLO);
    let r = host_push(&[&hello, "--port", &dev.address, "--json"]);
    assert_eq!(r.code, 0, "{r}");
    let v = r.json();
    let sections = v["placed"]["sections"].as_array().expect("sections");
    let per_section: u64 = sections
        .iter()
        .map(|s| s["relocations"].as_u64().expect("relocations"))
        .sum();
    // Every relocation the load applied is counted against the section it patched.
    assert_eq!(Some(per_section), v["relocations"].as_u64(), "{v}");
    let text = sections
        .iter()
        .find(|s| s["name"] == ".text")
        .expect(".text");
    assert!(text["relocations"].as_u64() > Some(0), "{v}");
    // The firmware's functions are out of a rel32's reach from the pool: GOT entries and stubs.
    assert!(v["placed"]["trampolines"].as_u64() > Some(0), "{v}");
    let r = host_push(&["unload", "hello_log", "--port", &dev.address]);
    assert_eq!(r.code, 0, "{r}");
    let r = host_push(&[&hello, "--port", &dev.address, "-v"]);
    assert!(
        r.stderr.contains(" relocations") && r.stderr.contains("veneers and GOT entries: "),
        "{r}"
    );
}

#[test]
fn missing_symbols_are_all_listed_before_a_byte_is_sent_with_exit_code_2() {
    let dev = start_sim("tcp:127.0.0.1:0");
    let ext = compile("missing", MISSING);
    let r = host_push(&[&ext, "--port", &dev.address, "--call", "entry"]);
    assert_eq!(r.code, 2, "{r}");
    for name in ["fw_alpha", "fw_beta", "fw_gamma"] {
        assert!(r.stderr.contains(&format!("missing symbol: {name}")), "{r}");
    }
    assert!(r.stderr.contains("nothing was sent"), "{r}");
    assert_eq!(r.stdout, "");
    assert_eq!(pushes_seen(&dev.address), 0, "the device saw a push");

    let r = host_push(&[&ext, "--port", &dev.address, "--json"]);
    assert_eq!(r.code, 2, "{r}");
    let v = r.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["exit_code"], 2);
    assert_eq!(v["problems"].as_array().unwrap().len(), 3, "{v}");

    let r = host_push(&["check", &ext, "--port", &dev.address]);
    assert_eq!(r.code, 2, "{r}");
    assert!(r.stderr.contains("fw_gamma"), "{r}");
    let good = compile("good", LIB);
    let r = host_push(&["check", &good, "--port", &dev.address]);
    assert_eq!(r.code, 0, "{r}");
    assert!(
        r.stdout.contains("would load on sim-device (x86_64)"),
        "{r}"
    );
    assert_eq!(pushes_seen(&dev.address), 0);
}

#[test]
fn symbols_of_loaded_extensions_are_left_to_the_device_which_names_the_missing_ones() {
    let dev = start_sim("tcp:127.0.0.1:0");
    let app = compile("app_alone", APP);
    // Nothing loaded: lib's symbols are missing, found on the host.
    let r = host_push(&[&app, "--port", &dev.address]);
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stderr.contains("lib_add") && r.stderr.contains("nothing was sent"),
        "{r}"
    );
    // Another extension loaded: the device may provide them; it says which it could not.
    let hello = compile("hello_dep", HELLO);
    assert_eq!(host_push(&[&hello, "--port", &dev.address]).code, 0);
    let r = host_push(&[&app, "--port", &dev.address]);
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stderr.contains("missing-symbols") && r.stderr.contains("lib_add"),
        "{r}"
    );
    assert_eq!(loaded(&dev.address), ["hello_dep"]);
}

#[test]
fn a_wrong_architecture_object_is_refused_before_a_byte_is_sent() {
    let Some(arm) = compile_with(
        "arm-none-eabi-gcc",
        "arm_ext",
        "int entry(void) { return 7; }",
        &["-mcpu=cortex-m3", "-mthumb"],
    ) else {
        return;
    };
    let dev = start_sim("tcp:127.0.0.1:0");
    let r = host_push(&[&arm, "--port", &dev.address, "--call", "entry"]);
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stderr.contains("built for arm") && r.stderr.contains("runs x86_64"),
        "{r}"
    );
    assert_eq!(pushes_seen(&dev.address), 0, "the device saw a push");
}

#[test]
fn an_extension_already_loaded_is_refused_unless_replaced() {
    let dev = start_sim("tcp:127.0.0.1:0");
    let hello = compile("again", HELLO);
    assert_eq!(host_push(&[&hello, "--port", &dev.address]).code, 0);
    let r = host_push(&[&hello, "--port", &dev.address, "--call", "hello_main"]);
    assert_eq!(r.code, 4, "{r}");
    assert!(r.stderr.contains("--replace"), "{r}");
    let r = host_push(&[
        &hello,
        "--port",
        &dev.address,
        "--replace",
        "--call",
        "hello_main",
    ]);
    assert_eq!(r.code, 0, "{r}");
    assert_eq!(r.stdout, "hello_main = 112\n");
    assert_eq!(loaded(&dev.address), ["again"]);
}

/// `--replace` checks the new file before unloading anything, and a new version the device
/// refuses (out of memory here) leaves the old one loaded again, pushed back from the kept copy.
#[test]
fn a_replace_the_device_refuses_leaves_the_old_version_loaded() {
    let dev = SimDevice::start(
        sim_device_bin(),
        &["--listen", "tcp:127.0.0.1:0", "--memory", "8192"],
    );
    let port = dev.address.as_str();
    let v1 = compile("swap", "int version(void) { return 1; }\n");
    assert_eq!(host_push(&[&v1, "--port", port]).code, 0);
    // A file the host can refuse (a missing symbol) unloads nothing.
    let broken = compile(
        "swap",
        "int nowhere(void);\nint version(void) { return nowhere(); }\n",
    );
    let r = host_push(&[&broken, "--port", port, "--replace"]);
    assert_eq!(r.code, 2, "{r}");
    // One the device refuses: 32 KB of data in 8 KB of extension memory.
    let big = compile(
        "swap",
        "int big[8192] = {1};\nint version(void) { return 2 + big[0]; }\n",
    );
    let r = host_push(&[&big, "--port", port, "--replace"]);
    assert_eq!(r.code, 4, "{r}");
    assert!(r.stderr.contains("pushed back"), "{r}");
    assert_eq!(loaded(port), ["swap"]);
    let r = host_push(&["call", "swap", "version", "--port", port]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "version = 1\n"), "{r}");
}

#[test]
fn device_errors_exit_4_with_the_device_message() {
    let dev = start_sim("tcp:127.0.0.1:0");
    let r = host_push(&["call", "nothing", "main", "--port", &dev.address]);
    assert_eq!(r.code, 4, "{r}");
    assert!(r.stderr.contains("not-loaded"), "{r}");
    assert!(r.stderr.contains("hint: `host-push status` shows"), "{r}");
    let hello = compile("calls", HELLO);
    assert_eq!(host_push(&[&hello, "--port", &dev.address]).code, 0);
    let r = host_push(&[
        "call",
        "calls",
        "no_such_function",
        "--port",
        &dev.address,
        "--json",
    ]);
    assert_eq!(r.code, 4, "{r}");
    let v = r.json();
    assert!(
        v["error"].as_str().unwrap().contains("no_such_function"),
        "{v}"
    );
    // A name too long says so, without the hint about what a callable symbol is.
    let long = "f".repeat(200);
    let r = host_push(&["call", "calls", &long, "--port", &dev.address]);
    assert_eq!(r.code, 4, "{r}");
    assert!(r.stderr.contains("longer than 128 bytes"), "{r}");
    assert!(!r.stderr.contains("hint"), "{r}");
}

#[test]
fn a_port_with_nothing_behind_it_exits_3_saying_no_device_answered() {
    // A TCP port nobody listens on.
    let free = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = format!("tcp:{}", free.local_addr().unwrap());
    drop(free);
    let hello = compile("unreachable", HELLO);
    let r = host_push(&[&hello, "--port", &port]);
    assert_eq!(r.code, 3, "{r}");
    assert!(
        r.stderr.contains(&format!("no device answered on {port}")),
        "{r}"
    );

    // Something that accepts the connection but never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = format!("tcp:{}", silent.local_addr().unwrap());
    let r = host_push(&["status", "--port", &port, "--json"]);
    assert_eq!(r.code, 3, "{r}");
    let v = r.json();
    assert_eq!(v["exit_code"], 3);
    assert!(
        v["error"].as_str().unwrap().contains("did not answer"),
        "{v}"
    );
    // On TCP the likely cause is another host holding the device (a `monitor`).
    assert!(
        v["hint"].as_str().unwrap().contains("one host at a time"),
        "{v}"
    );

    // A serial device path that does not exist.
    let r = host_push(&["status", "--port", "/dev/no-such-tty"]);
    assert_eq!(r.code, 3, "{r}");
    assert!(
        r.stderr.contains("no device answered on /dev/no-such-tty"),
        "{r}"
    );
}

#[test]
fn monitor_ends_with_exit_code_3_when_the_device_goes_away() {
    let dev = start_sim("tcp:127.0.0.1:0");
    let mut mon = Command::new(env!("CARGO_BIN_EXE_host-push"))
        .args(["monitor", "--port", &dev.address])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start monitor");
    let mut stderr = BufReader::new(mon.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.starts_with("monitoring sim-device"), "{line}");
    drop(dev);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = mon.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "monitor still running");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert_eq!(status.code(), Some(3), "{rest}");
    assert!(rest.contains("went away"), "{rest}");
}

#[test]
fn a_device_of_another_protocol_version_exits_3_saying_what_to_update() {
    // Version 9's Hello answer: variant 0, version first, then unknown fields.
    let port = fake_port(|seq, _| vec![frame(seq, &(0u8, 9u16, [1u8, 2, 3]))]);
    let r = host_push(&["status", "--port", &port]);
    assert_eq!(r.code, 3, "{r}");
    assert!(
        r.stderr.contains("protocol version mismatch")
            && r.stderr.contains("version 9")
            && r.stderr.contains("update host-push or the firmware"),
        "{r}"
    );
}

#[test]
fn ports_json_lists_serial_ports() {
    let r = host_push(&["ports", "--json"]);
    assert_eq!(r.code, 0, "{r}");
    let v = r.json();
    for p in v["ports"].as_array().expect("ports array") {
        assert!(p["name"].as_str().is_some(), "{p}");
        assert!(p["type"].as_str().is_some(), "{p}");
    }
}

#[test]
fn usage_errors_exit_1_and_help_lists_the_exit_codes() {
    let r = host_push(&["status", "--bogus"]);
    assert_eq!(r.code, 1, "{r}");
    let r = host_push(&["--help"]);
    assert_eq!(r.code, 0, "{r}");
    assert!(
        r.stdout.contains("Exit codes:") && r.stdout.contains("3  cannot reach"),
        "{r}"
    );
    let r = host_push(&["--port", "tcp:127.0.0.1:1", "status"]);
    assert_eq!(r.code, 1, "{r}");
    assert!(r.stderr.contains("host-push status --port"), "{r}");
}

/// Not a test of behaviour: the figure for `docs/PERFORMANCE.md`. Runs `host-push EXT --json` 20
/// times against a fresh `sim-device` and prints the median time from start to the first byte of
/// the push. `cargo test -p host-push --release --test device -- --ignored --nocapture`.
#[test]
#[ignore]
fn measure_start_to_first_byte() {
    let _ = sim_device_bin();
    let dev = start_sim("tcp:127.0.0.1:0");
    let hello = compile("timing", HELLO);
    let (mut first, mut push, mut total) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..20 {
        let r = host_push(&[&hello, "--port", &dev.address, "--replace", "--json"]);
        assert_eq!(r.code, 0, "{r}");
        let v = r.json();
        first.push(v["first_push_byte_ms"].as_f64().unwrap());
        push.push(v["first_byte_ms"].as_f64().unwrap());
        total.push(v["total_ms"].as_f64().unwrap());
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[9] + v[10]) / 2.0
    };
    println!(
        "median over 20 runs: first byte sent (handshake) {:.2} ms, first byte of the push {:.2} ms, total {:.2} ms",
        median(&mut push),
        median(&mut first),
        median(&mut total)
    );
}

/// One frame holding `(seq, msg)`.
fn frame<T: serde::Serialize>(seq: u16, msg: &T) -> Vec<u8> {
    let (mut raw, mut out) = ([0u8; 512], [0u8; 600]);
    let n = protocol::encode(seq, msg, &mut raw, &mut out).unwrap();
    out[..n].to_vec()
}

/// A device on a free TCP port that answers each request with the frames `answer` makes of
/// its seq and the request.
fn fake_port(answer: impl Fn(u16, &Request<'_>) -> Vec<Vec<u8>> + Send + 'static) -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = format!("tcp:{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut dec = FrameDecoder::<4096>::new();
        let mut buf = [0u8; 256];
        loop {
            let n = s.read(&mut buf).unwrap_or(0);
            if n == 0 {
                return;
            }
            let mut input = &buf[..n];
            while !input.is_empty() {
                let (k, done) = dec.feed(input);
                input = &input[k..];
                if done {
                    let (seq, req) = protocol::decode::<Request<'_>>(dec.frame()).unwrap();
                    for f in answer(seq, &req) {
                        s.write_all(&f).unwrap();
                    }
                }
            }
        }
    });
    port
}

/// The answer sim-device would give to `Hello`, `Status` and `List` (nothing loaded, no flash),
/// if `req` is one.
fn sim_like(seq: u16, req: &Request<'_>) -> Option<Vec<u8>> {
    sim_like_named("fake", seq, req)
}

/// [`sim_like`] for a device that calls itself `name`.
fn sim_like_named(name: &str, seq: u16, req: &Request<'_>) -> Option<Vec<u8>> {
    use protocol::{DeviceHello, Response, StatusHead};
    let r: Response<'_> = match req {
        Request::Hello { .. } => Response::Hello(DeviceHello {
            version: protocol::VERSION,
            name,
            arch: "x86_64",
            float_abi: None,
            max_frame: 4096,
            window: 2048,
            free_memory: Some(1 << 20),
            used_memory: 0,
            exports_id: 1,
            exports: 1,
            max_extensions: 8,
            push_timeout_ms: 5000,
            time_limit_ms: 0,
        }),
        Request::Status => Response::Status(StatusHead {
            name,
            arch: "x86_64",
            used_memory: 0,
            free_memory: Some(1 << 20),
            extensions: 0,
            max_extensions: 8,
            pushes_ok: 0,
            pushes_failed: 0,
            bad_frames: 0,
            trust: Default::default(),
        }),
        Request::List => Response::ListHead(protocol::ListHead {
            storage: false,
            entries: 0,
            boot_events: 0,
            slots: 0,
            free_slots: 0,
            slot_size: 0,
            interrupted: None,
        }),
        _ => return None,
    };
    Some(frame(seq, &r))
}

/// A device that answers `Hello` and `Status` as sim-device would and every other request
/// with what `answer` returns.
fn fake_device(answer: fn(&Request<'_>) -> Vec<protocol::Response<'static>>) -> String {
    fake_port(move |seq, req| match sim_like(seq, req) {
        Some(f) => vec![f],
        None => answer(req).iter().map(|r| frame(seq, r)).collect(),
    })
}

#[test]
fn a_device_claiming_a_huge_export_index_or_count_gets_an_error_not_an_abort() {
    use protocol::Response;
    for hostile in [
        (|_: &Request<'_>| {
            vec![
                Response::Export {
                    index: u32::MAX - 8,
                    name: "puts",
                    addr: 0x1000,
                },
                Response::ExportsEnd { total: 1 },
            ]
        }) as fn(&Request<'_>) -> Vec<Response<'static>>,
        |_| {
            vec![
                Response::Export {
                    index: 0,
                    name: "puts",
                    addr: 0x1000,
                },
                Response::ExportsEnd { total: u32::MAX },
            ]
        },
    ] {
        let port = fake_device(hostile);
        let hello = compile("fake_exports", HELLO);
        let r = host_push(&["check", &hello, "--port", &port]);
        assert_eq!(r.code, 3, "{r}");
        assert!(r.stderr.contains("exports"), "{r}");
    }
}

/// What constructors print comes before the device's answer, so a push without `--call` or
/// `-v` (nothing asked after it) still shows it.
#[test]
fn constructor_output_shows_on_a_push_that_asks_nothing_more() {
    let dev = start_sim("tcp:127.0.0.1:0");
    let ctor = compile(
        "ctor_log",
        "int puts(const char *);\n__attribute__((constructor)) static void hi(void) { puts(\"ctor ran\"); }\nint x(void) { return 1; }\n",
    );
    let r = host_push(&[&ctor, "--port", &dev.address]);
    assert_eq!(r.code, 0, "{r}");
    let (log, pushed) = (r.stderr.find("[device] ctor ran"), r.stderr.find("pushed "));
    assert!(log.is_some() && log < pushed, "{r}");
}

/// A cause this host-push does not know (a newer firmware's) reads as such, at once, instead
/// of as a device that stopped answering.
#[test]
fn an_error_this_host_cannot_read_says_to_update_host_push() {
    let port = fake_port(|seq, req| {
        let unknown = protocol::Words {
            tag: 200,
            n: [0; 5],
            s: ["", ""],
            fault: None,
        };
        // Response::Error (variant 10) with ErrorCode::NotLoaded (4) and cause 200.
        vec![sim_like(seq, req).unwrap_or_else(|| frame(seq, &(10u32, 4u32, unknown)))]
    });
    let started = Instant::now();
    let r = host_push(&["call", "x", "y", "--port", &port]);
    assert_eq!(r.code, 4, "{r}");
    assert!(
        r.stderr.contains("cannot read") && r.stderr.contains("update host-push"),
        "{r}"
    );
    assert!(started.elapsed() < Duration::from_secs(3), "{r}");
}

/// Names and causes from a device reach the terminal with control characters escaped and cut
/// to 160 bytes: a hostile device cannot clear the screen or flood it.
#[test]
fn device_strings_are_escaped_and_capped() {
    use protocol::{Cause, ErrorCode, ErrorReply, Response};
    let hostile = |seq: u16, req: &Request<'_>| match req {
        Request::Call { .. } => {
            let long = "n".repeat(400);
            let e = ErrorReply {
                code: ErrorCode::NotLoaded,
                cause: Cause::NotLoaded {
                    name: long.as_str(),
                },
            };
            let (mut raw, mut out) = ([0u8; 1024], [0u8; 1200]);
            let n = protocol::encode(seq, &Response::Error(e), &mut raw, &mut out).unwrap();
            vec![out[..n].to_vec()]
        }
        _ => sim_like_named("\x1b[2Jevil\r", seq, req)
            .into_iter()
            .collect(),
    };
    let port = fake_port(hostile);
    let r = host_push(&["status", "--port", &port]);
    assert_eq!(r.code, 0, "{r}");
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(!all.contains('\x1b') && !all.contains('\r'), "{r}");
    assert!(all.contains("\\u{1b}[2Jevil\\r"), "{r}");
    let port = fake_port(hostile);
    let r = host_push(&["call", "x", "y", "--port", &port]);
    assert_eq!(r.code, 4, "{r}");
    assert!(r.stderr.contains(&format!("{}…", "n".repeat(160))), "{r}");
    assert!(!r.stderr.contains(&"n".repeat(161)), "{r}");
}
