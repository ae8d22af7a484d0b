//! Lines to the device log, formatted in the extension into a fixed buffer.

use core::fmt::{self, Write};

/// Longest line sent; longer ones are cut (and end with `...`).
pub const LINE: usize = 160;

/// A line being formatted.
pub struct Line {
    buf: [u8; LINE],
    len: usize,
    cut: bool,
}

impl Line {
    /// An empty line.
    pub const fn new() -> Self {
        Self {
            buf: [0; LINE],
            len: 0,
            cut: false,
        }
    }

    /// The text so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Default for Line {
    fn default() -> Self {
        Self::new()
    }
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = LINE - self.len;
        let n = s.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        if n < s.len() && !self.cut {
            self.cut = true;
            self.buf[LINE - 3..].copy_from_slice(b"...");
        }
        Ok(())
    }
}

/// Formats `args` after `prefix` and writes the line to the device log.
pub fn write_line(prefix: &str, args: fmt::Arguments<'_>) {
    let mut line = Line::new();
    let _ = line.write_str(prefix);
    let _ = line.write_fmt(args);
    let text = line.as_bytes();
    // SAFETY: `text` is valid for `len` bytes during the call.
    unsafe { crate::api::llext_log(text.as_ptr(), text.len()) }
}

/// Writes a formatted line to the device log: `info!("x = {}", x)`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::write_line("", ::core::format_args!($($arg)*)) };
}

/// Writes a formatted line starting `warning: ` to the device log.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::write_line("warning: ", ::core::format_args!($($arg)*)) };
}

/// Writes a formatted line starting `error: ` to the device log.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::write_line("error: ", ::core::format_args!($($arg)*)) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_cut_and_marked() {
        let mut line = Line::new();
        let _ = write!(line, "{}", "x".repeat(LINE + 10));
        assert_eq!(line.as_bytes().len(), LINE);
        assert!(line.as_bytes().ends_with(b"x..."));
        let mut short = Line::new();
        let _ = write!(short, "n = {}", 42);
        assert_eq!(short.as_bytes(), b"n = 42");
    }
}
