//! The messages: requests from the host, responses and log lines from the device.
//!
//! Variant order is the wire tag (postcard encodes it as a varint): new messages are only ever
//! added at the end, and `Hello` stays variant 0 with the version as its first field.

use serde::{Deserialize, Serialize};

use super::ErrorCode;

/// What the host asks. Sent as `(seq, Request)`; the device answers with the same `seq`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request<'a> {
    /// Who are you? Answered by [`Response::Hello`] whatever `version` is.
    Hello {
        /// The host's protocol version.
        version: u16,
    },
    /// Device state: answered by [`Response::Status`] then one [`Response::Extension`] each.
    Status,
    /// Start (or, with the same `push_id`, resume) a push of a stream-ordered ELF.
    PushBegin {
        /// Chosen by the host, new for every push; repeating it resumes or re-asks the result.
        push_id: u32,
        /// The name the extension is registered under.
        name: &'a str,
        /// Bytes in the file.
        total_len: u32,
        /// CRC-32 (ISO-HDLC) of the whole file.
        crc32: u32,
    },
    /// File bytes `offset..offset + bytes.len()` of the current push.
    Data {
        /// Offset of the first byte in the file.
        offset: u32,
        /// The bytes.
        bytes: &'a [u8],
    },
    /// Call `int sym(void)` exported by extension `ext`.
    Call {
        /// Extension name.
        ext: &'a str,
        /// Symbol name.
        sym: &'a str,
    },
    /// Unload an extension (its destructors run first).
    Unload {
        /// Extension name.
        name: &'a str,
    },
    /// Up to `max` of the firmware's exports from index `start`: answered by that many
    /// [`Response::Export`] then [`Response::ExportsEnd`].
    Exports {
        /// First index.
        start: u32,
        /// Most entries in this page.
        max: u32,
    },
}

/// What the device sends: answers (with the request's `seq`) and log lines (`seq` 0).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response<'a> {
    /// The handshake answer.
    #[serde(borrow)]
    Hello(DeviceHello<'a>),
    /// Push flow control: the device has consumed every byte before `next_offset`.
    Ack {
        /// The push this is about.
        push_id: u32,
        /// The next offset the device needs; the host sends from here when `resend` is set.
        next_offset: u32,
        /// Bytes the host may have in flight beyond `next_offset`.
        window: u32,
        /// The device saw a gap or heard nothing for a while: resend from `next_offset`.
        resend: bool,
    },
    /// The push ended: loaded, or why not.
    PushDone {
        /// The push this is about.
        push_id: u32,
        /// The loaded extension, or the error.
        #[serde(borrow)]
        result: Result<Loaded, ErrorReply<'a>>,
    },
    /// The head of a status answer.
    #[serde(borrow)]
    Status(StatusHead<'a>),
    /// One loaded extension, in a status answer.
    #[serde(borrow)]
    Extension(ExtensionInfo<'a>),
    /// What `int sym(void)` returned.
    CallResult {
        /// The value.
        value: i32,
    },
    /// The extension was unloaded (or its use count dropped).
    Unloaded {
        /// Loads left (0: it is gone).
        use_count: u16,
    },
    /// One firmware export.
    Export {
        /// Its index in the table.
        index: u32,
        /// Its name.
        name: &'a str,
        /// Its address.
        addr: u64,
    },
    /// The end of a page of exports.
    ExportsEnd {
        /// Exports in the table.
        total: u32,
    },
    /// A device log line (what extensions print, firmware messages).
    Log {
        /// The text, without the line end.
        line: &'a str,
    },
    /// The request failed.
    #[serde(borrow)]
    Error(ErrorReply<'a>),
}

/// The device's answer to `Hello`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceHello<'a> {
    /// The device's protocol version (always the first field).
    pub version: u16,
    /// The device's name.
    pub name: &'a str,
    /// Its architecture (`llext_loader::arch::Arch::name`): `arm`, `riscv32`, `x86_64`...
    pub arch: &'a str,
    /// Its float ABI (`soft`, `hard`; RISC-V `single`, `double`), `None` where there is no choice.
    pub float_abi: Option<&'a str>,
    /// The largest frame it accepts, delimiters included.
    pub max_frame: u32,
    /// Bytes of push data the host may have in flight.
    pub window: u32,
    /// Extension memory free, when the device knows.
    pub free_memory: Option<u64>,
    /// Extension memory in use.
    pub used_memory: u64,
    /// `ExportTable::id()` of the firmware's exports.
    pub exports_id: u32,
    /// Number of firmware exports.
    pub exports: u32,
    /// Extension slots.
    pub max_extensions: u8,
    /// A push with no data for this long is abandoned.
    pub push_timeout_ms: u32,
}

/// The head of a status answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusHead<'a> {
    /// The device's name.
    pub name: &'a str,
    /// Its architecture.
    pub arch: &'a str,
    /// Extension memory in use.
    pub used_memory: u64,
    /// Extension memory free, when known.
    pub free_memory: Option<u64>,
    /// Loaded extensions: this many [`Response::Extension`] follow.
    pub extensions: u8,
    /// Extension slots.
    pub max_extensions: u8,
    /// Pushes that loaded.
    pub pushes_ok: u32,
    /// Pushes that failed.
    pub pushes_failed: u32,
    /// Frames dropped for a bad CRC or encoding.
    pub bad_frames: u32,
}

/// What a loaded extension looks like.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionInfo<'a> {
    /// Its position in this status answer (0-based).
    pub index: u8,
    /// Its registry slot.
    pub slot: u8,
    /// Its name.
    pub name: &'a str,
    /// Its state.
    pub state: ExtState,
    /// Loads not yet unloaded.
    pub use_count: u16,
    /// Slots of the extensions it uses, as a bit mask.
    pub deps: u32,
    /// Bytes of its image.
    pub image_bytes: u32,
    /// Its regions (text, rodata, data, bss, trampolines), `None` where empty.
    pub regions: [Option<RegionInfo>; 5],
}

