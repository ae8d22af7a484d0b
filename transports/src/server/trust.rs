//! Signed extensions on the device: the policy from [`Config::trust`], the refusals' codes and
//! messages, and what `Status` says of them.
//!
//! A push's bytes go through a [`StreamVerifier`] as the loader consumes them; the signature is
//! checked once the last byte arrived and before the extension's constructors run, so a refused
//! extension never ran a single instruction and is unloaded, its memory back to the provider.

use llext_sign::{KeyId, Kind, Policy, Refusal, StreamVerifier};

use super::{Failure, fail};
use crate::protocol::{Cause, TRUST_KEYS, TrustInfo};

#[cfg(doc)]
use super::Config;

/// Checks the signature of a file that arrived `whole` (one that did not fails elsewhere).
pub(super) fn check(
    sig: Option<StreamVerifier>,
    policy: &Policy,
    kind: Kind,
    whole: bool,
) -> Result<(), Failure> {
    match sig.map(|v| v.finish(policy, kind)) {
        Some(Err(r)) if whole => Err(refused(r)),
        _ => Ok(()),
    }
}

/// The protocol's code and message for a refusal.
pub(super) fn refused(r: Refusal) -> Failure {
    fail(Cause::Refused(r.into()))
}

/// The policy as `Status` reports it; a firmware without the verifier trusts no key.
pub(super) fn info(p: &Policy) -> TrustInfo {
    let keys = if llext_sign::VERIFIER { p.keys } else { &[] };
    let mut key_ids = [None; TRUST_KEYS];
    for (k, out) in keys.iter().zip(key_ids.iter_mut()) {
        *out = Some(KeyId::of(k).0);
    }
    TrustInfo {
        unsigned_pushes: p.unsigned_pushes,
        unsigned_installs: p.unsigned_installs,
        allow_rollback: p.allow_rollback,
        verify_at_boot: p.verify_at_boot,
        keys: keys.len().min(255) as u8,
        key_ids,
    }
}

/// Checks the signature of the `len` bytes `src` reads (an image in flash) as `name`.
#[cfg(feature = "storage")]
pub(crate) async fn check_read<R: embedded_io_async::Read>(
    src: &mut R,
    name: &str,
    len: u32,
    policy: &Policy,
    kind: Kind,
) -> Result<llext_sign::Verdict, Refusal> {
    let mut v = StreamVerifier::new(name, len);
    let mut buf = [0u8; 128];
    while v.position() < len {
        match src.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => v.update(&buf[..n]),
        }
    }
    v.finish(policy, kind)
}
