//! What the client returns: owned copies of the device's answers, serialisable for `--json`.

use std::string::String;
use std::vec::Vec;

use serde::Serialize;

use crate::protocol::{DeviceHello, RegionInfo};

/// The device's answer to `Hello`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceInfo {
    /// Protocol version.
    pub version: u16,
    /// Device name.
    pub name: String,
    /// Architecture (`arm`, `riscv32`, `riscv64`, `x86_64`).
    pub arch: String,
    /// Float ABI, where the architecture has a choice.
    pub float_abi: Option<String>,
    /// Largest frame the device accepts.
    pub max_frame: u32,
    /// Push bytes the host may have in flight.
    pub window: u32,
    /// Free extension memory, when known.
    pub free_memory: Option<u64>,
    /// Extension memory in use.
    pub used_memory: u64,
    /// Identifier of the firmware's export table (`ExportTable::id`).
    pub exports_id: u32,
    /// Number of firmware exports.
    pub exports: u32,
    /// Extension slots.
    pub max_extensions: u8,
    /// The device drops a push that stalls this long.
    pub push_timeout_ms: u32,
}

impl From<&DeviceHello<'_>> for DeviceInfo {
    fn from(h: &DeviceHello<'_>) -> Self {
        Self {
            version: h.version,
            name: h.name.into(),
            arch: h.arch.into(),
            float_abi: h.float_abi.map(Into::into),
            max_frame: h.max_frame,
            window: h.window,
            free_memory: h.free_memory,
            used_memory: h.used_memory,
            exports_id: h.exports_id,
            exports: h.exports,
            max_extensions: h.max_extensions,
            push_timeout_ms: h.push_timeout_ms,
        }
    }
}

/// The device's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Device name.
    pub name: String,
    /// Architecture.
    pub arch: String,
    /// Extension memory in use.
    pub used_memory: u64,
    /// Free extension memory, when known.
    pub free_memory: Option<u64>,
    /// Extension slots.
    pub max_extensions: u8,
    /// Pushes that loaded since the device started.
    pub pushes_ok: u32,
    /// Pushes that failed since the device started.
    pub pushes_failed: u32,
    /// Frames the device dropped for a bad CRC or encoding.
    pub bad_frames: u32,
    /// Loaded extensions.
    pub extensions: Vec<ExtensionStatus>,
}

/// One loaded extension.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExtensionStatus {
    /// Its name.
    pub name: String,
    /// Its registry slot.
    pub slot: u8,
    /// `ready`: loaded, constructors run.
    pub state: String,
    /// Loads not yet unloaded.
    pub use_count: u16,
    /// Bytes of its image.
    pub image_bytes: u32,
    /// Names of the extensions it uses.
    pub dependencies: Vec<String>,
    /// Its regions.
    pub regions: Vec<Region>,
}

/// One region of a loaded extension.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Region {
    /// `text`, `rodata`, `data`, `bss` or `trampoline`.
    pub kind: String,
    /// Run-time address.
    pub addr: u64,
    /// Size in bytes.
    pub size: u32,
}

impl From<&RegionInfo> for Region {
    fn from(r: &RegionInfo) -> Self {
        Self {
            kind: r.kind.name().into(),
            addr: r.addr,
            size: r.size,
        }
    }
}

/// One firmware export.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Export {
    /// Symbol name.
    pub name: String,
    /// Address.
    pub addr: u64,
}

/// How far a push is, for progress bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Bytes the device has consumed.
    pub acked: u64,
    /// Bytes sent at least once.
    pub sent: u64,
    /// Bytes in the file.
    pub total: u64,
}

/// A completed push.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Pushed {
    /// The registry slot.
    pub slot: u8,
    /// Bytes of the loaded image.
    pub image_bytes: u32,
    /// Relocations applied.
    pub relocations: u32,
    /// Symbols in the file.
    pub symbols: u32,
    /// Bytes in the file.
    pub file_bytes: u64,
    /// Bytes sent again after losses.
    pub resent_bytes: u64,
    /// Time from `PushBegin` to `PushDone`, in microseconds.
    pub micros: u64,
}
