//! Matching names to entries while a string table streams past, one name at a time.

use crate::Error;
use crate::symbols::SymName;

/// Bytes of a name the loader holds (a fixed buffer, part of the load's bounded overhead).
/// Longer names are not refused: they are matched by length, first bytes and hash
/// ([`SymName`]).
pub const MAX_NAME: usize = 128;

const FNV_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Builds a [`SymName`] one byte at a time.
pub(crate) struct NameBuf {
    buf: [u8; MAX_NAME],
    len: usize,
    hash: u64,
}

impl NameBuf {
    pub(crate) fn new() -> Self {
        Self {
            buf: [0; MAX_NAME],
            len: 0,
            hash: FNV_BASIS,
        }
    }

    pub(crate) fn push(&mut self, c: u8) {
        if let Some(b) = self.buf.get_mut(self.len) {
            *b = c;
        }
        self.len += 1;
        self.hash = (self.hash ^ u64::from(c)).wrapping_mul(FNV_PRIME);
    }

    pub(crate) fn name(&self) -> SymName<'_> {
        SymName {
            prefix: &self.buf[..self.len.min(MAX_NAME)],
            len: self.len,
            hash: self.hash,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.len = 0;
        self.hash = FNV_BASIS;
    }
}

/// Splits a streamed string table into NUL-terminated strings.
pub(crate) struct Splitter {
    /// The name being assembled (also the buffer of names read where they are).
    pub name: NameBuf,
    start: u64,
    at: u64,
}

impl Splitter {
    pub(crate) fn new() -> Self {
        Self {
            name: NameBuf::new(),
            start: 0,
            at: 0,
        }
    }

    /// Feeds the next bytes; calls `each(start_offset, name)` for every string completed.
    pub(crate) fn feed(
        &mut self,
        chunk: &[u8],
        mut each: impl FnMut(u64, SymName<'_>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        for &c in chunk {
            self.at += 1;
            if c == 0 {
                each(self.start, self.name.name())?;
                self.name.clear();
                self.start = self.at;
            } else {
                self.name.push(c);
            }
        }
        Ok(())
    }
}

/// `name` as text for a report: cut names end in `...`, bad UTF-8 shows as `?`.
pub(crate) fn shown<'b>(name: &SymName<'_>, buf: &'b mut [u8; MAX_NAME]) -> &'b str {
    let n = name.prefix.len();
    buf[..n].copy_from_slice(name.prefix);
    let mut end = n;
    if !name.is_whole() {
        end = n.min(MAX_NAME - 3);
        buf[end..end + 3].copy_from_slice(b"...");
        end += 3;
    }
    match core::str::from_utf8(&buf[..end]) {
        Ok(s) => s,
        Err(e) => core::str::from_utf8(&buf[..e.valid_up_to()]).unwrap_or("?"),
    }
}

/// A running check that entries' name offsets match the strings' offsets, in order.
#[derive(Default, Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct OrderCheck {
    acc: u64,
    count: u32,
}

impl OrderCheck {
    pub(crate) fn add(&mut self, offset: u64) {
        self.acc = (self.acc ^ offset)
            .wrapping_mul(0x0000_0100_0000_01b3)
            .rotate_left(5);
        self.count += 1;
    }
}
