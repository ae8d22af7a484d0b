//! Extension names as the catalog stores them: up to 32 bytes of UTF-8, no allocator.

use core::fmt;

/// An extension name of 1 to [`ExtName::CAPACITY`] bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ExtName {
    len: u8,
    bytes: [u8; ExtName::CAPACITY],
}

impl ExtName {
    /// The longest name, in bytes (the loader's name capacity).
    pub const CAPACITY: usize = 32;

    /// An empty filler for unused array places (never a valid name).
    pub(crate) const PLACEHOLDER: ExtName = ExtName {
        len: 0,
        bytes: [0; ExtName::CAPACITY],
    };

    /// `name`, if it is 1 to [`ExtName::CAPACITY`] bytes long.
    pub fn new(name: &str) -> Option<Self> {
        Self::from_bytes(name.as_bytes())
    }

    pub(crate) fn from_bytes(b: &[u8]) -> Option<Self> {
        if b.is_empty() || b.len() > Self::CAPACITY || core::str::from_utf8(b).is_err() {
            return None;
        }
        let mut bytes = [0; Self::CAPACITY];
        bytes[..b.len()].copy_from_slice(b);
        Some(Self {
            len: b.len() as u8,
            bytes,
        })
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        // Only valid UTF-8 is ever stored (checked in `from_bytes`).
        core::str::from_utf8(self.as_bytes()).unwrap_or("")
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

impl fmt::Debug for ExtName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for ExtName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for ExtName {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}
