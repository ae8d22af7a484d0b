//! Signed pushes against the real `sim-device` with `--trust` and `--require-signed`: a signed
//! extension runs; unsigned, untrusted, damaged, cut short or renamed ones are refused with
//! their code before any of their code runs, and every byte of memory comes back.

mod common;

use std::sync::{Arc, Mutex};

use common::{build, start};
use llext_sign::host::{self, PrivateKey};
use llext_transports::client::Client;
use llext_transports::protocol::ErrorCode;

/// Prints from its constructor: a refused extension must never print.
const MARKED: &str = r#"
int puts(const char *);
__attribute__((constructor)) static void init(void) { puts("constructor ran"); }
int marked_main(void) { return 4242; }
"#;

struct Keys {
    key: PrivateKey,
    other: PrivateKey,
    dir: std::path::PathBuf,
}

fn keys(test: &str) -> Keys {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("signed-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = host::generate().unwrap();
    std::fs::write(dir.join("pub.pem"), host::public_pem(&key.verifying_key())).unwrap();
    let other = host::generate().unwrap();
    Keys { key, other, dir }
}

fn connect(address: &str) -> (Client, Arc<Mutex<Vec<String>>>) {
    let mut c = Client::connect(address).expect("connect");
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l = lines.clone();
    c.set_log_handler(move |s| l.lock().unwrap().push(s.to_string()));
    (c, lines)
}

fn refused(c: &mut Client, name: &str, file: &[u8]) -> ErrorCode {
    let e = c.push(name, file, |_| {}).expect_err("must be refused");
    e.code().unwrap_or_else(|| panic!("no device code: {e}"))
}

#[test]
fn a_production_device_runs_only_what_a_trusted_key_signed() {
    let k = keys("production");
    let public = k.dir.join("pub.pem");
    let dev = start(&["--trust", public.to_str().unwrap(), "--require-signed"]);
    let (mut c, lines) = connect(&dev.address);
    let baseline = c.status().unwrap().used_memory;
    let packed = build("marked", MARKED);
    let signed = host::sign(&packed, "marked", 1, &k.key).unwrap();

    assert_eq!(refused(&mut c, "marked", &packed), ErrorCode::Unsigned);
    let untrusted = host::sign(&packed, "marked", 1, &k.other).unwrap();
    assert_eq!(refused(&mut c, "marked", &untrusted), ErrorCode::UnknownKey);
    assert_eq!(refused(&mut c, "renamed", &signed), ErrorCode::BadSignature);
    for cut in [1, 32, 64, 88] {
        let short = &signed[..signed.len() - cut];
        assert_eq!(
            refused(&mut c, "marked", short),
            ErrorCode::BadSignature,
            "cut {cut}"
        );
    }
    // Single bit flips across the file, the signature included (every bit: the unit tests).
    for i in 0..97 {
        let bit = i * (signed.len() * 8 - 1) / 96;
        let mut f = signed.clone();
        f[bit / 8] ^= 1 << (bit % 8);
        c.push("marked", &f, |_| {})
            .expect_err(&format!("bit {bit} flipped was accepted"));
    }
    let st = c.status().unwrap();
    assert!(st.extensions.is_empty());
    assert_eq!(st.used_memory, baseline, "a refused push kept memory");
    assert!(
        !lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("constructor ran"))
    );

    c.push("marked", &signed, |_| {})
        .expect("the signed push loads");
    assert_eq!(c.call("marked", "marked_main").unwrap(), 4242);
    assert!(
        lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains("constructor ran"))
    );
    let t = c.status().unwrap().trust;
    assert!(!t.unsigned_pushes && !t.unsigned_installs && t.verify_at_boot);
    assert_eq!(
        t.key_ids,
        [host::key_id(&k.key.verifying_key()).to_string()]
    );
}

#[test]
fn a_development_device_takes_unsigned_extensions_but_never_untrusted_signatures() {
    let k = keys("development");
    let public = k.dir.join("pub.pem");
    let dev = start(&["--trust", public.to_str().unwrap()]);
    let (mut c, _) = connect(&dev.address);
    let packed = build("marked", MARKED);
    c.push("plain", &packed, |_| {})
        .expect("unsigned is fine here");
    let untrusted = host::sign(&packed, "marked", 1, &k.other).unwrap();
    assert_eq!(refused(&mut c, "marked", &untrusted), ErrorCode::UnknownKey);
    let signed = host::sign(&packed, "marked", 1, &k.key).unwrap();
    let mut bad = signed.clone();
    *bad.last_mut().unwrap() ^= 0x80;
    assert_eq!(refused(&mut c, "marked", &bad), ErrorCode::BadSignature);
    c.push("marked", &signed, |_| {}).expect("signed");
    assert!(c.status().unwrap().trust.unsigned_pushes);
}
