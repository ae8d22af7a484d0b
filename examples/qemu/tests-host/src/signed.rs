//! Signed extensions on the QEMU firmwares, which trust the fixed test key
//! `test-support/keys/qemu-test.pem` (and still take unsigned pushes: the development policy).
//! A signed push runs; one signed by another key, with a bit flipped, cut short or renamed is
//! refused with its code before any of its code runs, and the pool returns to its baseline. On
//! riscv32-virt's flash: a signed install, an older or damaged one refused, boot checks again.

use llext_sign::host::{self, PrivateKey};
use llext_transports::client::InstallOptions;
use llext_transports::protocol::ErrorCode;

use crate::{Board, Device, Qemu, corpus_ext};

/// The key the QEMU firmwares trust.
pub fn test_key() -> PrivateKey {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../test-support/keys/qemu-test.pem"
    );
    host::read_private_pem(&std::fs::read_to_string(path).expect("the test key")).expect("PEM")
}

fn refused(d: &mut Device, name: &str, image: &[u8]) -> ErrorCode {
    let e = d
        .client
        .push(name, image, |_| {})
        .expect_err("must be refused");
    e.code().unwrap_or_else(|| panic!("no device code: {e}"))
}

/// Signed pushes and every refusal, on `board`.
pub fn signed_pushes(board: Board) {
    let q = Qemu::start(board, &[]);
    let mut d = q.connect();
    let baseline = d.used();
    let key = test_key();
    let packed = corpus_ext(board, "calls");
    let signed = host::sign(&packed, "fib", 1, &key).unwrap();
    let trust = d.client.status().unwrap().trust;
    assert_eq!(
        trust.key_ids,
        [host::key_id(&key.verifying_key()).to_string()]
    );

    let untrusted = host::sign(&packed, "fib", 1, &host::generate().unwrap()).unwrap();
    assert_eq!(refused(&mut d, "fib", &untrusted), ErrorCode::UnknownKey);
    assert_eq!(refused(&mut d, "other", &signed), ErrorCode::BadSignature);
    let short = &signed[..signed.len() - 10];
    assert_eq!(refused(&mut d, "fib", short), ErrorCode::BadSignature);
    for i in 0..13 {
        let bit = i * (signed.len() * 8 - 1) / 12;
        let mut f = signed.clone();
        f[bit / 8] ^= 1 << (bit % 8);
        let r = d.client.push("fib", &f, |_| {});
        assert!(r.is_err(), "bit {bit} flipped was accepted");
    }
    assert_eq!(d.used(), baseline, "a refused push kept memory");
    assert!(d.client.status().unwrap().extensions.is_empty());

    d.push("fib", &signed);
    assert_eq!(d.call("fib", "calls_fib20"), 6765);
}

fn install(d: &mut Device, file: &[u8], version: u32) -> Result<u32, ErrorCode> {
    let opts = InstallOptions {
        boot: true,
        version: Some(version),
        xip: false,
    };
    d.client
        .install("fib", file, opts, |_| {})
        .map(|i| i.version)
        .map_err(|e| e.code().unwrap_or_else(|| panic!("no device code: {e}")))
}

/// Signed installs into the board's flash, checked again at boot.
pub fn signed_installs(board: Board) {
    let dir = std::env::temp_dir().join("llext-qemu-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let flash = dir.join(format!(
        "flash-signed-{}-{}.img",
        board.name(),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&flash);
    let flash_arg = flash.to_str().expect("utf-8");
    let key = test_key();
    let packed = corpus_ext(board, "calls");
    {
        let q = Qemu::start(board, &["--flash", flash_arg]);
        let mut d = q.connect();
        let v2 = host::sign(&packed, "fib", 2, &key).unwrap();
        assert_eq!(install(&mut d, &v2, 2), Ok(2));
        let v1 = host::sign(&packed, "fib", 1, &key).unwrap();
        assert_eq!(install(&mut d, &v1, 1), Err(ErrorCode::Rollback));
        let mut v3 = host::sign(&packed, "fib", 3, &key).unwrap();
        v3[100] ^= 1;
        assert_eq!(install(&mut d, &v3, 3), Err(ErrorCode::BadSignature));
        let other = host::sign(&packed, "fib", 3, &host::generate().unwrap()).unwrap();
        assert_eq!(install(&mut d, &other, 3), Err(ErrorCode::UnknownKey));
    }
    let q = Qemu::start(board, &["--flash", flash_arg]);
    let mut d = q.connect();
    assert_eq!(d.call("fib", "calls_fib20"), 6765);
    let l = d.client.list().unwrap();
    let e = l
        .extensions
        .iter()
        .find(|e| e.name == "fib")
        .expect("installed");
    assert_eq!(e.stored.as_ref().unwrap().active.version, 2);
    drop(q);
    let _ = std::fs::remove_file(&flash);
}
