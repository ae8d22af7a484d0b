//! Installed images as loader sources: a seekable reader of a slot, and the forward-only
//! source boot uses, which checks the CRC in the same pass as the load.

use embedded_io_async::{ErrorKind, ErrorType, Read, Seek, SeekFrom};
use embedded_storage_async::nor_flash::{NorFlashError, ReadNorFlash};
use llext_loader::source::Source;

use crate::read::{self, CRC32, Digest};

/// A failed flash read, as `embedded-io` sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadError(pub ErrorKind);

impl embedded_io_async::Error for ReadError {
    fn kind(&self) -> ErrorKind {
        self.0
    }
}

impl core::fmt::Display for ReadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "flash read failed: {:?}", self.0)
    }
}

impl core::error::Error for ReadError {}

/// The flash address of `n` bytes at `pos` in an image at `base`, if the range fits in `u32`.
fn flash_addr(base: u32, pos: u32, n: usize) -> Option<u32> {
    let at = base.checked_add(pos)?;
    at.checked_add(u32::try_from(n).ok()?)?;
    Some(at)
}

fn kind<E: NorFlashError>(e: &E) -> ErrorKind {
    use embedded_storage_async::nor_flash::NorFlashErrorKind as K;
    match e.kind() {
        K::OutOfBounds => ErrorKind::InvalidInput,
        _ => ErrorKind::Other,
    }
}

/// One image in flash as `embedded_io_async::Read + Seek`: wrap it in
/// [`llext_loader::source::SeekSource`] to load an image in any section order.
pub struct SlotReader<'a, F> {
    flash: &'a mut F,
    base: u32,
    len: u32,
    pos: u32,
}

impl<'a, F: ReadNorFlash> SlotReader<'a, F> {
    /// Reads `len` bytes of `flash` from `base`.
    pub fn new(flash: &'a mut F, base: u32, len: u32) -> Self {
        Self {
            flash,
            base,
            len,
            pos: 0,
        }
    }

    /// Where the image starts in the flash (add the flash's mapped address for XIP).
    pub fn flash_offset(&self) -> u32 {
        self.base
    }

    /// The image's length.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether the image is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<F: ReadNorFlash> ErrorType for SlotReader<'_, F> {
    type Error = ReadError;
}

impl<F: ReadNorFlash> Read for SlotReader<'_, F> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        // Offsets come from the image (a section's `sh_offset`): past the end reads nothing,
        // and no sum of them may wrap.
        let n = (self.len.saturating_sub(self.pos) as usize).min(buf.len());
        if n == 0 {
            return Ok(0);
        }
        let at = flash_addr(self.base, self.pos, n).ok_or(ReadError(ErrorKind::InvalidInput))?;
        read::read(self.flash, at, &mut buf[..n])
            .await
            .map_err(|e| ReadError(kind(&e)))?;
        self.pos += n as u32;
        Ok(n)
    }
}

impl<F: ReadNorFlash> Seek for SlotReader<'_, F> {
    async fn seek(&mut self, pos: SeekFrom) -> Result<u64, Self::Error> {
        let new = match pos {
            SeekFrom::Start(o) => Some(o),
            SeekFrom::End(d) => u64::from(self.len).checked_add_signed(d),
            SeekFrom::Current(d) => u64::from(self.pos).checked_add_signed(d),
        };
        // Past the end is allowed (reads then return 0), as for files.
        self.pos = new
            .and_then(|p| u32::try_from(p).ok())
            .ok_or(ReadError(ErrorKind::InvalidInput))?;
        Ok(self.pos.into())
    }
}

/// A forward-only source over one image that feeds every byte it passes into a CRC, so boot
/// reads the image once: to load it and to check it.
pub(crate) struct CheckingSource<'a, F> {
    flash: &'a mut F,
    base: u32,
    len: u32,
    pos: u32,
    digest: Digest,
}

impl<'a, F: ReadNorFlash> CheckingSource<'a, F> {
    pub fn new(flash: &'a mut F, base: u32, len: u32) -> Self {
        Self {
            flash,
            base,
            len,
            pos: 0,
            digest: CRC32.digest(),
        }
    }

    /// Reads what the load did not, and returns the CRC of the whole image.
    pub async fn finish(mut self) -> Result<u32, F::Error> {
        // `pos <= len` always, and `base + len` was checked when the image was installed.
        let rest = self.len.saturating_sub(self.pos);
        let at = self.base.saturating_add(self.pos);
        read::crc_range(self.flash, at, rest, &mut self.digest).await?;
        Ok(self.digest.finalize())
    }
}

impl<F: ReadNorFlash> Source for CheckingSource<'_, F> {
    async fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), llext_loader::Error> {
        let end = u64::from(self.pos).checked_add(buf.len() as u64);
        let at = flash_addr(self.base, self.pos, buf.len());
        let (Some(at), Some(end)) = (at, end) else {
            return Err(llext_loader::Error::UnexpectedEof {
                offset: self.len.into(),
            });
        };
        if end > u64::from(self.len) {
            return Err(llext_loader::Error::UnexpectedEof {
                offset: self.len.into(),
            });
        }
        read::read(self.flash, at, buf)
            .await
            .map_err(|e| llext_loader::Error::Io {
                kind: kind(&e),
                offset: self.pos.into(),
            })?;
        self.digest.update(buf);
        self.pos += buf.len() as u32;
        Ok(())
    }

    async fn seek_to(&mut self, offset: u64) -> Result<(), llext_loader::Error> {
        if offset < u64::from(self.pos) {
            return Err(llext_loader::Error::NotForward {
                offset,
                position: self.pos.into(),
            });
        }
        let mut scratch = [0u8; 256];
        while u64::from(self.pos) < offset {
            let n = (offset - u64::from(self.pos)).min(scratch.len() as u64) as usize;
            self.read_exact(&mut scratch[..n]).await?;
        }
        Ok(())
    }

    fn position(&self) -> u64 {
        self.pos.into()
    }

    type Names = llext_loader::source::Streamed;
}
