//! Freed memory is reusable forever: thousands of pushes and unloads, and failed pushes of an
//! extension with a 15 MiB `.bss`, against the real `sim-device`, with its memory, its address
//! space and the addresses it hands out staying flat.

mod common;

use std::time::Instant;

use common::raw::{Raw, push_begin};
use common::{build, start};
use llext_transports::client::Client;
use llext_transports::protocol::{self, Request, Response};

/// Push and unload rounds of a small extension.
const ROUNDS: u32 = 3000;
/// Every this many rounds, a push of the 15 MiB extension that fails its CRC.
const BIG_EVERY: u32 = 10;

const SMALL: &str = "const int k[4] = {1, 2, 3, 4};\nint d = 3;\nstatic int counter;\n\
                     int f(void) { return ++counter + d + k[2]; }\n";
const BIG: &str = "static char big[15 << 20];\nint touch(void) { big[1] = 1; return big[0]; }\n";

/// A field of `/proc/PID/status`, in kB.
fn proc_kb(pid: u32, key: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    s.lines()
        .find_map(|l| {
            l.strip_prefix(key)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/status"))
}

/// Mappings of the process below 2 GiB (where extensions go).
fn low_mappings(pid: u32) -> usize {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).expect("proc maps");
    maps.lines()
        .filter_map(|l| u64::from_str_radix(l.split('-').next()?, 16).ok())
        .filter(|&start| start < 0x8000_0000)
        .count()
}

fn answer(raw: &mut Raw) -> Response<'static> {
    let frame = raw.recv().1;
    let r = protocol::decode::<Response<'_>>(&frame).expect("decode").1;
    // Only the variants used here, which borrow nothing.
    match r {
        Response::Unloaded { use_count } => Response::Unloaded { use_count },
        Response::CallResult { value } => Response::CallResult { value },
        other => panic!("{other:?}"),
    }
}

fn push(raw: &mut Raw, push_id: u32, name: &str, image: &[u8], crc32: Option<u32>) -> bool {
    let mut begin = push_begin(push_id, name, image);
    if let (Request::PushBegin { crc32: c, .. }, Some(bad)) = (&mut begin, crc32) {
        *c = bad;
    }
    let frame = raw.transfer(&begin, image);
    match protocol::decode::<Response<'_>>(&frame).expect("decode").1 {
        Response::PushDone { result, .. } => result.is_ok(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn memory_and_addresses_stay_flat_over_thousands_of_pushes_unloads_and_failed_pushes() {
    let dev = start(&[]);
    let pid = dev.pid();
    let (small, big) = (build("soak_small", SMALL), build("soak_big", BIG));
    let baseline = Client::connect(&dev.address)
        .expect("connect")
        .status()
        .unwrap();
    let mut raw = Raw::connect(&dev);
    let seq = |round: u32| (round % 60_000 + 2) as u16;
    // Warm up, then take the measures everything is compared with.
    assert!(push(&mut raw, 1, "soak", &small, None));
    raw.send(0xffff, &Request::Unload { name: "soak" });
    assert!(matches!(answer(&mut raw), Response::Unloaded { .. }));
    let (rss, vm, low) = (
        proc_kb(pid, "VmRSS:"),
        proc_kb(pid, "VmSize:"),
        low_mappings(pid),
    );

    let started = Instant::now();
    let mut bad_pushes = 0;
    for round in 0..ROUNDS {
        let id = 2 * round + 2;
        assert!(push(&mut raw, id, "soak", &small, None), "round {round}");
        raw.send(
            seq(round),
            &Request::Call {
                ext: "soak",
                sym: "f",
                time_limit_ms: 0,
            },
        );
        assert_eq!(answer(&mut raw), Response::CallResult { value: 1 + 3 + 3 });
        raw.send(seq(round) ^ 0x8000, &Request::Unload { name: "soak" });
        assert_eq!(answer(&mut raw), Response::Unloaded { use_count: 0 });
        if round % BIG_EVERY == 0 {
            assert!(!push(&mut raw, id + 1, "big", &big, Some(0xdead_beef)));
            bad_pushes += 1;
        }
    }
    let took = started.elapsed();
    drop(raw);

    let mut c = Client::connect(&dev.address).expect("connect");
    let st = c.status().expect("status");
    assert_eq!(st.used_memory, baseline.used_memory, "{st:?}");
    assert_eq!(st.free_memory, baseline.free_memory, "{st:?}");
    assert_eq!(low_mappings(pid), low, "extension mappings left behind");
    let (rss2, vm2) = (proc_kb(pid, "VmRSS:"), proc_kb(pid, "VmSize:"));
    assert!(rss2 < rss + (8 << 10), "resident {rss} kB -> {rss2} kB");
    assert!(vm2 < vm + (8 << 10), "address space {vm} kB -> {vm2} kB");
    // And the whole memory is still there to use: the 15 MiB extension loads.
    c.push("big", &big, |_| {})
        .expect("15 MiB still free after all that");
    assert_eq!(c.call("big", "touch").expect("touch"), 0);
    eprintln!(
        "{ROUNDS} push/call/unload rounds and {bad_pushes} failed 15 MiB pushes in {took:?}: \
         resident {rss} -> {rss2} kB, address space {vm} -> {vm2} kB"
    );
}
