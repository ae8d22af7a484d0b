//! Frames: `0x00`, COBS(postcard(`(seq, message)`) ++ CRC-32 LE), `0x00`; decoding resynchronises
//! at every zero byte, so garbage costs at most the frame it touches.

#[cfg(not(feature = "storage"))]
use crc::{CRC_32_ISO_HDLC, Crc};
use serde::{Deserialize, Serialize};

/// The CRC used in frames and for whole pushed files (CRC-32/ISO-HDLC, as zlib's `crc32`).
#[cfg(not(feature = "storage"))]
pub static CRC32: Crc<u32, CrcTable> = Crc::<u32, CrcTable>::new(&CRC_32_ISO_HDLC);
/// The CRC used in frames and for whole pushed files (CRC-32/ISO-HDLC, as zlib's `crc32`): with
/// flash storage, the store's own (one 1 KiB table in the firmware, not two).
#[cfg(feature = "storage")]
pub use llext_storage::CRC32;

/// The table [`CRC32`] uses.
#[cfg(not(feature = "storage"))]
pub type CrcTable = crc::Table<1>;
/// The table [`CRC32`] uses.
#[cfg(feature = "storage")]
pub use llext_storage::CrcTable;

/// Why a frame could not be made or read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// The message does not fit the buffer.
    TooLarge,
    /// The frame's content is not a message this side understands.
    Malformed,
}

impl core::fmt::Display for FrameError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            FrameError::TooLarge => "message too large for the frame buffer",
            FrameError::Malformed => "frame content is not a valid message",
        })
    }
}

impl core::error::Error for FrameError {}

/// The encoded size of a frame whose serialised message is `raw` bytes long, at most.
pub const fn max_frame_len(raw: usize) -> usize {
    1 + corncobs::max_encoded_len(raw + 4)
}

/// Encodes `(seq, msg)` as one frame into `out`, using `scratch` for the raw bytes; returns the
/// frame's length.
pub fn encode<T: Serialize>(
    seq: u16,
    msg: &T,
    scratch: &mut [u8],
    out: &mut [u8],
) -> Result<usize, FrameError> {
    let n = postcard::to_slice(&(seq, msg), scratch)
        .map_err(|_| FrameError::TooLarge)?
        .len();
    frame_raw(n, scratch, out)
}

/// Makes a frame in `out` of the first `n` bytes of `scratch`, a serialised `(seq, message)`
/// (the device's own encoder, [`super::Enc`], writes them); returns the frame's length.
pub fn frame_raw(n: usize, scratch: &mut [u8], out: &mut [u8]) -> Result<usize, FrameError> {
    let crc = CRC32.checksum(&scratch[..n]);
    scratch
        .get_mut(n..n + 4)
        .ok_or(FrameError::TooLarge)?
        .copy_from_slice(&crc.to_le_bytes());
    let raw = &scratch[..n + 4];
    if out.len() < max_frame_len(n) {
        return Err(FrameError::TooLarge);
    }
    out[0] = 0;
    Ok(1 + corncobs::encode_buf(raw, &mut out[1..]))
}

/// Decodes a frame's content (from [`FrameDecoder::frame`]) as `(seq, message)`.
pub fn decode<'a, T: Deserialize<'a>>(content: &'a [u8]) -> Result<(u16, T), FrameError> {
    postcard::from_bytes(content).map_err(|_| FrameError::Malformed)
}

/// Collects bytes into frames of at most `N` encoded bytes, checking each frame's CRC.
///
/// Bytes of an overlong, badly encoded or damaged frame are dropped up to the next zero byte and
/// counted in [`FrameDecoder::bad_frames`]; empty frames (two zeros in a row) are skipped.
pub struct FrameDecoder<const N: usize> {
    buf: [u8; N],
    len: usize,
    overflow: bool,
    frame_len: usize,
    bad: u32,
}

impl<const N: usize> Default for FrameDecoder<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> FrameDecoder<N> {
    /// An empty decoder.
    pub const fn new() -> Self {
        Self {
            buf: [0; N],
            len: 0,
            overflow: false,
            frame_len: 0,
            bad: 0,
        }
    }

    /// Takes bytes from `input` until a frame completes. Returns how many bytes were used and
    /// whether [`FrameDecoder::frame`] now holds a checked frame (valid until the next `feed`).
    pub fn feed(&mut self, input: &[u8]) -> (usize, bool) {
        self.frame_len = 0;
        for (i, &b) in input.iter().enumerate() {
            if b != 0 {
                if self.len + 1 < N {
                    self.buf[self.len] = b;
                    self.len += 1;
                } else {
                    self.overflow = true;
                }
                continue;
            }
            let (len, overflow) = (self.len, self.overflow);
            self.len = 0;
            self.overflow = false;
            if overflow {
                self.bad += 1;
                continue;
            }
            if len == 0 {
                continue;
            }
            self.buf[len] = 0;
            match corncobs::decode_in_place(&mut self.buf[..=len]) {
                Ok(m) if m > 4 => {
                    let body = m - 4;
                    let crc = u32::from_le_bytes([
                        self.buf[body],
                        self.buf[body + 1],
                        self.buf[body + 2],
                        self.buf[body + 3],
                    ]);
                    if CRC32.checksum(&self.buf[..body]) == crc {
                        self.frame_len = body;
                        return (i + 1, true);
                    }
                    self.bad += 1;
                }
                _ => self.bad += 1,
            }
        }
        (input.len(), false)
    }

