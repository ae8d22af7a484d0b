//! `--trust PUB.pem` (repeatable), `--require-signed`, `--allow-rollback`, `--no-boot-verify`:
//! the signature policy a firmware gets at build time, from the command line.

use std::io;
use std::path::PathBuf;

use llext_sign::{KeyId, Policy, host};

/// The policy: the keys in `trust` (public or private key PEM files), unsigned extensions
/// refused when `require_signed`.
pub fn policy(
    trust: &[PathBuf],
    require_signed: bool,
    allow_rollback: bool,
    boot_verify: bool,
) -> io::Result<Policy> {
    let mut keys = Vec::new();
    for path in trust {
        let text = std::fs::read_to_string(path)
            .map_err(|e| io::Error::new(e.kind(), format!("--trust {}: {e}", path.display())))?;
        let key = host::read_public_pem(&text)
            .map_err(|e| io::Error::other(format!("--trust {}: {e}", path.display())))?;
        keys.push(key.to_bytes());
    }
    Ok(Policy {
        keys: Vec::leak(keys),
        unsigned_pushes: !require_signed,
        unsigned_installs: !require_signed,
        allow_rollback,
        verify_at_boot: boot_verify,
    })
}

/// One line saying what the device trusts, printed at start.
pub fn describe(p: &Policy) -> String {
    let ids: Vec<String> = p.keys.iter().map(|k| KeyId::of(k).to_string()).collect();
    let unsigned = if p.unsigned_pushes {
        "accepted"
    } else {
        "refused"
    };
    format!(
        "trust: {} key(s){}{}; unsigned extensions {unsigned}",
        ids.len(),
        if ids.is_empty() { "" } else { " " },
        ids.join(", ")
    )
}
