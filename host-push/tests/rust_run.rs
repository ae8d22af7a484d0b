//! `cargo run` of the extension template (`examples/rust-template`) against sim-device: the
//! runner (`host-push run`) builds the extension, pushes it in place of the running version,
//! calls its entry and shows the device log.

mod common;

use std::path::Path;
use std::process::Command;

use common::start_sim;

fn cargo_run(template: &Path, port: &str, target: &str) -> (i32, String, String) {
    let host_push = Path::new(env!("CARGO_BIN_EXE_host-push"));
    let path = std::env::join_paths(
        std::iter::once(host_push.parent().unwrap().to_path_buf()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .unwrap();
    let out = Command::new(env!("CARGO"))
        .args(["run", "--target", target])
        .current_dir(template)
        .env("PATH", path)
        .env("LLEXT_PORT", port)
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("rust-template"),
        )
        .output()
        .expect("run cargo");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cargo_run_of_the_template_pushes_replaces_and_runs_it() {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rust-template");
    let target = test_support::rust::host_target();
    let sim = start_sim("tcp:127.0.0.1:0");
    for run in 1..=2 {
        let (code, stdout, stderr) = cargo_run(&template, &sim.address, &target);
        assert_eq!(code, 0, "run {run}: {stdout}{stderr}");
        assert_eq!(stdout, "llext_main = 42\n", "run {run}: {stderr}");
        for line in [
            "pushed hello_rust to sim-device (x86_64)",
            "[device] hello-rust loaded",
            "[device] hello from Rust on sim-device, ",
            "[device] sorted: [1, 4, 9, 16]",
        ] {
            assert!(stderr.contains(line), "run {run}: no {line:?}: {stderr}");
        }
    }
}
