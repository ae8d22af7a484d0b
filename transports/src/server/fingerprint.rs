//! A missing symbol that is a fingerprinted firmware API function (`name#xxxxxxxx`, see
//! `llext_loader::symbols::fingerprint`) is named as a signature mismatch, not as missing.

use core::fmt::{self, Write};

use llext_loader::symbols::ExportTable;
use llext_loader::symbols::fingerprint::{find, split};

fn text(b: &[u8]) -> &str {
    core::str::from_utf8(b).unwrap_or("?")
}

/// Writes how `symbol` is missing: its name, or, when this firmware exports the function with
/// another signature, the function and both fingerprints. Plain writes, no formatting machinery.
pub(crate) fn write_missing(
    out: &mut impl Write,
    symbol: &str,
    exports: &ExportTable,
) -> fmt::Result {
    match split(symbol.as_bytes()) {
        Some((base, want)) if exports.find(base).is_some() => {
            let names = exports.entries().iter().map(|e| e.name.as_bytes());
            for part in [
                "`",
                text(base),
                "`: signature differs (extension ",
                text(want),
            ] {
                out.write_str(part)?;
            }
            if let Some(have) = find(base, names) {
                out.write_str(", firmware ")?;
                out.write_str(text(have))?;
            }
            out.write_str("): rebuild against this firmware's llext-api")
        }
        _ => out.write_str(symbol),
    }
}
