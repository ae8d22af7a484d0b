//! The host side: Ed25519 keys in PEM files, and signing packed extensions.
//!
//! Private keys are PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), the format MCUboot's `imgtool
//! keygen -t ed25519` writes, so keys made by either tool work in both. Public keys are SPKI
//! PEM (`-----BEGIN PUBLIC KEY-----`, `imgtool getpub -e pem`).

mod embed;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, KeypairBytes,
};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

use crate::format::{KeyId, SIGNATURE_LEN, TRAILER_LEN, Trailer, digest_start, message};
use crate::verify::StreamVerifier;

pub use ed25519_dalek::{SigningKey as PrivateKey, VerifyingKey as PublicKey};
pub use embed::{EmbedError, embed_section, signature_section};

/// A key file could not be read.
#[derive(Debug)]
pub struct KeyError(String);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

/// A new private key from the operating system's random source.
pub fn generate() -> Result<SigningKey, KeyError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| KeyError(format!("no random numbers: {e}")))?;
    Ok(SigningKey::from_bytes(&seed))
}

/// `key` as PKCS#8 PEM, without the public key (PKCS#8 v1), byte for byte as `imgtool` writes.
pub fn private_pem(key: &SigningKey) -> String {
    let pair = KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    };
    pair.to_pkcs8_pem(LineEnding::LF)
        .expect("a 32-byte key encodes")
        .as_str()
        .into()
}

/// `key` as SPKI PEM.
pub fn public_pem(key: &VerifyingKey) -> String {
    key.to_public_key_pem(LineEnding::LF)
        .expect("a 32-byte key encodes")
}

/// `key` as a Rust constant for a firmware's trusted keys.
pub fn rust_array(key: &VerifyingKey) -> String {
    let mut s = format!(
        "// key id {}\npub const PUBLIC_KEY: [u8; 32] = [",
        key_id(key)
    );
    for (i, b) in key.as_bytes().iter().enumerate() {
        let sep = match i {
            0 => "\n    ",
            _ if i % 8 == 0 => ",\n    ",
            _ => ", ",
        };
        s += &format!("{sep}0x{b:02x}");
    }
    s + ",\n];\n"
}

/// The id of `key`.
pub fn key_id(key: &VerifyingKey) -> KeyId {
    KeyId::of(key.as_bytes())
}

/// Reads a private key from PKCS#8 PEM (`imgtool keygen -t ed25519` or `host-push keygen`).
pub fn read_private_pem(text: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pkcs8_pem(text).map_err(|e| {
        KeyError(format!(
            "not an unencrypted Ed25519 private key in PKCS#8 PEM ({e}); make one with `host-push keygen -o KEY.pem` or `imgtool keygen -t ed25519 -k KEY.pem`"
        ))
    })
}

/// Reads a public key from SPKI PEM, or takes the public half of a private key PEM.
pub fn read_public_pem(text: &str) -> Result<VerifyingKey, KeyError> {
    if let Ok(k) = VerifyingKey::from_public_key_pem(text) {
        return Ok(k);
    }
    read_private_pem(text)
        .map(|k| k.verifying_key())
        .map_err(|_| {
            KeyError(
                "not an Ed25519 public key in PEM (`host-push keygen --public PUB.pem` or `imgtool getpub -e pem` writes one)".into(),
            )
        })
}

/// Signs the packed extension `packed` as `name`, version `version`: adds the `.llext.sig`
/// section last and fills it with the name (NUL-terminated, for tools: the device takes the
/// name it is given and the signature fails under another) and the trailer. `packed` must be
/// in stream order (`llext_loader::pack`).
pub fn sign(
    packed: &[u8],
    name: &str,
    version: u32,
    key: &SigningKey,
) -> Result<Vec<u8>, EmbedError> {
    let prefix = [name.as_bytes(), b"\0"].concat();
    let mut file = embed_section(packed, &prefix)?;
    let n = file.len();
    let trailer = Trailer {
        version,
        key_id: key_id(&key.verifying_key()),
        signature: [0; SIGNATURE_LEN],
    };
    file[n - TRAILER_LEN..].copy_from_slice(&trailer.to_bytes());
    let mut h = digest_start(name);
    sha2::Digest::update(&mut h, &file[..n - SIGNATURE_LEN]);
    let digest: [u8; 32] = sha2::Digest::finalize(h).into();
    let sig = key.sign(&message(&digest));
    file[n - SIGNATURE_LEN..].copy_from_slice(&sig.to_bytes());
    Ok(file)
}

/// What a signed file says about its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The name it was signed for, if the section holds one.
    pub name: Option<String>,
    /// The trailer; `None` when damaged or cut short.
    pub trailer: Option<Trailer>,
}

/// The signature of `file` as its section says (`None`: not signed). Nothing is verified.
pub fn inspect(file: &[u8]) -> Option<Signed> {
    let mut v = StreamVerifier::new("", file.len() as u32);
    v.update(file);
    if !v.claims_signature() {
        return None;
    }
    let trailer = Trailer::parse(&file[file.len().saturating_sub(TRAILER_LEN)..]);
    let name = signature_section(file).and_then(|s| {
        let prefix = s.get(..s.len().checked_sub(TRAILER_LEN)?)?;
        let n = prefix.strip_suffix(b"\0")?;
        core::str::from_utf8(n).ok().map(String::from)
    });
    Some(Signed { name, trailer })
}

#[cfg(test)]
mod tests;
