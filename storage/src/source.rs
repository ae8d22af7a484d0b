//! Installed images as loader input: a seekable reader of a slot, and the forward-only load boot
//! uses, which checks the CRC in the same pass as the load.

use embedded_io_async::{ErrorKind, ErrorType, Read, Seek, SeekFrom};
use embedded_storage_async::nor_flash::{NorFlashError, ReadNorFlash};
use llext_loader::extension::Extension;
use llext_loader::load::{Need, Seeked, Streamed};
use llext_loader::memory::MemoryProvider;
use llext_loader::symbols::Resolve;
use llext_loader::{LoadParams, Registry, Report};

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

/// Loads the `len`-byte image at `base` as `name` through the loader's state machine, reading
/// flash forward once and feeding every byte into a CRC, so boot reads an image once: to load it
/// and to check it. The machine's needs are read straight into where they go (no copy); bytes
/// between needs only pass through the CRC. On success: the registry slot and the CRC of the
/// whole image (the bytes after the last need are read too). A load error (a flash read failing
/// during the load is `Error::Io`) has given back every byte the load took; the outer error is a
/// flash read failing after the load.
pub(crate) async fn load_streamed<
    F: ReadNorFlash,
    P: MemoryProvider,
    R: Resolve,
    const M: usize,
>(
    flash: &mut F,
    base: u32,
    len: u32,
    reg: &mut Registry<P, R, M>,
    name: &str,
    params: &LoadParams,
    report: &mut dyn FnMut(Report<'_>),
) -> Result<Result<(usize, u32), llext_loader::Error>, F::Error> {
    let mut digest = CRC32.digest();
    let mut pos = 0u32;
    let index = match reg.reuse(name) {
        Some(i) => i,
        None => {
            let loaded = feed(
                flash,
                base,
                len,
                reg,
                name,
                params,
                report,
                &mut digest,
                &mut pos,
            );
            match loaded.await.and_then(|ext| reg.insert(ext)) {
                Ok(i) => i,
                Err(e) => return Ok(Err(e)),
            }
        }
    };
    let at = base.saturating_add(pos);
    read::crc_range(flash, at, len.saturating_sub(pos), &mut digest).await?;
    Ok(Ok((index, digest.finalize())))
}

/// The load of [`load_streamed`]: each need read from flash into its place, `pos` the bytes
/// read so far, all of them fed into `digest`.
#[allow(clippy::too_many_arguments)]
async fn feed<F: ReadNorFlash, P: MemoryProvider, R: Resolve, const M: usize>(
    flash: &mut F,
    base: u32,
    len: u32,
    reg: &mut Registry<P, R, M>,
    name: &str,
    params: &LoadParams,
    report: &mut dyn FnMut(Report<'_>),
    digest: &mut Digest,
    pos: &mut u32,
) -> Result<Extension, llext_loader::Error> {
    let eof = llext_loader::Error::UnexpectedEof { offset: len.into() };
    let mut l = reg.loader::<Streamed>(name, params)?;
    let mut scratch = [0u8; 256];
    while let Need::Bytes { offset, len: n } = l.need() {
        let end = offset.checked_add(n as u64).ok_or(eof.clone())?;
        if end > u64::from(len) {
            return Err(eof);
        }
        // `offset` is not behind `pos`: a streamed load refuses to go back (stream order).
        while u64::from(*pos) < offset {
            let k = (offset - u64::from(*pos)).min(scratch.len() as u64) as usize;
            read_at(flash, base, *pos, &mut scratch[..k]).await?;
            digest.update(&scratch[..k]);
            *pos += k as u32;
        }
        let dst = l.buffer();
        read_at(flash, base, *pos, dst).await?;
        digest.update(dst);
        *pos += n as u32;
        l.filled(report)?;
    }
    l.finish()
}

/// Loads the `len`-byte image at `base` as `name` in any section order: each need of the
/// loader's state machine read from flash where it is, into its place. The same results and
/// errors as [`Registry::load`] over a [`SlotReader`] in a `SeekSource`, without their async
/// drivers.
pub(crate) async fn load_seeked<F: ReadNorFlash, P: MemoryProvider, R: Resolve, const M: usize>(
    flash: &mut F,
    base: u32,
    len: u32,
    reg: &mut Registry<P, R, M>,
    name: &str,
    params: &LoadParams,
    report: &mut dyn FnMut(Report<'_>),
) -> Result<usize, llext_loader::Error> {
    if let Some(i) = reg.reuse(name) {
        return Ok(i);
    }
    let mut l = reg.loader::<Seeked>(name, params)?;
    while let Need::Bytes { offset, .. } = l.need() {
        let pos = u32::try_from(offset).map_err(|_| llext_loader::Error::Io {
            kind: ErrorKind::InvalidInput,
            offset,
        })?;
        let buf = l.buffer();
        // Past the image's end reads nothing, as a slot reader's.
        let n = (len.saturating_sub(pos) as usize).min(buf.len());
        if n > 0 {
            read_at(flash, base, pos, &mut buf[..n]).await?;
        }
        if n < buf.len() {
            let offset = u64::from(pos) + n as u64;
            return Err(llext_loader::Error::UnexpectedEof { offset });
        }
        l.filled(report)?;
    }
    let ext = l.finish()?;
    reg.insert(ext)
}

/// Reads `buf` from `pos` of the image at `base`, a failure as the loader's I/O error.
async fn read_at<F: ReadNorFlash>(
    flash: &mut F,
    base: u32,
    pos: u32,
    buf: &mut [u8],
) -> Result<(), llext_loader::Error> {
    let io = |kind| llext_loader::Error::Io {
        kind,
        offset: pos.into(),
    };
    let at = flash_addr(base, pos, buf.len()).ok_or(io(ErrorKind::InvalidInput))?;
    read::read(flash, at, buf).await.map_err(|e| io(kind(&e)))
}
