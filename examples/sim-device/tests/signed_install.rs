//! Signed installs against the real `sim-device --flash --trust --require-signed`: a signed
//! install loads at boot; unsigned, untrusted, damaged and older signed versions are refused
//! and the installed version stays; a power cut during a signed install leaves the old version.

mod common;

use common::{build, flash_file, start, table_extension};
use llext_sign::host::{self, PrivateKey};
use llext_transports::client::{Client, InstallOptions};
use llext_transports::protocol::ErrorCode;

fn key_file(test: &str, key: &PrivateKey) -> String {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("{test}-{}.pub.pem", std::process::id()));
    std::fs::write(&path, host::public_pem(&key.verifying_key())).unwrap();
    path.to_str().unwrap().to_string()
}

fn install(c: &mut Client, name: &str, file: &[u8], version: u32) -> Result<u32, ErrorCode> {
    let opts = InstallOptions {
        boot: true,
        version: Some(version),
        xip: false,
    };
    c.install(name, file, opts, |_| {})
        .map(|i| i.version)
        .map_err(|e| e.code().unwrap_or_else(|| panic!("no device code: {e}")))
}

/// The active version of `name` in flash.
fn active(c: &mut Client, name: &str) -> u32 {
    let l = c.list().unwrap();
    let e = l
        .extensions
        .iter()
        .find(|e| e.name == name)
        .expect("installed");
    e.stored.as_ref().expect("in flash").active.version
}

#[test]
fn signed_installs_are_checked_before_the_catalog_switches() {
    let key = host::generate().unwrap();
    let other = host::generate().unwrap();
    let flash = flash_file("signed-install");
    let flash = flash.to_str().unwrap();
    let public = key_file("signed-install", &key);
    let args = ["--flash", flash, "--trust", &public, "--require-signed"];
    let (src, value) = table_extension(64);
    let packed = build("tab", &src);
    let dev = start(&args);
    let mut c = Client::connect(&dev.address).unwrap();
    let v2 = host::sign(&packed, "tab", 2, &key).unwrap();
    assert_eq!(install(&mut c, "tab", &v2, 2), Ok(2));

    assert_eq!(install(&mut c, "tab", &packed, 3), Err(ErrorCode::Unsigned));
    let untrusted = host::sign(&packed, "tab", 3, &other).unwrap();
    assert_eq!(
        install(&mut c, "tab", &untrusted, 3),
        Err(ErrorCode::UnknownKey)
    );
    let v1 = host::sign(&packed, "tab", 1, &key).unwrap();
    assert_eq!(install(&mut c, "tab", &v1, 1), Err(ErrorCode::Rollback));
    let mut damaged = host::sign(&packed, "tab", 3, &key).unwrap();
    damaged[200] ^= 4;
    assert_eq!(
        install(&mut c, "tab", &damaged, 3),
        Err(ErrorCode::BadSignature)
    );
    // Signed as 3, sent as 4: the catalog would record a version nobody signed.
    let v3 = host::sign(&packed, "tab", 3, &key).unwrap();
    assert_eq!(install(&mut c, "tab", &v3, 4), Err(ErrorCode::BadSignature));
    assert_eq!(
        active(&mut c, "tab"),
        2,
        "a refused install changed the catalog"
    );
    let l = c.list().unwrap();
    assert!(l.interrupted.is_none(), "a refused install left its record");
    assert_eq!(l.free_slots, l.slots - 1, "a refused install kept its slot");
    drop(c);
    drop(dev);

    // Boot checks again and runs it.
    let dev = start(&args);
    let mut c = Client::connect(&dev.address).unwrap();
    assert_eq!(c.call("tab", "check").unwrap(), value);
}

#[test]
fn a_power_cut_during_a_signed_install_leaves_the_old_version() {
    let key = host::generate().unwrap();
    let flash = flash_file("signed-cut");
    let flash = flash.to_str().unwrap();
    let public = key_file("signed-cut", &key);
    let args = ["--flash", flash, "--trust", &public, "--require-signed"];
    let (src1, value1) = table_extension(64);
    let (src2, _) = table_extension(30_000);
    let v1 = host::sign(&build("tab", &src1), "tab", 1, &key).unwrap();
    let v2 = host::sign(&build("tab2", &src2), "tab", 2, &key).unwrap();
    let dev = start(&args);
    let mut c = Client::connect(&dev.address).unwrap();
    assert_eq!(install(&mut c, "tab", &v1, 1), Ok(1));
    let pid = dev.pid() as i32;
    let opts = InstallOptions {
        boot: true,
        version: Some(2),
        xip: false,
    };
    let half = v2.len() as u64 / 2;
    let cut = c.install("tab", &v2, opts, |p| {
        if p.acked >= half {
            // SAFETY: kill(2) on the child process this test started.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    assert!(cut.is_err(), "the install finished before the cut");
    drop(c);
    drop(dev);
    let dev = start(&args);
    let mut c = Client::connect(&dev.address).unwrap();
    assert_eq!(active(&mut c, "tab"), 1);
    assert_eq!(c.call("tab", "check").unwrap(), value1);
}

#[test]
fn boot_checks_signatures_again_and_rolls_back_what_it_no_longer_trusts() {
    let old_key = host::generate().unwrap();
    let new_key = host::generate().unwrap();
    let flash = flash_file("signed-boot");
    let flash = flash.to_str().unwrap();
    let old_pub = key_file("signed-boot-old", &old_key);
    let new_pub = key_file("signed-boot-new", &new_key);
    let (src1, value1) = table_extension(64);
    let (src2, value2) = table_extension(65);
    let v1 = host::sign(&build("tab", &src1), "tab", 1, &old_key).unwrap();
    let v2 = host::sign(&build("tab2", &src2), "tab", 2, &new_key).unwrap();
    let both = [
        "--flash",
        flash,
        "--trust",
        &old_pub,
        "--trust",
        &new_pub,
        "--require-signed",
    ];
    {
        let dev = start(&both);
        let mut c = Client::connect(&dev.address).unwrap();
        assert_eq!(install(&mut c, "tab", &v1, 1), Ok(1));
    }
    {
        // v1 confirmed at this boot; then v2 goes in, pending.
        let dev = start(&both);
        let mut c = Client::connect(&dev.address).unwrap();
        assert_eq!(c.call("tab", "check").unwrap(), value1);
        assert_eq!(install(&mut c, "tab", &v2, 2), Ok(2));
    }
    // The new key no longer trusted, without the boot check: v2 loads as installed.
    let old_only = ["--flash", flash, "--trust", &old_pub, "--require-signed"];
    let mut unchecked = old_only.to_vec();
    unchecked.push("--no-boot-verify");
    {
        let dev = start(&unchecked);
        let mut c = Client::connect(&dev.address).unwrap();
        assert_eq!(c.call("tab", "check").unwrap(), value2);
        c.rollback("tab").unwrap();
        assert_eq!(install(&mut c, "tab", &v2, 2), Err(ErrorCode::UnknownKey));
    }
    // Put v2 back (trusted again), then boot with the check: refused, rolled back to v1.
    {
        let dev = start(&both);
        let mut c = Client::connect(&dev.address).unwrap();
        let _ = install(&mut c, "tab", &v2, 2);
    }
    let dev = start(&old_only);
    let mut c = Client::connect(&dev.address).unwrap();
    assert_eq!(c.call("tab", "check").unwrap(), value1);
    let l = c.list().unwrap();
    let why = format!("{:?}", l.boot_report);
    assert!(
        why.contains("signature refused") && why.contains("does not trust"),
        "{why}"
    );
    assert_eq!(active(&mut c, "tab"), 1);
}
