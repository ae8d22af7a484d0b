//! What the client returns: owned copies of the device's answers, serialisable for `--json`.

use std::string::String;
use std::vec::Vec;

use serde::Serialize;

use std::string::ToString;

use crate::protocol::{
    BootEventInfo, BootEventKind, DeviceHello, ImageInfo, RegionInfo, StoredEntry,
};

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
    /// The device stops extension code after this long by default (0: it has no time limit).
    pub time_limit_ms: u32,
}

impl From<&DeviceHello<'_>> for DeviceInfo {
    fn from(h: &DeviceHello<'_>) -> Self {
        Self {
            version: h.version,
            name: super::device_text(h.name),
            arch: super::device_text(h.arch),
            float_abi: h.float_abi.map(super::device_text),
            max_frame: h.max_frame,
            window: h.window,
            free_memory: h.free_memory,
            used_memory: h.used_memory,
            exports_id: h.exports_id,
            exports: h.exports,
            max_extensions: h.max_extensions,
            push_timeout_ms: h.push_timeout_ms,
            time_limit_ms: h.time_limit_ms,
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
    /// The device's signature policy.
    pub trust: Trust,
    /// Loaded extensions.
    pub extensions: Vec<ExtensionStatus>,
}

/// What a device trusts (signed extensions).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Trust {
    /// Unsigned pushes are accepted.
    pub unsigned_pushes: bool,
    /// Unsigned installs are accepted.
    pub unsigned_installs: bool,
    /// Installs may replace a signed version with an older one.
    pub allow_rollback: bool,
    /// Boot loading checks signatures again.
    pub verify_at_boot: bool,
    /// How many keys it trusts.
    pub keys: u8,
    /// The ids of (at most the first four of) those keys, 16 hex digits each.
    pub key_ids: Vec<String>,
}

impl From<&crate::protocol::TrustInfo> for Trust {
    fn from(t: &crate::protocol::TrustInfo) -> Self {
        let hex = |id: &[u8; 8]| id.iter().map(|b| std::format!("{b:02x}")).collect();
        Self {
            unsigned_pushes: t.unsigned_pushes,
            unsigned_installs: t.unsigned_installs,
            allow_rollback: t.allow_rollback,
            verify_at_boot: t.verify_at_boot,
            keys: t.keys,
            key_ids: t.key_ids.iter().flatten().map(hex).collect(),
        }
    }
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
    /// The fault of a `faulted` extension.
    pub fault: Option<crate::protocol::FaultReport>,
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

/// A completed install.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Installed {
    /// The version now active in flash.
    pub version: u32,
    /// Its flash slot.
    pub slot: u16,
    /// Its state (`pending`: tried at the next boot).
    pub state: String,
    /// The same image was already installed: nothing was written but the flags.
    pub unchanged: bool,
    /// It loads at boot.
    pub boot: bool,
    /// The version kept to roll back to.
    pub previous: Option<u32>,
    /// Bytes in the file.
    pub file_bytes: u64,
    /// Where the device said to start: more than 0 when flash already held the start of this
    /// image (an install cut off earlier), the whole file when it held all of it.
    pub resumed_from: u64,
    /// Data bytes sent in all (resends included).
    pub sent_bytes: u64,
    /// Bytes sent again after losses.
    pub resent_bytes: u64,
    /// Time from the first `InstallBegin` to `InstallDone`, in microseconds.
    pub micros: u64,
}

/// What `List` answered: the device's flash, its extensions and the boot report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Listing {
    /// The device keeps extensions in flash.
    pub storage: bool,
    /// Flash slots.
    pub slots: u16,
    /// Slots free.
    pub free_slots: u16,
    /// Bytes per slot (the largest extension it can install).
    pub slot_size: u32,
    /// An install cut off before it finished, which installing the same file resumes.
    pub interrupted: Option<InterruptedInstall>,
    /// Installed and loaded extensions.
    pub extensions: Vec<ListedExtension>,
    /// What happened at the last boot.
    pub boot_report: Vec<BootReportEvent>,
}

/// An install cut off before it finished.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InterruptedInstall {
    /// The extension.
    pub name: String,
    /// Bytes in its file.
    pub total_len: u32,
    /// CRC-32 of its file.
    pub crc32: u32,
    /// Where it resumes.
    pub offset: u32,
}

/// One extension: installed, loaded, or both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListedExtension {
    /// Its name.
    pub name: String,
    /// It is loaded now.
    pub loaded: bool,
    /// What flash holds of it (`None`: loaded by a push, not installed).
    pub stored: Option<StoredExtension>,
}

/// An extension in flash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredExtension {
    /// It loads at boot.
    pub boot: bool,
    /// The version that loads.
    pub active: StoredImage,
    /// The version kept to roll back to.
    pub previous: Option<StoredImage>,
    /// Extensions it is loaded after.
    pub dependencies: Vec<String>,
}

/// One version in flash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredImage {
    /// Its version number.
    pub version: u32,
    /// `pending`, `trying`, `confirmed` or `failed`.
    pub state: String,
    /// Its flash slot.
    pub slot: u16,
    /// Bytes.
    pub len: u32,
    /// CRC-32, as installed.
    pub crc32: u32,
    /// Linked to execute in place from flash.
    pub in_place: bool,
}

/// One event of the boot report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BootReportEvent {
    /// The extension.
    pub name: String,
    /// `loaded`, `confirmed`, `failed`, `rolled-back`, `skipped` or `missing-symbol`.
    pub event: String,
    /// The version it happened to (0 when none).
    pub version: u32,
    /// For `rolled-back`, the version now active.
    pub to_version: Option<u32>,
    /// Why (failures, skips), or the missing symbol.
    pub reason: Option<String>,
    /// The event in words.
    pub text: String,
}

impl From<&ImageInfo> for StoredImage {
    fn from(i: &ImageInfo) -> Self {
        Self {
            version: i.version,
            state: i.state.name().into(),
            slot: i.slot,
            len: i.len,
            crc32: i.crc32,
            in_place: i.in_place,
        }
    }
}

impl From<&StoredEntry<'_>> for ListedExtension {
    fn from(e: &StoredEntry<'_>) -> Self {
        Self {
            name: super::device_text(e.name),
            loaded: e.loaded,
            stored: e.stored.as_ref().map(|s| StoredExtension {
                boot: s.boot,
                active: (&s.active).into(),
                previous: s.previous.as_ref().map(Into::into),
                dependencies: s
                    .deps
                    .iter()
                    .flatten()
                    .map(|d| super::device_text(d))
                    .collect(),
            }),
        }
    }
}

impl From<&BootEventInfo<'_>> for BootReportEvent {
    fn from(e: &BootEventInfo<'_>) -> Self {
        Self {
            name: super::device_text(e.name),
            event: e.kind.name().into(),
            version: e.version,
            to_version: (e.kind == BootEventKind::RolledBack).then_some(e.to_version),
            reason: (!e.reason.is_empty()).then(|| super::device_text(e.reason)),
            text: e.to_string(),
        }
    }
}
