//! Why a request failed, as values: the device sends the cause and its numbers and names, the host
//! renders the words ([`core::fmt::Display`], `std` only). The device carries no message text and
//! no formatting for messages it never shows (as `defmt` does for logs), and errors stay typed up
//! to the command line.
//!
//! Strings are `S`: [`Text`](crate::server::Text) on the device, `&str` when a host decodes, and
//! `String` once the host keeps them.

use serde::{Deserialize, Serialize};

use super::{ErrorCode, FaultReport, RegionKind};

#[cfg(doc)]
use super::words::Words;

/// A failed request: its code (what `host-push` exits with) and its cause (what it says).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(serialize = "S: AsRef<str>", deserialize = "S: Deserialize<'de>"))]
pub struct ErrorReply<S> {
    /// What kind of failure.
    pub code: ErrorCode,
    /// What happened, with what the message needs.
    pub cause: Cause<S>,
}

/// What happened. It travels as [`Words`] (its variant's index, numbers and strings): variant
/// order is part of the protocol, new causes are only added at the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // Each variant's line names its fields.
pub enum Cause<S> {
    /// A request did not decode; the device speaks protocol `version`.
    Undecodable { version: u16 },
    /// The request named no extension the device could keep (empty or too long).
    NoSuchExtension,
    /// No extension named `name` is loaded.
    NotLoaded { name: S },
    /// A symbol name longer than `max` bytes.
    SymbolTooLong { max: u16 },
    /// `ext` faulted in an earlier call and takes no more calls.
    FaultedBefore { ext: S },
    /// `ext` exports no `symbol`.
    NotExported { ext: S, symbol: S },
    /// `symbol` of `ext` points at `addr`, in `region` of the extension (`None`: outside it),
    /// not into its code.
    NotCode {
        ext: S,
        symbol: S,
        addr: u64,
        region: Option<RegionKind>,
    },
    /// A constructor or destructor of `ext` points at `addr`, not into its code.
    EntriesNotCode {
        ext: S,
        addr: u64,
        region: Option<RegionKind>,
    },
    /// `ext` is used by the loaded extension `by`.
    InUse { ext: S, by: S },
    /// Unloading `ext` failed.
    Unload { ext: S, error: LoadError<S> },
    /// A constructor of `ext` faulted; nothing was loaded.
    ConstructorFaulted { ext: S, fault: FaultReport },
    /// Extension names are 1 to `max` bytes.
    BadName { max: u16 },
    /// An install of an empty file.
    EmptyInstall,
    /// A push of `len` bytes; the device accepts 1 to `max`.
    TooLarge { len: u32, max: u32 },
    /// An extension named `name` is already loaded.
    AlreadyLoaded { name: S },
    /// `count` undefined symbols nothing on the device exports; `names` lists them (cut to fit).
    MissingSymbols { count: u32, names: S },
    /// The loader refused the file.
    Load(LoadError<S>),
    /// No data for `timeout_ms` at byte `at` of `total` (of an install when `install`).
    Stalled {
        install: bool,
        timeout_ms: u32,
        at: u32,
        total: u32,
    },
    /// Another request interrupted the transfer at byte `at` of `total`.
    Interrupted { install: bool, at: u32, total: u32 },
    /// The link failed during the transfer.
    LinkFailed,
    /// The file received does not match its CRC-32.
    ChecksumMismatch,
    /// `name` is signed as version `signed` but was sent as version `sent` (`None`: no version).
    SignedVersion {
        name: S,
        signed: u32,
        sent: Option<u32>,
    },
    /// The signature policy refused the file.
    Refused(RefusalCause),
    /// The device keeps no extensions in flash.
    NoStorage,
    /// The flash store failed; its words.
    Store { message: S },
    /// A call's time limit of `asked_ms` is longer than the device allows (`max_ms`).
    TimeLimitTooLong { asked_ms: u32, max_ms: u32 },
    /// The device cannot execute extensions in place (no memory-mapped flash).
    NoXip,
}

/// Why the signature policy refused a file (`llext_sign::Refusal`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)] // Each variant's line names its fields.
pub enum RefusalCause {
    /// The signature does not match the bytes, the name or the key.
    BadSignature,
    /// Unsigned, and the policy wants a signature.
    Unsigned,
    /// Signed by a key the device does not trust (its id).
    UnknownKey([u8; 8]),
    /// An older signed version than the one installed.
    Rollback { version: u32, installed: u32 },
    /// Signed, under a policy that wants signatures, on a firmware without the verifier.
    NoVerifier,
}

/// The loader's error (`llext_loader::Error`) as values: its variant's index in declaration
/// order, its numbers in field order (an `Option` as 0 for none or the value plus one, a memory
/// kind or part as its index) and its one string field (`what`, a relocation's name, a symbol or
/// extension name), empty when it has none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadError<S> {
    /// The variant.
    pub tag: u8,
    /// Its numbers.
    pub n: [u64; 4],
    /// Its string.
    pub s: S,
}