/// The state of a loaded extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExtState {
    /// Loaded and its constructors ran: it can be called.
    Ready,
}

/// One region of a loaded extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionInfo {
    /// What it holds.
    pub kind: RegionKind,
    /// Its run-time address.
    pub addr: u64,
    /// Its size in bytes.
    pub size: u32,
}

/// What a region holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegionKind {
    /// Code.
    Text,
    /// Read-only data.
    Rodata,
    /// Initialised data.
    Data,
    /// Zero-initialised data.
    Bss,
    /// Loader-made veneers and GOT entries.
    Trampoline,
}

impl RegionKind {
    /// The kind of a loader region.
    pub fn from_mem(kind: llext_loader::memory::MemKind) -> Self {
        use llext_loader::memory::MemKind as K;
        match kind {
            K::Text => RegionKind::Text,
            K::Rodata => RegionKind::Rodata,
            K::Data => RegionKind::Data,
            K::Bss => RegionKind::Bss,
            K::Trampoline | K::Metadata => RegionKind::Trampoline,
        }
    }

    /// Its lower-case name (`text`, `rodata`...).
    pub fn name(self) -> &'static str {
        match self {
            RegionKind::Text => "text",
            RegionKind::Rodata => "rodata",
            RegionKind::Data => "data",
            RegionKind::Bss => "bss",
            RegionKind::Trampoline => "trampoline",
        }
    }
}

/// A successful push.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loaded {
    /// The registry slot.
    pub slot: u8,
    /// Bytes of the image.
    pub image_bytes: u32,
    /// Relocations applied.
    pub relocations: u32,
    /// Symbols in the file.
    pub symbols: u32,
}

/// A failed request: a code and a message to show as it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReply<'a> {
    /// What kind of failure.
    pub code: ErrorCode,
    /// What happened and what to do, in words.
    pub message: &'a str,
}
