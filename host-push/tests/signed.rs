//! Signed extensions with the real binaries: keys made by MCUboot's `imgtool` (from PyPI) and by
//! `host-push keygen` sign extensions that `sim-device --trust PUB.pem --require-signed` runs;
//! `check` and `status` say which keys; unsigned and untrusted pushes exit 4 with their code.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{HELLO, SimDevice, compile, host_push, sim_device_bin};

/// `imgtool`: `$IMGTOOL`, the repository's `.venv` (what `.ci/run` installs), or on `PATH`.
/// CI must have it; elsewhere its absence skips the test, loudly.
fn imgtool() -> Option<PathBuf> {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/imgtool");
    let candidates = [
        std::env::var_os("IMGTOOL").map(PathBuf::from),
        Some(venv),
        Some("imgtool".into()),
    ];
    let found = candidates.into_iter().flatten().find(|p| {
        Command::new(p)
            .arg("--help")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "imgtool is missing: .ci/run installs it in .venv"
        );
        eprintln!(
            "SKIPPED: imgtool not installed (python3 -m venv .venv && .venv/bin/pip install imgtool)"
        );
    }
    found
}

fn scratch(test: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("signed-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn an_imgtool_key_signs_an_extension_the_device_runs() {
    let Some(imgtool) = imgtool() else { return };
    let dir = scratch("imgtool");
    let (key, public) = (dir.join("key.pem"), dir.join("pub.pem"));
    let out = Command::new(&imgtool)
        .args(["keygen", "-t", "ed25519", "-k", s(&key)])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "imgtool keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(&imgtool)
        .args(["getpub", "-k", s(&key), "-e", "pem"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "imgtool getpub: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&public, &out.stdout).unwrap();

    let dev = SimDevice::start(
        sim_device_bin(),
        &["--trust", s(&public), "--require-signed"],
    );
    let port = dev.address.as_str();
    let hello = compile("hello", HELLO);
    let signed = dir.join("hello.signed.o");
    let r = host_push(&[
        "sign",
        &hello,
        "--key",
        s(&key),
        "--version",
        "2",
        "-o",
        s(&signed),
    ]);
    assert_eq!(r.code, 0, "{r}");
    let r = host_push(&["check", s(&signed), "--port", port, "--json"]);
    assert_eq!(r.code, 0, "{r}");
    let id = r.json()["signature"]["key_id"]
        .as_str()
        .expect("signed")
        .to_string();
    assert_eq!(r.json()["signature"]["version"], 2, "{r}");
    let r = host_push(&["status", "--port", port, "--json"]);
    assert_eq!(
        r.json()["trust"]["key_ids"][0].as_str(),
        Some(id.as_str()),
        "{r}"
    );

    // The signed file keeps the name it was signed for.
    let r = host_push(&[s(&signed), "--port", port, "--call", "hello_main"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "hello_main = 112\n"),
        "{r}"
    );
    let r = host_push(&[
        &hello,
        "--port",
        port,
        "--name",
        "fly",
        "--sign",
        s(&key),
        "--call",
        "hello_main",
    ]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "hello_main = 112\n"),
        "{r}"
    );
    let r = host_push(&[&hello, "--port", port, "--name", "plain"]);
    assert_eq!(r.code, 4, "{r}");
    assert!(r.stderr.contains("[unsigned]"), "{r}");
}

#[test]
fn keygen_writes_keys_that_sign_and_check_says_who_signed() {
    let dir = scratch("keygen");
    let (key, public) = (dir.join("k.pem"), dir.join("k.pub"));
    let r = host_push(&["keygen", "-o", s(&key), "--public", s(&public)]);
    assert_eq!(r.code, 0, "{r}");
    assert!(r.stdout.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{r}");
    assert!(
        r.stdout.contains("pub const PUBLIC_KEY: [u8; 32] = ["),
        "{r}"
    );
    let id = r
        .stderr
        .split("key id ")
        .nth(1)
        .expect("key id")
        .get(..16)
        .unwrap()
        .to_string();
    // Never overwritten.
    let again = host_push(&["keygen", "-o", s(&key)]);
    assert_eq!(again.code, 1, "{again}");
    let other = dir.join("other.pem");
    assert_eq!(host_push(&["keygen", "-o", s(&other)]).code, 0);

    let dev = SimDevice::start(sim_device_bin(), &["--trust", s(&public)]);
    let port = dev.address.as_str();
    let hello = compile("hello", HELLO);
    let signed = dir.join("hello.signed.o");
    assert_eq!(
        host_push(&["sign", &hello, "--key", s(&key), "-o", s(&signed)]).code,
        0
    );
    let exports = dir.join("exports.txt");
    std::fs::write(&exports, "puts 0x1000\nsnprintf 0x1004\nstrlen 0x1008\n").unwrap();
    let r = host_push(&["check", s(&signed), "--exports", s(&exports)]);
    assert!(
        r.stdout
            .contains(&format!("signed by key {id} as `hello` version 1")),
        "{r}"
    );
    let r = host_push(&["check", &hello, "--exports", s(&exports)]);
    assert!(r.stdout.contains("not signed"), "{r}");
    let r = host_push(&[
        &hello,
        "--port",
        port,
        "--name",
        "other",
        "--sign",
        s(&other),
    ]);
    assert_eq!(r.code, 4, "{r}");
    assert!(r.stderr.contains("[unknown-key]"), "{r}");
    // Development: unsigned is fine, signed by the trusted key too.
    assert_eq!(
        host_push(&[&hello, "--port", port, "--name", "plain"]).code,
        0
    );
    assert_eq!(host_push(&[s(&signed), "--port", port]).code, 0);
    let r = host_push(&["status", "--port", port]);
    assert!(r.stdout.contains(&format!("signatures: unsigned pushes accepted, unsigned installs accepted, older versions refused, checked at boot; trusted keys: 1 ({id})")), "{r}");
}
