//! The messages: requests from the host, responses and log lines from the device.
//!
//! Variant order is the wire tag (postcard encodes it as a varint): new messages are only ever
//! added at the end, and `Hello` stays variant 0 with the version as its first field.

use serde::{Deserialize, Serialize};

use super::ErrorReply;

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
        /// How long the call may run, in milliseconds, on a device that contains faults (0: the
        /// device's default; at most its maximum).
        time_limit_ms: u32,
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
    /// Start (or, with the same `push_id`, resume) an install into the device's flash. The
    /// device answers with an [`Response::Ack`] whose `next_offset` is where to send from (0,
    /// more when flash already holds the start of this image, `total_len` when it holds all
    /// of it); then [`Request::Data`] frames flow as in a push, and [`Response::InstallDone`]
    /// ends it.
    InstallBegin {
        /// Chosen by the host, new for every install; repeating it resumes or re-asks the result.
        push_id: u32,
        /// The extension's name in flash.
        name: &'a str,
        /// Bytes in the (packed) file.
        total_len: u32,
        /// CRC-32 (ISO-HDLC) of the whole file.
        crc32: u32,
        /// Load it at boot.
        boot: bool,
        /// Its version; `None` counts up from the installed one.
        version: Option<u32>,
        /// Link it on the device to execute in place from flash (text and read-only data in
        /// flash, only data and bss in RAM); refused by a device without memory-mapped flash.
        xip: bool,
    },
    /// What is installed in flash and what is loaded, and the boot report: answered by
    /// [`Response::ListHead`], then one [`Response::Stored`] each, then one
    /// [`Response::BootEvent`] each.
    List,
    /// Remove an extension from flash (a loaded copy stays loaded): answered by
    /// [`Response::Removed`].
    Remove {
        /// Extension name.
        name: &'a str,
    },
    /// Confirm the active version of an installed extension: answered by [`Response::Stored`].
    Confirm {
        /// Extension name.
        name: &'a str,
    },
    /// Make the previous version active again: answered by [`Response::Stored`].
    Rollback {
        /// Extension name.
        name: &'a str,
    },
    /// Where each section of a loaded extension went: answered by one [`Response::Section`]
    /// each, then [`Response::SectionsEnd`].
    Sections {
        /// Extension name.
        name: &'a str,
    },
}

/// What the device sends: answers (with the request's `seq`) and log lines (`seq` 0). `E` is how
/// an error travels: [`ErrorReply`] with borrowed strings when a host decodes, a reference to the
/// device's own record when it encodes (both encode the same bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response<'a, E = ErrorReply<&'a str>> {
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
        result: Result<Loaded, E>,
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
    Error(E),
    /// The install ended: stored in flash, or why not.
    InstallDone {
        /// The install this is about.
        push_id: u32,
        /// What is now stored, or the error.
        result: Result<InstallInfo, E>,
    },
    /// The head of a list answer.
    #[serde(borrow)]
    ListHead(ListHead<'a>),
    /// One extension, installed or loaded (a list answer, or the answer to `Confirm` and
    /// `Rollback`).
    #[serde(borrow)]
    Stored(StoredEntry<'a>),
    /// One event of the boot report, in a list answer.
    #[serde(borrow)]
    BootEvent(BootEventInfo<'a>),
    /// The extension was removed from flash.
    Removed,
    /// One placed section, in a sections answer.
    Section(SectionInfo),
    /// The end of a sections answer.
    SectionsEnd(SectionsEnd),
    /// The call faulted: the device contained it and marked the extension faulted.
    CallFaulted(FaultReport),
}

/// What raised a contained fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultKind {
    /// Cortex-M HardFault (a configurable fault escalated, or a fault in a fault).
    HardFault,
    /// Cortex-M MemManage: an access the MPU forbids.
    MemManage,
    /// Cortex-M BusFault: a bad address.
    BusFault,
    /// Cortex-M UsageFault: undefined instruction, division by zero, unaligned access...
    UsageFault,
    /// The extension code ran past the device's time limit and was stopped.
    Timeout,
    /// RISC-V: a jump to an address that is not 2-byte aligned (mcause 0).
    InstructionMisaligned,
    /// RISC-V: an instruction fetch from an address nothing answers (mcause 1).
    InstructionAccessFault,
    /// RISC-V: an illegal or undefined instruction (mcause 2).
    IllegalInstruction,
    /// RISC-V: `ebreak` (what GCC makes of `__builtin_trap`, mcause 3).
    Breakpoint,
    /// RISC-V: a misaligned load (mcause 4).
    LoadMisaligned,
    /// RISC-V: a load from an address nothing answers (mcause 5).
    LoadAccessFault,
    /// RISC-V: a misaligned store or atomic (mcause 6).
    StoreMisaligned,
    /// RISC-V: a store to an address nothing answers (mcause 7).
    StoreAccessFault,
    /// RISC-V: `ecall` or another exception (the cause is the report's status).
    OtherException,
    /// A Rust extension panicked (it called the firmware's `llext_panic`): `status` is the
    /// panic's line, `pc` an address in the `llext_panic` call (return address - 1); the message and file are
    /// in the device log line `panicked at FILE:LINE:COLUMN: MESSAGE` sent before the answer.
    Panic,
}

impl FaultKind {
    /// Its name (`hard-fault`, `mem-manage`, `bus-fault`, `usage-fault`, `timeout`, the
    /// RISC-V causes: `illegal-instruction`, `load-access-fault`, ..., and `panic`).
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::HardFault => "hard-fault",
            FaultKind::MemManage => "mem-manage",
            FaultKind::BusFault => "bus-fault",
            FaultKind::UsageFault => "usage-fault",
            FaultKind::Timeout => "timeout",
            FaultKind::InstructionMisaligned => "instruction-misaligned",
            FaultKind::InstructionAccessFault => "instruction-access-fault",
            FaultKind::IllegalInstruction => "illegal-instruction",
            FaultKind::Breakpoint => "breakpoint",
            FaultKind::LoadMisaligned => "load-misaligned",
            FaultKind::LoadAccessFault => "load-access-fault",
            FaultKind::StoreMisaligned => "store-misaligned",
            FaultKind::StoreAccessFault => "store-access-fault",
            FaultKind::OtherException => "exception",
            FaultKind::Panic => "panic",
        }
    }
}

