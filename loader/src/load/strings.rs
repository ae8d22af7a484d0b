//! Matching names to entries while a string table streams past, one name at a time.

use crate::Error;

/// Longest name the loader holds (a fixed buffer, part of the load's bounded overhead).
pub const MAX_NAME: usize = 256;

/// Splits a streamed string table into NUL-terminated strings.
pub(crate) struct Splitter {
    buf: [u8; MAX_NAME],
    len: usize,
    long: bool,
    start: u64,
    at: u64,
}

impl Splitter {
    pub(crate) fn new() -> Self {
        Self {
            buf: [0; MAX_NAME],
            len: 0,
            long: false,
            start: 0,
            at: 0,
        }
    }

    /// Feeds the next bytes; calls `each(start_offset, name)` for every string completed, with
    /// `None` for a name longer than [`MAX_NAME`].
    pub(crate) fn feed(
        &mut self,
        chunk: &[u8],
        mut each: impl FnMut(u64, Option<&[u8]>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        for &c in chunk {
            self.at += 1;
            if c == 0 {
                let name = (!self.long).then_some(&self.buf[..self.len]);
                each(self.start, name)?;
                self.len = 0;
                self.long = false;
                self.start = self.at;
            } else if self.len < MAX_NAME {
                self.buf[self.len] = c;
                self.len += 1;
            } else {
                self.long = true;
            }
        }
        Ok(())
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
