//! The signature trailer and what is signed.

use core::fmt;

use sha2::{Digest, Sha256};

/// Name of the signature section.
pub const SECTION: &str = ".llext.sig";
/// `sh_type` of the signature section (in the `SHT_LOUSER..SHT_HIUSER` range, which tools show
/// as `LOUSER+0xc5e5167` and otherwise ignore).
pub const SHT_LLEXT_SIG: u32 = 0x8c5e_5167;
/// First bytes of a trailer.
pub const MAGIC: [u8; 8] = *b"llextsg1";
/// Bytes of an Ed25519 signature: the last bytes of a signed file.
pub const SIGNATURE_LEN: usize = 64;
/// Bytes of a [`Trailer`]: magic, version, flags (0), key id, signature.
pub const TRAILER_LEN: usize = 8 + 4 + 4 + 8 + SIGNATURE_LEN;
/// What the signature is over starts with this, so it is never valid for anything else.
const DOMAIN: [u8; 16] = *b"llext-signed-v1\0";

/// A public key's id: the first 8 bytes of SHA-256 of its 32 bytes, shown as 16 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(pub [u8; 8]);

impl KeyId {
    /// The id of the Ed25519 public key `public`.
    pub fn of(public: &[u8; 32]) -> Self {
        let h = Sha256::digest(public);
        let mut id = [0; 8];
        id.copy_from_slice(&h[..8]);
        Self(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// The contents of the signature section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trailer {
    /// The signed version (installs refuse one lower than the version installed).
    pub version: u32,
    /// Which key signed it.
    pub key_id: KeyId,
    /// Ed25519 signature of [`message`].
    pub signature: [u8; SIGNATURE_LEN],
}

impl Trailer {
    /// Reads a trailer; `None` unless `b` is exactly one, with its magic and zero flags.
    pub fn parse(b: &[u8]) -> Option<Self> {
        let b: &[u8; TRAILER_LEN] = b.try_into().ok()?;
        let word = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        if b[..8] != MAGIC || word(12) != 0 {
            return None;
        }
        let mut key_id = [0; 8];
        key_id.copy_from_slice(&b[16..24]);
        let mut signature = [0; SIGNATURE_LEN];
        signature.copy_from_slice(&b[24..]);
        Some(Self {
            version: word(8),
            key_id: KeyId(key_id),
            signature,
        })
    }

    /// The trailer's bytes.
    pub fn to_bytes(&self) -> [u8; TRAILER_LEN] {
        let mut b = [0; TRAILER_LEN];
        b[..8].copy_from_slice(&MAGIC);
        b[8..12].copy_from_slice(&self.version.to_le_bytes());
        b[16..24].copy_from_slice(&self.key_id.0);
        b[24..].copy_from_slice(&self.signature);
        b
    }
}

/// The hash of a signed file, started with its extension's `name` (one length byte, then the
/// name, cut at 255 bytes), so an image signed for one name fails under another. Feed it every
/// byte of the file but the last [`SIGNATURE_LEN`].
pub fn digest_start(name: &str) -> Sha256 {
    let name = &name.as_bytes()[..name.len().min(255)];
    let mut h = Sha256::new();
    h.update([name.len() as u8]);
    h.update(name);
    h
}

/// What Ed25519 signs: the domain prefix, then the digest of name and file.
pub fn message(digest: &[u8; 32]) -> [u8; 48] {
    let mut m = [0; 48];
    m[..16].copy_from_slice(&DOMAIN);
    m[16..].copy_from_slice(digest);
    m
}