/// A fault raised by extension code and contained by the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultReport {
    /// What kind.
    pub kind: FaultKind,
    /// The hardware's fault status (Cortex-M: CFSR; RISC-V: mcause).
    pub status: u32,
    /// The faulting instruction.
    pub pc: u64,
    /// The return address register at the fault.
    pub lr: u64,
    /// The stack pointer at the fault.
    pub sp: u64,
    /// The faulting data address, where the hardware gives one.
    pub addr: Option<u64>,
    /// The region of the extension the PC is in (filled in by the server).
    pub region: Option<RegionKind>,
    /// The PC's offset in that region.
    pub offset: u32,
}

/// Where one section of the pushed file was placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionInfo {
    /// Its position in this answer (0-based).
    pub index: u16,
    /// Its section index in the file the device received (the packed file).
    pub section: u32,
    /// The region it went to.
    pub kind: RegionKind,
    /// Its run-time address.
    pub addr: u64,
    /// Its size in bytes.
    pub size: u32,
    /// Relocation entries applied to it (at most 65,535 counted).
    pub relocations: u32,
}

/// The end of a sections answer: how many came, and which file they index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionsEnd {
    /// [`Response::Section`] messages sent.
    pub sections: u16,
    /// Placed sections the device did not keep (it keeps a fixed number per extension).
    pub dropped: u16,
    /// Bytes in the file the sections index (0 when the device does not know the file).
    pub total_len: u32,
    /// CRC-32 of that file, as given when it was pushed.
    pub crc32: u32,
    /// Veneers and GOT entries the loader made for it (at most 65,535 counted).
    pub trampolines: u32,
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
    /// Extension code (a call, constructors, destructors) is stopped after this long by default;
    /// 0 when the device has no time limit (no fault containment).
    pub time_limit_ms: u32,
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
    /// What the device trusts.
    pub trust: TrustInfo,
}

/// Most key ids a status answer lists.
pub const TRUST_KEYS: usize = 4;

/// The device's signature policy, as `host-push status` shows it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustInfo {
    /// Unsigned pushes are accepted.
    pub unsigned_pushes: bool,
    /// Unsigned installs are accepted.
    pub unsigned_installs: bool,
    /// Installs may replace a signed version with an older one.
    pub allow_rollback: bool,
    /// Boot loading checks signatures again.
    pub verify_at_boot: bool,
    /// Trusted keys.
    pub keys: u8,
    /// The ids of the first [`TRUST_KEYS`] of them.
    pub key_ids: [Option<[u8; 8]>; TRUST_KEYS],
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
    /// The fault that made it `Faulted`.
    pub fault: Option<FaultReport>,
}

/// The state of a loaded extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExtState {
    /// Loaded and its constructors ran: it can be called.
    Ready,
    /// A call faulted: no further calls until it is unloaded or pushed again.
    Faulted,
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

/// What an install stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallInfo {
    /// The version now active.
    pub version: u32,
    /// Its flash slot.
    pub slot: u16,
    /// Its state (pending: tried at the next boot).
    pub state: ImageState,
    /// The same image was already installed: nothing was written but the flags.
    pub unchanged: bool,
    /// It loads at boot.
    pub boot: bool,
    /// The version kept to roll back to.
    pub previous: Option<u32>,
}

/// Where a stored version is in its life (`llext_storage::State`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImageState {
    /// Installed, not yet tried: the next boot loads it on trial.
    Pending,
    /// A boot is trying it (found at the next boot: that boot never finished).
    Trying,
    /// Came up at a boot, or confirmed explicitly.
    Confirmed,
    /// Failed on trial with nothing to roll back to; not loaded at boot.
    Failed,
}

