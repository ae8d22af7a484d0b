//! A short inline string: extension names and symbol names quoted in errors, without an allocator.

use core::fmt;

/// Up to [`Name::CAPACITY`] bytes of a name; longer names are cut and shown with `...`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Name {
    len: u8,
    truncated: bool,
    bytes: [u8; Name::CAPACITY],
}

impl Name {
    /// How many bytes a name keeps.
    pub const CAPACITY: usize = 32;

    /// The empty name.
    pub const EMPTY: Name = Name {
        len: 0,
        truncated: false,
        bytes: [0; Name::CAPACITY],
    };

    /// Copies `bytes`, cutting at [`Name::CAPACITY`].
    // Out of line: inlined, each caller carried the buffer's initialisation and copy.
    #[inline(never)]
    pub fn new(bytes: &[u8]) -> Self {
        let len = bytes.len().min(Self::CAPACITY);
        let mut out = Self::EMPTY;
        out.bytes[..len].copy_from_slice(&bytes[..len]);
        out.len = len as u8;
        out.truncated = bytes.len() > len;
        out
    }

    /// The kept bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The kept bytes as text (invalid UTF-8 shows as `?`).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(self.as_bytes()).unwrap_or("?")
    }

    /// Whether the whole name was kept and equals `other`.
    pub fn eq_full(&self, other: &[u8]) -> bool {
        !self.truncated && self.as_bytes() == other
    }
}

impl Default for Name {
    fn default() -> Self {
        Name::EMPTY
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())?;
        if self.truncated {
            f.write_str("...")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}
