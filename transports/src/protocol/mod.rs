//! The wire protocol shared by the device and the host: frames, messages, error codes.
//!
//! A frame is `0x00`, then the COBS encoding of a postcard-serialised `(seq, message)` followed by
//! its CRC-32, then `0x00`. See `docs/PROTOCOL.md` for the format and every message.

mod cause;
mod decode;
mod encode;
mod error;
mod frame;
mod message;
#[cfg(feature = "std")]
mod render;
mod words;

pub use cause::{Cause, ErrorReply, LoadError, RefusalCause};
pub use decode::seq_of;
pub use encode::Enc;
pub use error::ErrorCode;
pub use frame::{
    CRC32, CrcTable, FrameDecoder, FrameError, decode, encode, frame_raw, max_frame_len,
};
pub use message::{
    BootEventInfo, BootEventKind, DeviceHello, ExtState, ExtensionInfo, FaultKind, FaultReport,
    ImageInfo, ImageState, InstallInfo, Interrupted, ListHead, Loaded, RegionInfo, RegionKind,
    Request, Response, STORED_DEPS, SectionInfo, SectionsEnd, StatusHead, StoredEntry, StoredInfo,
    TRUST_KEYS, TrustInfo,
};
pub use words::Words;

/// The protocol version this code speaks; a host and a device must agree on it.
pub const VERSION: u16 = 2;

/// The encoded length of a frame carrying a `Data` message with `len` bytes, at most
/// (delimiters, COBS overhead, sequence number, tag, offset, length and CRC included).
pub const fn data_frame_len(len: usize) -> usize {
    // seq (3) + tag (1) + offset (5) + length (3) + bytes.
    max_frame_len(3 + 1 + 5 + 3 + len)
}

/// The most `Data` bytes one frame may carry when frames are at most `max_frame` bytes long.
pub const fn max_data_payload(max_frame: usize) -> usize {
    let mut len = max_frame;
    while len > 0 && data_frame_len(len) > max_frame {
        len -= 1;
    }
    len
}