impl ImageState {
    /// Its lower-case name (`pending`, `trying`, `confirmed`, `failed`).
    pub fn name(self) -> &'static str {
        match self {
            ImageState::Pending => "pending",
            ImageState::Trying => "trying",
            ImageState::Confirmed => "confirmed",
            ImageState::Failed => "failed",
        }
    }
}

/// One stored version of an extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// Its version number.
    pub version: u32,
    /// Its state.
    pub state: ImageState,
    /// The flash slot holding it.
    pub slot: u16,
    /// Its length in bytes.
    pub len: u32,
    /// CRC-32 of its bytes, as installed.
    pub crc32: u32,
    /// Linked to execute in place from flash (`install --xip`): the slot holds the linked image.
    pub in_place: bool,
}

/// An install cut off before it finished, which the same `InstallBegin` resumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interrupted<'a> {
    /// The extension's name.
    pub name: &'a str,
    /// Bytes in its file.
    pub total_len: u32,
    /// CRC-32 of its file.
    pub crc32: u32,
    /// Where it resumes.
    pub offset: u32,
}

/// The head of a list answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListHead<'a> {
    /// The device keeps extensions in flash (without, only loaded ones are listed).
    pub storage: bool,
    /// This many [`Response::Stored`] follow.
    pub entries: u8,
    /// Then this many [`Response::BootEvent`].
    pub boot_events: u8,
    /// Flash slots.
    pub slots: u16,
    /// Slots free.
    pub free_slots: u16,
    /// Bytes per slot (the largest extension it can install).
    pub slot_size: u32,
    /// An install cut off before it finished.
    #[serde(borrow)]
    pub interrupted: Option<Interrupted<'a>>,
}

/// Most dependencies listed per stored extension.
pub const STORED_DEPS: usize = 4;

/// An extension in flash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredInfo<'a> {
    /// It loads at boot.
    pub boot: bool,
    /// The version that loads.
    pub active: ImageInfo,
    /// The version kept to roll back to.
    pub previous: Option<ImageInfo>,
    /// Extensions it is loaded after.
    #[serde(borrow)]
    pub deps: [Option<&'a str>; STORED_DEPS],
}

/// One extension: installed in flash, loaded, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEntry<'a> {
    /// Its position in this answer (0-based).
    pub index: u8,
    /// Its name.
    pub name: &'a str,
    /// It is loaded now.
    pub loaded: bool,
    /// What flash holds of it (`None`: loaded by a push, not installed).
    #[serde(borrow)]
    pub stored: Option<StoredInfo<'a>>,
}

/// What happened to one extension at boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BootEventKind {
    /// Loaded and came up (`version`); already confirmed.
    Loaded,
    /// Loaded and came up on trial, and boot confirmed it.
    Confirmed,
    /// This version failed (`reason`).
    Failed,
    /// Went back from `version` to `to_version`.
    RolledBack,
    /// Not tried (`reason`).
    Skipped,
    /// Needs a symbol nothing exports (`reason` names it).
    MissingSymbol,
}

impl BootEventKind {
    /// Its lower-case name (`loaded`, `confirmed`, `failed`, `rolled-back`, `skipped`,
    /// `missing-symbol`).
    pub fn name(self) -> &'static str {
        match self {
            BootEventKind::Loaded => "loaded",
            BootEventKind::Confirmed => "confirmed",
            BootEventKind::Failed => "failed",
            BootEventKind::RolledBack => "rolled-back",
            BootEventKind::Skipped => "skipped",
            BootEventKind::MissingSymbol => "missing-symbol",
        }
    }
}

/// One event of the boot report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BootEventInfo<'a> {
    /// Its position in this answer (0-based).
    pub index: u8,
    /// The extension.
    pub name: &'a str,
    /// What happened.
    pub kind: BootEventKind,
    /// The version it happened to (0 when none).
    pub version: u32,
    /// For `RolledBack`, the version now active (else 0).
    pub to_version: u32,
    /// Why (failures, skips), or the missing symbol; empty otherwise.
    pub reason: &'a str,
}

impl core::fmt::Display for BootEventInfo<'_> {
    /// The event in words: `hello v2 failed: corrupt in flash: ...`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (n, v, r) = (self.name, self.version, self.reason);
        match self.kind {
            BootEventKind::Loaded => write!(f, "{n} v{v} loaded"),
            BootEventKind::Confirmed => {
                write!(f, "{n} v{v} loaded and confirmed (its trial passed)")
            }
            BootEventKind::Failed => write!(f, "{n} v{v} failed: {r}"),
            BootEventKind::RolledBack => {
                write!(f, "{n} rolled back from v{v} to v{}", self.to_version)
            }
            BootEventKind::Skipped => write!(f, "{n} not loaded: {r}"),
            BootEventKind::MissingSymbol => write!(f, "{n} needs `{r}`, which nothing exports"),
        }
    }
}
