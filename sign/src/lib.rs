//! Signed extensions: the device runs only code signed by a key it was built to trust.
//!
//! A signed extension is a packed ELF (stream order) whose last section, `.llext.sig`, is a
//! non-alloc section of [`SHT_LLEXT_SIG`] holding a [`Trailer`]: the signed version, the signing
//! key's id and an Ed25519 signature. Its contents are the last [`TRAILER_LEN`] bytes of the
//! file, so a device hashes every byte before the signature as it streams past
//! ([`StreamVerifier`]) and checks the signature at the end, before any of the extension's code
//! runs. What is signed is SHA-256 of the extension's name and every byte of the file up to the
//! signature (the trailer's version and key id included), behind a domain prefix ([`message`]).
//!
//! [`Policy`] says which keys the device trusts and whether unsigned extensions are accepted,
//! separately for pushes and installs. With `host`, [`host`] makes keys (PKCS#8 PEM, as MCUboot's
//! `imgtool keygen -t ed25519` writes them) and signs packed files.
#![no_std]

#[cfg(feature = "host")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod format;
mod policy;
mod verify;

#[cfg(feature = "host")]
pub mod host;

pub use format::{
    KeyId, MAGIC, SECTION, SHT_LLEXT_SIG, SIGNATURE_LEN, TRAILER_LEN, Trailer, digest_start,
    message,
};
pub use policy::{Kind, Policy, Refusal, Verdict};
pub use verify::StreamVerifier;

/// Whether this build checks signatures (the `verify` feature): without it a policy's keys are
/// never used and a signed file is taken as unsigned ([`Refusal::NoVerifier`] where the policy
/// wants a signature).
pub const VERIFIER: bool = cfg!(feature = "verify");
