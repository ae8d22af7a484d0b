//! Signing and verifying real packed objects compiled by the host `cc`.

use std::path::PathBuf;
use std::vec::Vec;

use super::*;
use crate::{Kind, Policy, Refusal, TRAILER_LEN, Verdict};

fn packed_hello() -> Option<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/sign-unit");
    let o = test_support::compile_in(&dir, "cc", "hello", test_support::HELLO, &["-Os"])?;
    let raw = std::fs::read(o).unwrap();
    Some(llext_loader::pack::pack(&raw, &Default::default()).unwrap())
}

fn policy(key: &SigningKey) -> Policy {
    let keys: &'static [[u8; 32]] = Vec::leak(std::vec![key.verifying_key().to_bytes()]);
    Policy::production(keys)
}

/// Verifies `file` fed in chunks of `step` bytes.
fn check(file: &[u8], name: &str, policy: &Policy, step: usize) -> Result<Verdict, Refusal> {
    let mut v = StreamVerifier::new(name, file.len() as u32);
    file.chunks(step).for_each(|c| v.update(c));
    v.finish(policy, Kind::Push)
}

#[test]
fn a_signed_file_verifies_in_any_chunking_and_says_its_key_and_version() {
    let Some(packed) = packed_hello() else {
        return std::eprintln!("SKIPPED: no cc");
    };
    let key = generate().unwrap();
    let signed = sign(&packed, "hello", 7, &key).unwrap();
    let p = policy(&key);
    for step in [1, 3, 64, 1000, signed.len()] {
        let v = check(&signed, "hello", &p, step).unwrap();
        assert_eq!(
            v,
            Verdict::Signed {
                version: 7,
                key_id: key_id(&key.verifying_key())
            }
        );
    }
    let s = inspect(&signed).unwrap();
    assert_eq!(s.name.as_deref(), Some("hello"));
    let t = s.trailer.unwrap();
    assert_eq!((t.version, t.key_id), (7, key_id(&key.verifying_key())));
    assert_eq!(inspect(&packed), None);
    assert_eq!(
        sign(&signed, "hello", 8, &key),
        Err(EmbedError::AlreadySigned)
    );
}

#[test]
fn every_refusal_has_its_reason() {
    let Some(packed) = packed_hello() else {
        return std::eprintln!("SKIPPED: no cc");
    };
    let key = generate().unwrap();
    let other = generate().unwrap();
    let signed = sign(&packed, "hello", 1, &key).unwrap();
    let p = policy(&key);
    assert_eq!(check(&packed, "hello", &p, 100), Err(Refusal::Unsigned));
    assert_eq!(
        check(&packed, "hello", &Policy::DEVELOPMENT, 100),
        Ok(Verdict::Unsigned)
    );
    assert_eq!(check(&signed, "hullo", &p, 100), Err(Refusal::BadSignature));
    let by_other = sign(&packed, "hello", 1, &other).unwrap();
    let id = key_id(&other.verifying_key());
    assert_eq!(
        check(&by_other, "hello", &p, 100),
        Err(Refusal::UnknownKey(id))
    );
    // Signed but unknown is refused even where unsigned files are welcome.
    assert_eq!(
        check(&by_other, "hello", &Policy::DEVELOPMENT, 100),
        Err(Refusal::UnknownKey(id))
    );
    for cut in [1, 63, 64, 88] {
        let short = &signed[..signed.len() - cut];
        assert_eq!(
            check(short, "hello", &p, 100),
            Err(Refusal::BadSignature),
            "cut {cut}"
        );
    }
}

#[test]
fn any_single_bit_flip_is_refused() {
    let Some(packed) = packed_hello() else {
        return std::eprintln!("SKIPPED: no cc");
    };
    let key = generate().unwrap();
    let signed = sign(&packed, "hello", 1, &key).unwrap();
    let p = policy(&key);
    for bit in 0..signed.len() * 8 {
        let mut f = signed.clone();
        f[bit / 8] ^= 1 << (bit % 8);
        assert!(
            check(&f, "hello", &p, 512).is_err(),
            "bit {bit} flipped was accepted"
        );
    }
}

#[test]
fn keys_round_trip_through_pem_and_make_a_rust_array() {
    let key = generate().unwrap();
    let pem = private_pem(&key);
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{pem}");
    assert_eq!(read_private_pem(&pem).unwrap().to_bytes(), key.to_bytes());
    let public = public_pem(&key.verifying_key());
    assert!(
        public.starts_with("-----BEGIN PUBLIC KEY-----\n"),
        "{public}"
    );
    assert_eq!(read_public_pem(&public).unwrap(), key.verifying_key());
    assert_eq!(read_public_pem(&pem).unwrap(), key.verifying_key());
    assert!(read_private_pem(&public).is_err());
    let arr = rust_array(&key.verifying_key());
    assert!(
        arr.contains(&std::format!(
            "0x{:02x}",
            key.verifying_key().as_bytes()[31]
        )),
        "{arr}"
    );
}

