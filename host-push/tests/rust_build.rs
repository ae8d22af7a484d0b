//! `host-push build`: a Rust extension crate (no SDK) built at test time into one object that
//! runs on sim-device, and, for every embedded target installed, an object whose compiler
//! builtins are inside it (only the firmware's `puts` is left to resolve).

mod common;

use std::path::PathBuf;

use common::{host_push, start_sim};
use test_support::rust;

fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rust-ext")
}

fn build(name: &str, target: Option<&str>) -> Option<PathBuf> {
    rust::build(
        std::path::Path::new(env!("CARGO_BIN_EXE_host-push")),
        &target_dir(),
        name,
        target,
    )
}

#[test]
fn a_plain_rust_crate_runs_on_sim_device() {
    let obj = build("plain", None).expect("the host target is always installed");
    let sim = start_sim("tcp:127.0.0.1:0");
    let obj = obj.to_str().unwrap();
    let run = host_push(&[obj, "--port", &sim.address, "--call", "plain_main"]);
    assert_eq!(run.code, 0, "{run}");
    assert_eq!(run.stdout, "plain_main = 10\n", "{run}");
    assert!(
        run.stderr
            .contains("[device] sorted [1, 3, 5, 7, 9], call 1, 1428571428"),
        "{run}"
    );
    let again = host_push(&["call", "plain", "plain_main", "--port", &sim.address]);
    assert!(again.stderr.contains("call 2, 714285714"), "{again}");
}

const EMBEDDED: [&str; 6] = [
    "thumbv6m-none-eabi",
    "thumbv7m-none-eabi",
    "thumbv7em-none-eabihf",
    "thumbv8m.main-none-eabi",
    "riscv32imac-unknown-none-elf",
    "riscv32imc-unknown-none-elf",
];

#[test]
fn embedded_objects_carry_their_compiler_builtins() {
    let exports = target_dir().join("puts-only.exports");
    std::fs::create_dir_all(target_dir()).unwrap();
    std::fs::write(&exports, "puts 0x1001\n").unwrap();
    let host_push_bin = std::path::Path::new(env!("CARGO_BIN_EXE_host-push"));
    for target in EMBEDDED {
        let Some(obj) = build("plain", Some(target)) else {
            continue;
        };
        let check = host_push(&[
            "check",
            obj.to_str().unwrap(),
            "--exports",
            exports.to_str().unwrap(),
        ]);
        assert_eq!(
            check.code, 0,
            "{target}: only `puts` may be left to the firmware: {check}"
        );
        let out = rust::build_output(host_push_bin, &target_dir(), "plain", Some(target), true);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
        assert_eq!(json["object"], obj.to_str().unwrap());
        let builtins = json["builtins"].as_array().unwrap();
        // 64-bit division is a call into compiler_builtins on every 32-bit target.
        let division = ["__aeabi_uldivmod", "__udivdi3"];
        assert!(
            builtins.iter().any(|b| division.iter().any(|d| b == d)),
            "{target}: {json}"
        );
        assert!(
            json["dropped_bytes"].as_u64().unwrap() > 0,
            "{target}: {json}"
        );
    }
}

#[test]
fn a_crate_that_does_not_compile_is_reported_with_the_compiler_message() {
    let dir = target_dir().join("broken");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"broken\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
         [lib]\ncrate-type = [\"staticlib\"]\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        "#![no_std]\n#[unsafe(no_mangle)]\npub extern \"C\" fn f() -> i32 { \"no\" }\n\
         #[panic_handler]\nfn p(_: &core::panic::PanicInfo) -> ! { loop {} }\n",
    )
    .unwrap();
    let manifest = dir.join("Cargo.toml");
    let run = host_push(&["build", "--manifest-path", manifest.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("mismatched types"), "{run}");
    assert!(
        run.stderr.contains("cargo could not build the crate"),
        "{run}"
    );
    assert!(run.stdout.is_empty(), "no path printed: {run}");
}
