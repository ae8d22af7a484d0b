//! Error codes the device answers with; each comes with a message the host shows as it is.

use serde::{Deserialize, Serialize};

/// Why the device refused or failed a request. The numbers (variant order) are part of the
/// protocol: new codes are only ever added at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorCode {
    /// The request could not be decoded or is not allowed now.
    BadRequest,
    /// The host speaks another protocol version.
    VersionMismatch,
    /// A name is longer than the device keeps.
    NameTooLong,
    /// An extension of that name is already loaded.
    AlreadyLoaded,
    /// No extension of that name is loaded.
    NotLoaded,
    /// The extension does not export that symbol.
    NoSymbol,
    /// Another loaded extension depends on this one.
    InUse,
    /// Not enough extension memory.
    OutOfMemory,
    /// Every extension slot is taken.
    RegistryFull,
    /// The extension uses symbols nothing on the device exports.
    MissingSymbols,
    /// The extension was built for another architecture.
    WrongArchitecture,
    /// The file is not in stream order (it was not packed).
    NotInStreamOrder,
    /// The file is not a valid relocatable ELF object.
    BadElf,
    /// The extension uses a relocation the device cannot apply.
    UnsupportedRelocation,
    /// The extension exceeds a limit of the loader.
    Limit,
    /// The push stalled: no data arrived for the device's push timeout.
    Timeout,
    /// The push was abandoned: another request arrived, or the link failed.
    Interrupted,
    /// The bytes received do not match the CRC-32 announced in `PushBegin`.
    ChecksumMismatch,
    /// The push is empty or larger than the device accepts.
    TooLarge,
    /// Any other load failure (the message says which).
    LoadFailed,
    /// The device keeps no extensions in flash.
    NoStorage,
    /// No extension of that name is installed in flash.
    NotInstalled,
    /// The extension has no previous version to roll back to.
    NoPrevious,
    /// No free slot or catalog entry in flash.
    StorageFull,
    /// The flash or its catalog failed (the message says how).
    FlashFailed,
    /// A call, constructor or destructor names an address outside the extension's code (data,
    /// a table): the device does not jump there.
    NotCode,
    /// The signature does not match the file and name (changed, cut short, signed for another
    /// name), or says another version than the install.
    BadSignature,
    /// The device runs only signed extensions and this one is not signed.
    Unsigned,
    /// Signed by a key the device does not trust.
    UnknownKey,
    /// An install of a signed version older than the one installed.
    Rollback,
    /// The extension faulted in an earlier call: unload it or push it again.
    Faulted,
}

impl ErrorCode {
    /// A short stable name (`not-loaded`), for scripts.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad-request",
            ErrorCode::VersionMismatch => "version-mismatch",
            ErrorCode::NameTooLong => "name-too-long",
            ErrorCode::AlreadyLoaded => "already-loaded",
            ErrorCode::NotLoaded => "not-loaded",
            ErrorCode::NoSymbol => "no-symbol",
            ErrorCode::InUse => "in-use",
            ErrorCode::OutOfMemory => "out-of-memory",
            ErrorCode::RegistryFull => "registry-full",
            ErrorCode::MissingSymbols => "missing-symbols",
            ErrorCode::WrongArchitecture => "wrong-architecture",
            ErrorCode::NotInStreamOrder => "not-in-stream-order",
            ErrorCode::BadElf => "bad-elf",
            ErrorCode::UnsupportedRelocation => "unsupported-relocation",
            ErrorCode::Limit => "limit",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Interrupted => "interrupted",
            ErrorCode::ChecksumMismatch => "checksum-mismatch",
            ErrorCode::TooLarge => "too-large",
            ErrorCode::LoadFailed => "load-failed",
            ErrorCode::NoStorage => "no-storage",
            ErrorCode::NotInstalled => "not-installed",
            ErrorCode::NoPrevious => "no-previous",
            ErrorCode::StorageFull => "storage-full",
            ErrorCode::FlashFailed => "flash-failed",
            ErrorCode::NotCode => "not-code",
            ErrorCode::BadSignature => "bad-signature",
            ErrorCode::Unsigned => "unsigned",
            ErrorCode::UnknownKey => "unknown-key",
            ErrorCode::Rollback => "rollback",
            ErrorCode::Faulted => "faulted",
        }
    }

    /// The code for a loader error.
    pub fn from_load_error(e: &llext_loader::Error) -> Self {
        use llext_loader::Error as E;
        match e {
            E::Io { .. } => ErrorCode::Interrupted,
            E::UnexpectedEof { .. }
            | E::NotElf
            | E::BigEndian
            | E::NotRelocatable { .. }
            | E::Malformed { .. }
            | E::SymbolNotLoaded { .. } => ErrorCode::BadElf,
            E::NotForward { .. } | E::StreamOrder { .. } => ErrorCode::NotInStreamOrder,
            E::WrongMachine { .. } => ErrorCode::WrongArchitecture,
            E::Limit { .. } | E::NameTooLong { .. } => ErrorCode::Limit,
            E::OutOfMemory { .. } => ErrorCode::OutOfMemory,
            E::MissingSymbols { .. } => ErrorCode::MissingSymbols,
            E::UnsupportedRelocation { .. } | E::RelocationOverflow { .. } => {
                ErrorCode::UnsupportedRelocation
            }
            E::RegistryFull => ErrorCode::RegistryFull,
            E::NotLoaded => ErrorCode::NotLoaded,
            E::AlreadyLoaded => ErrorCode::AlreadyLoaded,
            E::InUse { .. } => ErrorCode::InUse,
            // Protection failures and variants added later.
            _ => ErrorCode::LoadFailed,
        }
    }
}

impl core::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
