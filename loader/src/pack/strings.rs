//! String tables: reading NUL-terminated names, building lock-step tables.

use alloc::vec::Vec;

use super::PackError;

/// The NUL-terminated string starting at `offset` in `table` (without the NUL), or `None` if
/// `offset` is out of range or the string is not terminated. Offset 0 of an empty table is
/// the empty string, as ELF allows.
pub(super) fn cstr_at(table: &[u8], offset: u32) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    if start == 0 && table.is_empty() {
        return Some(&[]);
    }
    let rest = table.get(start..)?;
    let len = rest.iter().position(|&b| b == 0)?;
    Some(&rest[..len])
}

/// A string table built in lock-step: one NUL byte, then each non-empty name in the order
/// added, never shared, so the k-th string belongs to the k-th named entry.
pub(super) struct StringTable {
    bytes: Vec<u8>,
}

impl StringTable {
    pub(super) fn new() -> Self {
        Self {
            bytes: alloc::vec![0],
        }
    }

    /// Appends `name` and returns its offset, or 0 (no string) for an empty name.
    pub(super) fn add(&mut self, name: &[u8]) -> Result<u32, PackError> {
        if name.is_empty() {
            return Ok(0);
        }
        let offset = u32::try_from(self.bytes.len()).map_err(|_| PackError::OutputTooLarge)?;
        self.bytes.extend_from_slice(name);
        self.bytes.push(0);
        Ok(offset)
    }

    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}
