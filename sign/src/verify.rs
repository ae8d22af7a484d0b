//! [`StreamVerifier`]: hashes a file as it streams past and checks its signature at the end.

#[cfg(feature = "verify")]
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

#[cfg(feature = "verify")]
use crate::format::{KeyId, Trailer, message};
use crate::format::{SHT_LLEXT_SIG, SIGNATURE_LEN, TRAILER_LEN, digest_start};
use crate::policy::{Kind, Policy, Refusal, Verdict};

/// Bytes of the ELF header kept (an ELF64 header; an ELF32 one is 52).
const HEAD: usize = 64;

/// Checks one file as it streams past, holding 64 + 88 + 4 bytes of it and a SHA-256 state.
///
/// A file claims a signature when the type of its last section header is [`SHT_LLEXT_SIG`];
/// the header table comes first in stream order, so that is known long before the end, and a
/// signature cut short or damaged is refused rather than taken for no signature.
#[derive(Clone)]
pub struct StreamVerifier {
    hash: Sha256,
    total: u32,
    pos: u32,
    head: [u8; HEAD],
    /// File offset of the last section header's `sh_type`, once the ELF header is in.
    marker_at: Option<u64>,
    marker: [u8; 4],
    tail: [u8; TRAILER_LEN],
}

/// Copies the part of `chunk` (at file offset `at`) that falls in `dst` (at file offset `to`).
fn overlap(dst: &mut [u8], to: u64, chunk: &[u8], at: u64) {
    let start = to.max(at);
    let end = (to + dst.len() as u64).min(at + chunk.len() as u64);
    if start < end {
        let (s, e) = ((start - at) as usize, (end - at) as usize);
        let d = (start - to) as usize;
        dst[d..d + (e - s)].copy_from_slice(&chunk[s..e]);
    }
}

/// The file offset of the last section header's `sh_type` of a little-endian ELF header.
fn marker_offset(h: &[u8; HEAD]) -> Option<u64> {
    let u16at = |i: usize| u16::from_le_bytes([h[i], h[i + 1]]) as u64;
    let u32at = |i: usize| u32::from_le_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]) as u64;
    if h[..4] != *b"\x7fELF" || h[5] != 1 {
        return None;
    }
    let (shoff, entsize, num) = match h[4] {
        1 => (u32at(0x20), u16at(0x2e), u16at(0x30)),
        2 => (u32at(0x28) | u32at(0x2c) << 32, u16at(0x3a), u16at(0x3c)),
        _ => return None,
    };
    let last = num.checked_sub(1)?;
    shoff.checked_add(last * entsize)?.checked_add(4)
}

impl StreamVerifier {
    /// Starts checking a file of `total` bytes pushed or installed as `name`.
    pub fn new(name: &str, total: u32) -> Self {
        Self {
            // Without a signature check the hash would never be read (nor SHA-256 linked in).
            hash: match cfg!(feature = "verify") {
                true => digest_start(name),
                false => Sha256::new(),
            },
            total,
            pos: 0,
            head: [0; HEAD],
            marker_at: None,
            marker: [0; 4],
            tail: [0; TRAILER_LEN],
        }
    }

    /// Takes the next bytes of the file, in order.
    pub fn update(&mut self, bytes: &[u8]) {
        let at = self.pos as u64;
        let bytes = &bytes[..bytes.len().min((self.total - self.pos) as usize)];
        let signed_end = (self.total as u64).saturating_sub(SIGNATURE_LEN as u64);
        let hashed = signed_end.saturating_sub(at).min(bytes.len() as u64) as usize;
        // Without a signature check the hash would never be read.
        if cfg!(feature = "verify") {
            self.hash.update(&bytes[..hashed]);
        }
        overlap(&mut self.head, 0, bytes, at);
        let end = at + bytes.len() as u64;
        if self.marker_at.is_none() && end >= HEAD as u64 {
            self.marker_at = marker_offset(&self.head);
            if let Some(m) = self.marker_at {
                overlap(&mut self.marker, m, &self.head, 0);
            }
        }
        if let Some(m) = self.marker_at {
            overlap(&mut self.marker, m, bytes, at);
        }
        let tail_at = (self.total as u64).saturating_sub(TRAILER_LEN as u64);
        overlap(&mut self.tail, tail_at, bytes, at);
        self.pos = end as u32;
    }

    /// Bytes taken so far.
    pub fn position(&self) -> u32 {
        self.pos
    }

    /// Whether the file says it is signed (known once its section header table went past).
    pub fn claims_signature(&self) -> bool {
        self.marker_at.is_some() && u32::from_le_bytes(self.marker) == SHT_LLEXT_SIG
    }

    /// Checks the signature against `policy`'s keys once every byte went past: a file
    /// without one is [`Verdict::Unsigned`] where the policy accepts that for `kind`.
    ///
    /// Without the `verify` feature no signature is checked: a file is taken as unsigned where
    /// the policy accepts that, and a signed one is otherwise [`Refusal::NoVerifier`].
    pub fn finish(self, policy: &Policy, kind: Kind) -> Result<Verdict, Refusal> {
        let signed = self.claims_signature();
        if !cfg!(feature = "verify") || !signed {
            return unchecked(signed, policy.accepts_unsigned(kind));
        }
        self.check(policy)
    }

    #[cfg(not(feature = "verify"))]
    fn check(self, _: &Policy) -> Result<Verdict, Refusal> {
        Err(Refusal::NoVerifier)
    }

    #[cfg(feature = "verify")]
    fn check(self, policy: &Policy) -> Result<Verdict, Refusal> {
        let trailer = match self.pos == self.total && self.total as usize >= TRAILER_LEN {
            true => Trailer::parse(&self.tail).ok_or(Refusal::BadSignature)?,
            false => return Err(Refusal::BadSignature),
        };
        let id = trailer.key_id;
        let key = policy.key(id).ok_or(Refusal::UnknownKey(id))?;
        let key = VerifyingKey::from_bytes(key).map_err(|_| Refusal::UnknownKey(id))?;
        let digest: [u8; 32] = self.hash.finalize().into();
        let sig = Signature::from_bytes(&trailer.signature);
        key.verify_strict(&message(&digest), &sig)
            .map_err(|_| Refusal::BadSignature)?;
        Ok(Verdict::Signed {
            version: trailer.version,
            key_id: KeyId::of(key.as_bytes()),
        })
    }
}

/// The verdict on a file whose signature is not checked: unsigned, or signed on a build without
/// the verifier.
fn unchecked(signed: bool, accepts_unsigned: bool) -> Result<Verdict, Refusal> {
    match (accepts_unsigned, signed) {
        (true, _) => Ok(Verdict::Unsigned),
        (false, true) => Err(Refusal::NoVerifier),
        (false, false) => Err(Refusal::Unsigned),
    }
}

#[cfg(test)]
mod unchecked_tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn a_signed_file_on_a_build_without_the_verifier_is_refused_as_such() {
        assert_eq!(unchecked(true, false), Err(Refusal::NoVerifier));
        assert_eq!(unchecked(false, false), Err(Refusal::Unsigned));
        assert_eq!(unchecked(true, true), Ok(Verdict::Unsigned));
        assert!(
            Refusal::NoVerifier
                .to_string()
                .contains("without the signature verifier")
        );
    }
}
