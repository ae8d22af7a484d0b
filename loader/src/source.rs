//! Byte sources the loader reads an ELF from: a forward-only stream, a seekable source, a slice.

use embedded_io_async::{ErrorKind, Read, Seek, SeekFrom};

use crate::Error;
pub use crate::load::{NameReader, Seeked, Streamed};

/// Where the loader reads an extension from.
///
/// The loader always asks for bytes at or after [`Source::position`] on a forward-only source;
/// a seekable source may be asked to go back. Reads fill the whole buffer or fail.
#[allow(async_fn_in_trait)]
pub trait Source {
    /// Reads exactly `buf.len()` bytes at the current position.
    async fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), Error>;
    /// Moves to `offset`. On a forward-only source `offset` must not be behind the position.
    async fn seek_to(&mut self, offset: u64) -> Result<(), Error>;
    /// The current offset from the start of the file.
    fn position(&self) -> u64;
    /// How the loader reads string tables from this source: [`Streamed`] (forward-only, the
    /// file in stream order) or [`Seeked`] (any order).
    type Names: NameReader;
    /// Whether [`Source::seek_to`] can go backwards (known at compile time).
    const SEEKABLE: bool = <Self::Names as NameReader>::SEEKABLE;
    /// [`Source::SEEKABLE`], as a method.
    fn is_seekable(&self) -> bool {
        Self::SEEKABLE
    }
}

fn io_error(kind: ErrorKind, offset: u64) -> Error {
    Error::Io { kind, offset }
}

/// Fills `buf` from `inner`, advancing `pos`; the end of the input is an error naming where.
async fn read_fully<R: Read>(
    inner: &mut R,
    pos: &mut u64,
    mut buf: &mut [u8],
) -> Result<(), Error> {
    while !buf.is_empty() {
        match inner.read(buf).await {
            Ok(0) => return Err(Error::UnexpectedEof { offset: *pos }),
            Ok(n) => {
                *pos += n as u64;
                buf = &mut buf[n..];
            }
            Err(e) => return Err(io_error(embedded_io_async::Error::kind(&e), *pos)),
        }
    }
    Ok(())
}

/// A forward-only source over any [`embedded_io_async::Read`]: UART, USB, a pipe.
///
/// Skipping forward reads and discards; nothing is buffered beyond one small scratch block.
pub struct StreamSource<R> {
    inner: R,
    pos: u64,
}

impl<R: Read> StreamSource<R> {
    /// Wraps `inner`, whose next byte is offset 0 of the file.
    pub fn new(inner: R) -> Self {
        Self { inner, pos: 0 }
    }

    /// Gives back the reader.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Source for StreamSource<R> {
    async fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        read_fully(&mut self.inner, &mut self.pos, buf).await
    }

    async fn seek_to(&mut self, offset: u64) -> Result<(), Error> {
        if offset < self.pos {
            return Err(Error::NotForward {
                offset,
                position: self.pos,
            });
        }
        let mut scratch = [0u8; 64];
        while self.pos < offset {
            let n = core::cmp::min(scratch.len() as u64, offset - self.pos) as usize;
            self.read_exact(&mut scratch[..n]).await?;
        }
        Ok(())
    }

    fn position(&self) -> u64 {
        self.pos
    }

    type Names = Streamed;
}

/// A seekable source over any [`embedded_io_async::Read`] + [`Seek`]: a flash partition, a file.
pub struct SeekSource<R> {
    inner: R,
    pos: u64,
}

impl<R: Read + Seek> SeekSource<R> {
    /// Wraps `inner`, positioned at offset 0 of the file.
    pub fn new(inner: R) -> Self {
        Self { inner, pos: 0 }
    }
}

impl<R: Read + Seek> Source for SeekSource<R> {
    async fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        read_fully(&mut self.inner, &mut self.pos, buf).await
    }

    async fn seek_to(&mut self, offset: u64) -> Result<(), Error> {
        if offset != self.pos {
            self.inner
                .seek(SeekFrom::Start(offset))
                .await
                .map_err(|e| io_error(embedded_io_async::Error::kind(&e), offset))?;
            self.pos = offset;
        }
        Ok(())
    }

    fn position(&self) -> u64 {
        self.pos
    }

    type Names = Seeked;
}

/// An ELF already in memory (a test vector, a memory-mapped flash image).
pub struct SliceSource<'a> {
    bytes: &'a [u8],
    pos: u64,
}

impl<'a> SliceSource<'a> {
    /// Reads from `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }
}

impl Source for SliceSource<'_> {
    async fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), Error> {
        let start = usize::try_from(self.pos).unwrap_or(usize::MAX);
        let src = start
            .checked_add(buf.len())
            .and_then(|end| self.bytes.get(start..end))
            .ok_or(Error::UnexpectedEof {
                offset: self.bytes.len() as u64,
            })?;
        buf.copy_from_slice(src);
        self.pos += buf.len() as u64;
        Ok(())
    }

    async fn seek_to(&mut self, offset: u64) -> Result<(), Error> {
        self.pos = offset;
        Ok(())
    }

    fn position(&self) -> u64 {
        self.pos
    }

    type Names = Seeked;
}
