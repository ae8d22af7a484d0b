//! Strings from a device, made safe to show: a device is not trusted with the host's terminal.

use std::borrow::Cow;
use std::string::{String, ToString};

/// Longest device string kept (docs/PROTOCOL.md: names in causes are at most 160 bytes); a longer
/// one is cut at a character boundary and ends in `…`.
pub const DEVICE_TEXT_MAX: usize = 160;

/// `text` as it may go to a terminal: control characters (escape sequences that would colour
/// the terminal, a `\r` that would overwrite a line) shown escaped (`\u{1b}`, `\r`); tabs kept.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\t') {
        return text.into();
    }
    text.chars()
        .map(|c| match c {
            '\t' => c.to_string(),
            c if c.is_control() => c.escape_default().to_string(),
            c => c.to_string(),
        })
        .collect::<String>()
        .into()
}

/// A name or reason from a device: [`printable`], cut to [`DEVICE_TEXT_MAX`] bytes.
pub fn device_text(text: &str) -> String {
    let shown = printable(text);
    if shown.len() <= DEVICE_TEXT_MAX {
        return shown.into_owned();
    }
    let mut end = DEVICE_TEXT_MAX;
    while !shown.is_char_boundary(end) {
        end -= 1;
    }
    let mut cut = shown[..end].to_string();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_long_text_is_cut() {
        assert_eq!(printable("a\tb"), "a\tb");
        assert_eq!(printable("\x1b[31mred\r"), "\\u{1b}[31mred\\r");
        let long = "é".repeat(100); // 200 bytes
        let cut = device_text(&long);
        assert!(cut.ends_with('…'));
        assert_eq!(cut.len(), DEVICE_TEXT_MAX + '…'.len_utf8());
        assert_eq!(device_text("ok"), "ok");
    }
}