impl<S> Cause<S> {
    /// The code a failure with this cause answers with (a loader error's is
    /// [`ErrorCode::from_load_error`]).
    pub fn code(&self) -> ErrorCode {
        match self {
            Cause::Undecodable { .. } => ErrorCode::BadRequest,
            Cause::NoSuchExtension | Cause::NotLoaded { .. } => ErrorCode::NotLoaded,
            Cause::SymbolTooLong { .. } | Cause::NotExported { .. } => ErrorCode::NoSymbol,
            Cause::FaultedBefore { .. } | Cause::ConstructorFaulted { .. } => ErrorCode::Faulted,
            Cause::NotCode { .. } | Cause::EntriesNotCode { .. } => ErrorCode::NotCode,
            Cause::InUse { .. } => ErrorCode::InUse,
            // Built with the code of `ErrorCode::from_load_error`; this is its fallback.
            Cause::Unload { .. } | Cause::Load(_) => ErrorCode::LoadFailed,
            Cause::BadName { .. } => ErrorCode::NameTooLong,
            Cause::EmptyInstall | Cause::TooLarge { .. } => ErrorCode::TooLarge,
            Cause::AlreadyLoaded { .. } => ErrorCode::AlreadyLoaded,
            Cause::MissingSymbols { .. } => ErrorCode::MissingSymbols,
            Cause::Stalled { .. } => ErrorCode::Timeout,
            Cause::Interrupted { .. } | Cause::LinkFailed => ErrorCode::Interrupted,
            Cause::ChecksumMismatch => ErrorCode::ChecksumMismatch,
            Cause::SignedVersion { .. } | Cause::Refused(RefusalCause::BadSignature) => {
                ErrorCode::BadSignature
            }
            Cause::Refused(RefusalCause::Unsigned | RefusalCause::NoVerifier) => {
                ErrorCode::Unsigned
            }
            Cause::Refused(RefusalCause::UnknownKey(_)) => ErrorCode::UnknownKey,
            Cause::Refused(RefusalCause::Rollback { .. }) => ErrorCode::Rollback,
            Cause::NoStorage => ErrorCode::NoStorage,
            Cause::TimeLimitTooLong { .. } => ErrorCode::Limit,
            Cause::NoXip => ErrorCode::BadRequest,
            // The store says its own code; this is its fallback.
            Cause::Store { .. } => ErrorCode::FlashFailed,
        }
    }
}

impl<S: for<'x> From<&'x str>> From<&llext_loader::Error> for LoadError<S> {
    fn from(e: &llext_loader::Error) -> Self {
        use llext_loader::Error as E;
        let opt = |v: Option<u32>| v.map_or(0, |v| v as u64 + 1);
        let (tag, n, s): (u8, [u64; 4], &str) = match *e {
            E::Io { offset, .. } => (0, [offset, 0, 0, 0], ""),
            E::UnexpectedEof { offset } => (1, [offset, 0, 0, 0], ""),
            E::NotForward { offset, position } => (2, [offset, position, 0, 0], ""),
            E::NotElf => (3, [0; 4], ""),
            E::BigEndian => (4, [0; 4], ""),
            E::NotRelocatable { e_type } => (5, [e_type as u64, 0, 0, 0], ""),
            E::WrongMachine { found, expected } => (6, [found as u64, expected as u64, 0, 0], ""),
            E::Malformed {
                what,
                section,
                value,
            } => (7, [opt(section), value, 0, 0], what),
            E::StreamOrder {
                part,
                section,
                offset,
                position,
            } => (8, [part as u64, section as u64, offset, position], ""),
            E::Limit { what, value, limit } => (9, [value, limit, 0, 0], what),
            E::OutOfMemory { kind, size } => (10, [kind as u64, size as u64, 0, 0], ""),
            E::MissingSymbols { count, ref first } => (11, [count as u64, 0, 0, 0], first.as_str()),
            E::NameTooLong { symbol, limit } => (12, [symbol as u64, limit as u64, 0, 0], ""),
            E::UnsupportedRelocation {
                r_type,
                type_name,
                section,
                offset,
            } => (13, [r_type as u64, section as u64, offset, 0], type_name),
            E::RelocationOverflow {
                type_name,
                section,
                offset,
                value,
            } => (14, [section as u64, offset, value as u64, 0], type_name),
            E::PcrelLoUnpaired { section, offset } => (15, [section as u64, offset, 0, 0], ""),
            E::SymbolNotLoaded {
                symbol,
                section,
                offset,
            } => (16, [symbol as u64, section as u64, offset, 0], ""),
            E::RegistryFull => (17, [0; 4], ""),
            E::NotLoaded => (18, [0; 4], ""),
            E::AlreadyLoaded => (19, [0; 4], ""),
            E::InUse { ref by } => (20, [0; 4], by.as_str()),
            E::Protect { kind } => (21, [kind as u64, 0, 0, 0], ""),
            E::Relink { linked, firmware } => (22, [linked as u64, firmware as u64, 0, 0], ""),
        };
        Self {
            tag,
            n,
            s: s.into(),
        }
    }
}

impl From<llext_sign::Refusal> for RefusalCause {
    fn from(r: llext_sign::Refusal) -> Self {
        use llext_sign::Refusal as R;
        match r {
            R::BadSignature => Self::BadSignature,
            R::Unsigned => Self::Unsigned,
            R::UnknownKey(id) => Self::UnknownKey(id.0),
            R::Rollback { version, installed } => Self::Rollback { version, installed },
            R::NoVerifier => Self::NoVerifier,
        }
    }
}
