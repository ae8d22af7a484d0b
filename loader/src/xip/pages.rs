//! The link's flash ([`LinkIo`]: the installed file read, the image programmed) and the image
//! on its way there: its parts gathered, in address order, into chunks of [`CHUNK`] bytes.

use super::image::Header;
use crate::Error;

/// Bytes the link hands to [`LinkIo::program`] at a time (the last chunk may be shorter).
pub const CHUNK: usize = 256;

/// What a link reads and writes: the installed file (a device's staging slot, read at any
/// offset) and the image (a device's in-place slot; a buffer on a host checking the link).
/// One object, as both are often the same flash.
#[allow(async_fn_in_trait)]
pub trait LinkIo {
    /// Fills `buf` with the installed file's bytes from `offset`.
    async fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), Error>;

    /// LinkIos `bytes` at `offset` of the image. Offsets only increase, each a multiple of
    /// [`CHUNK`], and every call but the image's last gives [`CHUNK`] bytes; the first starts
    /// with the header, which `header` also gives parsed. An error ends the link.
    async fn program(&mut self, offset: u32, bytes: &[u8], header: &Header) -> Result<(), Error>;
}

/// Gathers parts of the image into chunks (zeros between parts).
pub(super) struct Pages {
    header: Header,
    buf: [u8; CHUNK],
    /// The image offset of `buf[0]`.
    at: u32,
    /// Bytes in `buf`.
    len: usize,
}

impl Pages {
    /// Starts the image `header` describes (its header bytes are the first part).
    pub(super) async fn new<G: LinkIo>(io: &mut G, header: Header) -> Result<Self, Error> {
        let mut p = Pages {
            header,
            buf: [0; CHUNK],
            at: 0,
            len: 0,
        };
        p.put(io, 0, &header.to_bytes()).await?;
        Ok(p)
    }

    /// Appends `bytes` at image offset `offset`, at or after the end of what came before.
    pub(super) async fn put<G: LinkIo>(
        &mut self,
        io: &mut G,
        offset: u32,
        mut bytes: &[u8],
    ) -> Result<(), Error> {
        self.zeros_to(io, offset).await?;
        while !bytes.is_empty() {
            let n = (CHUNK - self.len).min(bytes.len());
            self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
            self.len += n;
            bytes = &bytes[n..];
            self.flush_full(io).await?;
        }
        Ok(())
    }

    /// Zeros up to image offset `offset`.
    async fn zeros_to<G: LinkIo>(&mut self, io: &mut G, offset: u32) -> Result<(), Error> {
        let end = self.at + self.len as u32;
        if offset < end || offset > self.header.len {
            return Err(Error::malformed(
                "execute-in-place image parts out of order",
                None,
                offset.into(),
            ));
        }
        let mut gap = (offset - end) as usize;
        while gap > 0 {
            let n = (CHUNK - self.len).min(gap);
            self.buf[self.len..self.len + n].fill(0);
            self.len += n;
            gap -= n;
            self.flush_full(io).await?;
        }
        Ok(())
    }

    async fn flush_full<G: LinkIo>(&mut self, io: &mut G) -> Result<(), Error> {
        if self.len == CHUNK {
            self.flush(io).await?;
        }
        Ok(())
    }

    async fn flush<G: LinkIo>(&mut self, io: &mut G) -> Result<(), Error> {
        let h = self.header;
        io.program(self.at, &self.buf[..self.len], &h).await?;
        self.at += self.len as u32;
        self.len = 0;
        Ok(())
    }

    /// Zeros to the image's end, and its last chunk.
    pub(super) async fn finish<G: LinkIo>(mut self, io: &mut G) -> Result<(), Error> {
        self.zeros_to(io, self.header.len).await?;
        if self.len > 0 {
            self.flush(io).await?;
        }
        Ok(())
    }
}
