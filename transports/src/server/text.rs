//! A fixed-size text buffer for messages built on the device without an allocator.

use core::fmt;

/// Up to `N` bytes of UTF-8; what does not fit is cut at a character boundary. It encodes as a
/// string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Text<const N: usize> {
    buf: [u8; N],
    len: usize,
}

// `#[inline(never)]` where it cuts the firmware (measured, docs/PERFORMANCE.md): helpers called
// from many places, each of which carried an inlined copy.
impl<const N: usize> Text<N> {
    /// Empty text.
    #[inline(never)]
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
        }
    }

    /// Text formatted from `args`, cut to `N` bytes.
    #[inline(never)]
    pub fn format(args: fmt::Arguments<'_>) -> Self {
        let mut t = Self::new();
        let _ = fmt::write(&mut t, args);
        t
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only whole characters are ever appended.
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<const N: usize> Default for Text<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Write for Text<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = N - self.len;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        self.buf[self.len..self.len + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take;
        Ok(())
    }
}

impl<const N: usize> From<&str> for Text<N> {
    #[inline(never)]
    fn from(s: &str) -> Self {
        let mut t = Self::new();
        let _ = fmt::Write::write_str(&mut t, s);
        t
    }
}

impl<const N: usize> AsRef<str> for Text<N> {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> serde::Serialize for Text<N> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The longest valid UTF-8 prefix of `bytes` (log lines may be cut mid-character).
pub(crate) fn utf8_prefix(bytes: &[u8]) -> &str {
    match core::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => core::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
    }
}
