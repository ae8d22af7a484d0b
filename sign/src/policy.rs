//! What a device trusts, and why it refused an extension.

use core::fmt;

use crate::format::KeyId;

/// The device's trust policy, given to the device stack at build time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Ed25519 public keys whose signatures are accepted (more than one: key rotation).
    pub keys: &'static [[u8; 32]],
    /// Whether pushes (into RAM) may be unsigned (development).
    pub unsigned_pushes: bool,
    /// Whether installs (into flash) may be unsigned (development).
    pub unsigned_installs: bool,
    /// Whether an install may replace a signed version with a lower one.
    pub allow_rollback: bool,
    /// Whether boot loading checks each signature again (a device whose flash nobody else
    /// can write may skip it; docs/PERFORMANCE.md says what it costs).
    pub verify_at_boot: bool,
}

impl Policy {
    /// Development: no keys, anything accepted; signed extensions from unknown keys are refused.
    pub const DEVELOPMENT: Policy = Policy {
        keys: &[],
        unsigned_pushes: true,
        unsigned_installs: true,
        allow_rollback: false,
        verify_at_boot: true,
    };

    /// Production: only extensions signed by one of `keys`, no rollback, checked at boot too.
    pub const fn production(keys: &'static [[u8; 32]]) -> Policy {
        Policy {
            keys,
            unsigned_pushes: false,
            unsigned_installs: false,
            allow_rollback: false,
            verify_at_boot: true,
        }
    }

    /// Whether an unsigned extension is accepted for `kind`.
    pub fn accepts_unsigned(&self, kind: Kind) -> bool {
        match kind {
            Kind::Push => self.unsigned_pushes,
            // An extension installed unsigned is loaded at boot as it was accepted.
            Kind::Install | Kind::Boot => self.unsigned_installs,
        }
    }

    /// The trusted key with id `id`.
    pub fn key(&self, id: KeyId) -> Option<&'static [u8; 32]> {
        self.keys.iter().find(|k| KeyId::of(k) == id)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self::DEVELOPMENT
    }
}

/// What an extension arrives as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Pushed into RAM.
    Push,
    /// Installed into flash.
    Install,
    /// Loaded from flash at boot.
    Boot,
}

/// A checked extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It carries no signature (and the policy accepts that).
    Unsigned,
    /// Signed by a trusted key.
    Signed {
        /// The signed version.
        version: u32,
        /// The key.
        key_id: KeyId,
    },
}

/// Why an extension was refused. The protocol's codes are `bad-signature`, `unsigned`,
/// `unknown-key` and `rollback`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The signature does not match the bytes, the name or the key, or is damaged or cut short.
    BadSignature,
    /// No signature, and the policy wants one.
    Unsigned,
    /// Signed by a key the device does not trust.
    UnknownKey(KeyId),
    /// An install of a signed version lower than the one installed.
    Rollback {
        /// The version offered.
        version: u32,
        /// The version installed.
        installed: u32,
    },
    /// The file is signed and the policy wants a signature, but this firmware was built
    /// without the verifier (`llext-sign`'s `verify` feature), so it cannot check one.
    NoVerifier,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::BadSignature => f.write_str(
                "the signature does not match this file and name (changed, cut short, or signed \
                 for another name): sign the extension again",
            ),
            Refusal::Unsigned => f.write_str(
                "this device runs only signed extensions: sign it with `host-push sign` or `--sign KEY.pem`",
            ),
            Refusal::UnknownKey(id) => write!(
                f,
                "signed by key {id}, which this device does not trust (`host-push status` lists its keys)"
            ),
            Refusal::Rollback { version, installed } => write!(
                f,
                "version {version} is older than the installed version {installed}: sign a newer version"
            ),
            Refusal::NoVerifier => f.write_str(
                "the file is signed, but this firmware was built without the signature verifier \
                 (feature `signing`) and runs only signed extensions: rebuild it with the feature",
            ),
        }
    }
}
