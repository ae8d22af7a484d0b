//! Missing symbols that are fingerprinted firmware API functions (`name#xxxxxxxx`, see
//! `llext_loader::symbols::fingerprint`): named as a signature mismatch.

use llext_loader::symbols::ExportList;
use llext_loader::symbols::fingerprint::{find, split};

/// The problem line for `symbol` when the firmware exports the function it names with another
/// signature; `None` for a plain missing symbol.
pub fn mismatch(symbol: &str, exports: &ExportList) -> Option<String> {
    let (base, want) = split(symbol.as_bytes())?;
    let base = std::str::from_utf8(base).ok()?;
    let want = std::str::from_utf8(want).ok()?;
    let names: Vec<&str> = exports.iter().map(|(n, _)| n).collect();
    if !names.contains(&base) {
        return None;
    }
    let have = find(base.as_bytes(), names.iter().map(|n| n.as_bytes()))
        .and_then(|h| std::str::from_utf8(h).ok())
        .map_or(String::new(), |h| format!(", the firmware has {h}"));
    Some(format!(
        "signature differs: `{base}` (the extension was built against fingerprint {want}{have}; \
         rebuild it against the firmware's llext-api)"
    ))
}
