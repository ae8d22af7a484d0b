//! Fingerprinted names: a function of a firmware API declared with `llext-api` is linked as
//! `name#xxxxxxxx` (eight hex digits, a hash of its signature), so an extension built against
//! another signature finds no such symbol. These helpers turn that into a message naming the
//! function: the firmware exports it, with another signature.

/// Splits `name#xxxxxxxx` into `name` and its fingerprint; `None` for any other name.
pub fn split(symbol: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = symbol.len().checked_sub(9)?;
    let (base, tail) = symbol.split_at(at);
    let digits = tail.strip_prefix(b"#")?;
    let hex = digits.iter().all(|c| c.is_ascii_hexdigit());
    (hex && !base.is_empty()).then_some((base, digits))
}

/// The firmware's fingerprint of `base` among `names` (those of its exports), if it exports
/// `base#xxxxxxxx`.
pub fn find<'a>(base: &[u8], names: impl IntoIterator<Item = &'a [u8]>) -> Option<&'a [u8]> {
    names
        .into_iter()
        .filter_map(split)
        .find(|(b, _)| *b == base)
        .map(|(_, fp)| fp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_only_fingerprinted_names() {
        assert_eq!(
            split(b"llext_log#0a1b2c3d"),
            Some((&b"llext_log"[..], &b"0a1b2c3d"[..]))
        );
        assert_eq!(split(b"llext_log"), None);
        assert_eq!(split(b"#0a1b2c3d"), None);
        assert_eq!(split(b"x#0a1b2c3g"), None);
        assert_eq!(
            find(b"f", [&b"g#00000001"[..], b"f", b"f#00000002"]),
            Some(&b"00000002"[..])
        );
    }
}