    /// The content of the frame the last [`FrameDecoder::feed`] completed (empty otherwise).
    pub fn frame(&self) -> &[u8] {
        &self.buf[..self.frame_len]
    }

    /// The CRC-32 that checked the frame of [`FrameDecoder::frame`]: it covers the sequence
    /// number and the whole message, so two requests under one sequence number differ in it.
    pub fn frame_crc(&self) -> u32 {
        let at = self.frame_len;
        match self.buf.get(at..at + 4) {
            Some(b) if at > 0 => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            _ => 0,
        }
    }

    /// Frames dropped so far for a bad CRC, a bad encoding or overflow.
    pub fn bad_frames(&self) -> u32 {
        self.bad
    }

    /// Drops a partly received frame (after a link reset).
    pub fn clear(&mut self) {
        self.len = 0;
        self.overflow = false;
        self.frame_len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Request, Response};

    fn frame_of(seq: u16, r: &Request<'_>) -> ([u8; 256], usize) {
        let (mut s, mut o) = ([0u8; 256], [0u8; 256]);
        let n = encode(seq, r, &mut s, &mut o).unwrap();
        (o, n)
    }

    fn all_frames(dec: &mut FrameDecoder<256>, mut input: &[u8]) -> usize {
        let mut count = 0;
        while !input.is_empty() {
            let (used, done) = dec.feed(input);
            if done {
                let (_, _m): (u16, Request<'_>) = decode(dec.frame()).unwrap();
                count += 1;
            }
            input = &input[used..];
        }
        count
    }

    #[test]
    fn a_frame_round_trips() {
        let req = Request::Data {
            offset: 77,
            bytes: &[0, 1, 2, 0, 0, 255],
        };
        let (f, n) = frame_of(9, &req);
        assert_eq!(f[0], 0);
        assert_eq!(f[n - 1], 0);
        assert!(!f[1..n - 1].contains(&0));
        let mut dec = FrameDecoder::<256>::new();
        let (used, done) = dec.feed(&f[..n]);
        assert!(done);
        assert_eq!(used, n);
        let (seq, back): (u16, Request<'_>) = decode(dec.frame()).unwrap();
        assert_eq!((seq, back), (9, req));
    }

    #[test]
    fn resynchronises_after_garbage_and_drops_damaged_frames() {
        let (f, n) = frame_of(1, &Request::Status);
        let mut stream = [0u8; 1024];
        let mut len = 0;
        let mut put = |b: &[u8]| {
            stream[len..len + b.len()].copy_from_slice(b);
            len += b.len();
        };
        put(b"garbage\x01\x02\x03");
        put(&f[..n]);
        let mut damaged = f;
        damaged[3] ^= 0x10;
        put(&damaged[..n]);
        put(&[0x55; 40]);
        put(&f[..n]);
        let mut dec = FrameDecoder::<256>::new();
        assert_eq!(all_frames(&mut dec, &stream[..len]), 2);
        // The garbage before each good frame counts as one bad frame too.
        assert_eq!(dec.bad_frames(), 3);
    }

    #[test]
    fn overlong_frames_are_dropped_whole() {
        let mut dec = FrameDecoder::<16>::new();
        let mut input = [7u8; 40];
        input[39] = 0;
        assert_eq!(dec.feed(&input), (40, false));
        assert_eq!(dec.bad_frames(), 1);
    }

    #[test]
    fn responses_with_borrowed_fields_round_trip() {
        let r = Response::PushDone {
            push_id: 3,
            result: Err(crate::protocol::ErrorReply {
                code: crate::protocol::ErrorCode::MissingSymbols,
                cause: crate::protocol::Cause::MissingSymbols {
                    count: 1,
                    names: "foo",
                },
            }),
        };
        let (mut s, mut o) = ([0u8; 256], [0u8; 256]);
        let n = encode(0, &r, &mut s, &mut o).unwrap();
        let mut dec = FrameDecoder::<256>::new();
        assert!(dec.feed(&o[..n]).1);
        let (_, back): (u16, Response<'_>) = decode(dec.frame()).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn crc_matches_the_standard_check_value() {
        assert_eq!(CRC32.checksum(b"123456789"), 0xCBF4_3926);
    }
}
