//! The wire protocol shared by the device and the host: frames, messages, error codes.
//!
//! A frame is `0x00`, then the COBS encoding of a postcard-serialised `(seq, message)` followed by
//! its CRC-32, then `0x00`. See `docs/PROTOCOL.md` for the format and every message.

mod error;
mod frame;
mod message;

pub use error::ErrorCode;
pub use frame::{CRC32, FrameDecoder, FrameError, encode, max_frame_len};
pub use message::{
    DeviceHello, ErrorReply, ExtState, ExtensionInfo, Loaded, RegionInfo, RegionKind, Request,
    Response, StatusHead,
};

/// The protocol version this code speaks; a host and a device must agree on it.
pub const VERSION: u16 = 1;

/// Bytes a frame adds around a `Data` payload of up to 65,535 bytes, at most: delimiters,
/// COBS overhead for `len` bytes, sequence number, message tag, offset, length and CRC.
pub const fn data_overhead(len: usize) -> usize {
    // 2 delimiters + COBS (1 per 254) + seq (3) + tag (1) + offset (5) + len (3) + crc (4).
    2 + (len + 20).div_ceil(254) + 3 + 1 + 5 + 3 + 4
}
