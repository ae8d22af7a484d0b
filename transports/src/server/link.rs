//! A link seen as frames: reads bytes into a [`FrameDecoder`], writes encoded frames.

use embedded_io_async::{ErrorKind, Read, Write};

use super::failure::Failure;
use crate::protocol::{Enc, FrameDecoder, Response, frame_raw, max_frame_len};

/// What the device sends: errors are its own records, sent as they are.
pub(crate) type Reply<'a, 'f> = Response<'a, &'f Failure>;

/// Largest serialised message the device sends (log lines and error messages are cut to fit).
pub(crate) const TX_RAW: usize = 320;
const TX_FRAME: usize = max_frame_len(TX_RAW);

/// Why the link stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// The other end closed the link (a read returned 0 bytes).
    Closed,
    /// A read or write failed.
    Io(ErrorKind),
    /// No request arrived for the server's idle timeout.
    Idle,
}

impl core::fmt::Display for LinkError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LinkError::Closed => f.write_str("the link was closed"),
            LinkError::Io(k) => write!(f, "link error: {k:?}"),
            LinkError::Idle => f.write_str("no request for the idle timeout: link ended"),
        }
    }
}

impl core::error::Error for LinkError {}

fn io<E: embedded_io_async::Error>(e: E) -> LinkError {
    LinkError::Io(e.kind())
}

/// The transmit buffer: one message is encoded into it, then written.
pub(crate) struct Tx {
    scratch: [u8; TX_RAW],
    frame: [u8; TX_FRAME],
}

impl Tx {
    /// Encodes `(seq, msg)` as a frame; returns its length (0: nothing to send).
    #[inline(never)]
    pub fn put(&mut self, seq: u16, msg: &Reply<'_, '_>) -> usize {
        // Every message the server builds fits TX_RAW (texts are cut to fit); one that does not
        // is a bug, dropped rather than sent half.
        let mut e = Enc::new(&mut self.scratch);
        msg.encode(seq, &mut e);
        let framed = e
            .finish()
            .and_then(|n| frame_raw(n, &mut self.scratch, &mut self.frame).ok());
        framed.unwrap_or_else(|| {
            debug_assert!(false, "device message larger than TX_RAW");
            0
        })
    }
}

/// Frames over a byte link, with receive buffers of `F` bytes (the largest frame accepted).
pub(crate) struct FrameLink<L, const F: usize> {
    link: L,
    dec: FrameDecoder<F>,
    inbuf: [u8; 256],
    in_pos: usize,
    in_len: usize,
    tx: Tx,
}

impl<L: Read + Write, const F: usize> FrameLink<L, F> {
    pub fn new(link: L) -> Self {
        Self {
            link,
            dec: FrameDecoder::new(),
            inbuf: [0; 256],
            in_pos: 0,
            in_len: 0,
            tx: Tx {
                scratch: [0; TX_RAW],
                frame: [0; TX_FRAME],
            },
        }
    }

    /// Waits for the next good frame; then [`FrameLink::frame`] holds its content.
    ///
    /// Cancel-safe when the link's `read` is: every byte read is kept in `self`.
    pub async fn next_frame(&mut self) -> Result<(), LinkError> {
        loop {
            if self.in_pos < self.in_len {
                let (used, done) = self.dec.feed(&self.inbuf[self.in_pos..self.in_len]);
                self.in_pos += used;
                if done {
                    return Ok(());
                }
            }
            let n = self.link.read(&mut self.inbuf).await.map_err(io)?;
            if n == 0 {
                return Err(LinkError::Closed);
            }
            self.in_pos = 0;
            self.in_len = n;
        }
    }

    /// The content of the last frame [`FrameLink::next_frame`] returned.
    pub fn frame(&self) -> &[u8] {
        self.dec.frame()
    }

    /// The CRC-32 of the last frame [`FrameLink::next_frame`] returned (sequence number and
    /// message): what tells a repeated request from another one under the same number.
    pub fn frame_crc(&self) -> u32 {
        self.dec.frame_crc()
    }

    /// Frames dropped for a bad CRC or encoding.
    pub fn bad_frames(&self) -> u32 {
        self.dec.bad_frames()
    }

    /// The transmit buffer, to encode a message into ([`FrameLink::write_tx`] sends it).
    pub fn tx(&mut self) -> &mut Tx {
        &mut self.tx
    }

    /// Sends one message as a frame and flushes (ending a USB transfer). The message is encoded
    /// before the returned future first runs, so that future holds only the link.
    pub fn send(
        &mut self,
        seq: u16,
        msg: &Reply<'_, '_>,
    ) -> impl core::future::Future<Output = Result<(), LinkError>> + use<'_, L, F> {
        let n = self.tx.put(seq, msg);
        self.write_tx(n)
    }

    /// Writes the first `n` bytes of the transmit buffer and flushes.
    pub async fn write_tx(&mut self, n: usize) -> Result<(), LinkError> {
        if n > 0 {
            self.link.write_all(&self.tx.frame[..n]).await.map_err(io)?;
            self.link.flush().await.map_err(io)?;
        }
        Ok(())
    }
}