/// Names of every length modulo 4 put the sections after `.strtab` at every offset modulo 4:
/// signing must leave each where packing puts it.
#[test]
fn pack_leaves_a_signed_file_alone_whatever_its_names_length() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/sign-unit");
    let key = generate().unwrap();
    for name in ["f", "fn", "fun", "func", "funct"] {
        let src = std::format!("int {name}(void) {{ return 7; }}\nconst char s[] = \"x\";\n");
        let Some(o) = test_support::compile_in(&dir, "cc", name, &src, &["-Os"]) else {
            return std::eprintln!("SKIPPED: no cc");
        };
        let packed = llext_loader::pack::pack(&std::fs::read(o).unwrap(), &Default::default());
        let signed = sign(&packed.unwrap(), name, 1, &key).unwrap();
        let again = llext_loader::pack::pack(&signed, &Default::default()).unwrap();
        assert!(again == signed, "packing `{name}` signed moved its bytes");
        let p = policy(&key);
        assert!(check(&again, name, &p, 64).is_ok());
    }
}

#[test]
fn a_signed_file_is_an_elf_that_readelf_reads_and_pack_leaves_alone() {
    let Some(packed) = packed_hello() else {
        return std::eprintln!("SKIPPED: no cc");
    };
    let key = generate().unwrap();
    let signed = sign(&packed, "hello", 1, &key).unwrap();
    // Pushing a signed file packs it again: the bytes, and so the signature, must survive.
    assert_eq!(
        llext_loader::pack::pack(&signed, &Default::default()).unwrap(),
        signed
    );
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/sign-unit");
    let path = dir.join("hello.signed.o");
    std::fs::write(&path, &signed).unwrap();
    let Ok(out) = std::process::Command::new("readelf")
        .args(["-S", "-W"])
        .arg(&path)
        .output()
    else {
        return std::eprintln!("SKIPPED: no readelf");
    };
    let text = std::string::String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && out.stderr.is_empty(), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains(".llext.sig"))
        .expect(&text);
    let want = std::format!(
        "{:06x} {:06x}",
        signed.len() - TRAILER_LEN - 6,
        TRAILER_LEN + 6
    );
    assert!(line.contains(&want), "{line}");
}

#[test]
fn random_corruptions_of_a_signed_image_never_verify() {
    let Some(packed) = packed_hello() else {
        return std::eprintln!("SKIPPED: no cc");
    };
    let key = generate().unwrap();
    let signed = sign(&packed, "hello", 1, &key).unwrap();
    let p = policy(&key);
    let mut rng = Rng(test_support::rng::Rng::new(14));
    for case in 0..3000 {
        let mut f = signed.clone();
        let what = rng.below(5);
        match what {
            // Random bytes overwritten.
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(f.len());
                    f[i] ^= 1 + rng.below(255) as u8;
                }
            }
            // Cut short.
            1 => f.truncate(rng.below(f.len())),
            // Bytes appended.
            2 => (0..1 + rng.below(100)).for_each(|_| f.push(rng.next() as u8)),
            // Bytes inserted.
            3 => {
                let at = rng.below(f.len());
                (0..1 + rng.below(16)).for_each(|_| f.insert(at, rng.next() as u8));
            }
            // A range removed.
            _ => {
                let at = rng.below(f.len());
                let n = 1 + rng.below(64).min(f.len() - at - 1);
                f.drain(at..at + n);
            }
        }
        if f == signed {
            continue;
        }
        let step = 1 + rng.below(700);
        let r = check(&f, "hello", &p, step);
        assert!(r.is_err(), "case {case} (kind {what}) verified: {r:?}");
    }
}

/// The shared seeded generator, with `usize` bounds: the same corruptions on every run.
struct Rng(test_support::rng::Rng);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn below(&mut self, n: usize) -> usize {
        self.0.below(n as u64) as usize
    }
}

#[test]
fn unsigned_pushes_and_installs_are_decided_separately() {
    let Some(packed) = packed_hello() else {
        return std::eprintln!("SKIPPED: no cc");
    };
    // A device that lets developers push into RAM but installs only signed images.
    let p = Policy {
        unsigned_pushes: true,
        ..Policy::production(&[])
    };
    let finish = |kind| {
        let mut v = StreamVerifier::new("hello", packed.len() as u32);
        v.update(&packed);
        v.finish(&p, kind)
    };
    assert_eq!(finish(Kind::Push), Ok(Verdict::Unsigned));
    assert_eq!(finish(Kind::Install), Err(Refusal::Unsigned));
    assert_eq!(finish(Kind::Boot), Err(Refusal::Unsigned));
}
