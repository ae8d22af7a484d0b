//! The server's storage hook: where `InstallBegin`/`Data` go, and what `List`, `Remove`,
//! `Confirm` and `Rollback` act on. [`NoStore`] is the hook of a firmware without flash (every
//! storage request is refused with `no-storage`); `FlashStore` (feature `storage`) keeps
//! extensions in flash with `llext-storage`.

use core::fmt;

use llext_loader::memory::MemoryProvider;
use llext_loader::symbols::Resolve;
use llext_loader::{Extension, LoadParams, Name, Registry};

use super::text::Text;
use crate::protocol::{BootEventInfo, Cause, ErrorCode, FaultReport, InstallInfo, StoredInfo};

/// Longest message of a [`StoreError`] (and name in a failure's cause).
pub const STORE_MSG: usize = 160;

/// A storage request failed: the code and cause the host is sent.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct StoreError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// What happened.
    pub cause: Cause<Text<STORE_MSG>>,
}

impl StoreError {
    /// An error with a formatted message (a store's own words, sent as they are).
    pub fn new(code: ErrorCode, args: fmt::Arguments<'_>) -> Self {
        Self {
            code,
            cause: Cause::Store {
                message: Text::format(args),
            },
        }
    }

    /// What the device itself can say of it without formatting: the store's words, or the
    /// code's name (`no-storage`...).
    pub fn words(&self) -> &str {
        match &self.cause {
            Cause::Store { message } => message.as_str(),
            _ => self.code.name(),
        }
    }

    /// An error with a cause the host renders, under the cause's code.
    pub fn from_cause(cause: Cause<Text<STORE_MSG>>) -> Self {
        Self {
            code: cause.code(),
            cause,
        }
    }
}

impl fmt::Debug for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {:?}", self.code, self.cause)
    }
}

#[cfg(feature = "std")]
impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.cause.fmt(f)
    }
}

/// An install cut off before it finished (the same `InstallBegin` resumes it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The extension.
    pub name: Name,
    /// Bytes in its file.
    pub total_len: u32,
    /// CRC-32 of its file.
    pub crc32: u32,
    /// Where it resumes.
    pub offset: u32,
}

/// Flash slots: how many, how many free, and their size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Slots {
    /// Slots in all.
    pub count: u16,
    /// Slots holding nothing that must be kept.
    pub free: u16,
    /// Bytes per slot.
    pub size: u32,
}

/// Where the server keeps installed extensions.
///
/// The server calls `begin`, then `write` with each `Data` payload in offset order straight
/// from its frame buffer (no copy of the file), then `finish`; the data flow, its
/// acknowledgements and the stall timeout are the push's. An install cut off (link lost,
/// stall, another request) is left as it is: the next `begin` of the same image resumes it.
#[allow(async_fn_in_trait)]
pub trait ExtStore {
    /// Whether there is storage at all (`List` says so; other requests are refused).
    fn present(&self) -> bool;

    /// Starts or resumes installing `len` bytes with CRC-32 `crc32` as `name`, to be linked in
    /// place when `xip`; returns the offset to send from (`len`: already installed in that form,
    /// nothing to send).
    async fn begin(
        &mut self,
        name: &str,
        len: u32,
        crc32: u32,
        boot: bool,
        version: Option<u32>,
        xip: bool,
    ) -> Result<u32, StoreError>;

    /// Takes `bytes` at `offset` (in order); returns the next offset wanted.
    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<u32, StoreError>;

    /// Verifies what arrived and switches the extension to it.
    async fn finish(&mut self) -> Result<InstallInfo, StoreError>;

    /// Verifies what arrived, links it to execute in place from flash against `reg`'s firmware
    /// exports, and switches the extension to the linked image. A store without memory-mapped
    /// flash refuses.
    async fn finish_xip<P: MemoryProvider, R: Resolve, const M: usize>(
        &mut self,
        reg: &mut Registry<P, R, M>,
        params: &LoadParams,
    ) -> Result<InstallInfo, StoreError> {
        let _ = (reg, params);
        Err(StoreError::from_cause(Cause::NoXip))
    }

    /// Checks the signature of the install that received every byte, before `finish`, reading
    /// it back from storage as `name`. A store that cannot read back accepts only what the
    /// policy accepts unsigned.
    async fn check_signature(
        &mut self,
        name: &str,
        policy: &llext_sign::Policy,
    ) -> Result<llext_sign::Verdict, llext_sign::Refusal> {
        let _ = name;
        match policy.accepts_unsigned(llext_sign::Kind::Install) {
            true => Ok(llext_sign::Verdict::Unsigned),
            false => Err(llext_sign::Refusal::Unsigned),
        }
    }

    /// The signature policy, for boot loading (given by the device when it is made).
    fn set_trust(&mut self, policy: llext_sign::Policy) {
        let _ = policy;
    }

    /// Drops the install in progress (its signature was refused); its slot is free again.
    async fn abort(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Confirms the active version of `name`.
    async fn confirm(&mut self, name: &str) -> Result<(), StoreError>;

    /// Makes the previous version of `name` active again.
    async fn rollback(&mut self, name: &str) -> Result<(), StoreError>;

    /// Removes `name` from flash.
    async fn remove(&mut self, name: &str) -> Result<(), StoreError>;

    /// The `i`-th installed extension: its name and what flash holds of it.
    fn entry(&self, i: usize) -> Option<(&str, StoredInfo<'_>)>;

    /// The slots.
    fn slots(&self) -> Slots;

    /// The install cut off before it finished, if any.
    fn interrupted(&self) -> Option<Progress>;

    /// The `i`-th event of the last boot's report.
    fn boot_event(&self, i: usize) -> Option<BootEventInfo<'_>>;

    /// Loads every extension marked for boot into `reg` (dependencies first), bringing each up
    /// with `bringup`, and keeps the report for [`ExtStore::boot_event`]. `bringup` fails with
    /// the fault its constructors raised, if they faulted.
    async fn boot<P: MemoryProvider, R: Resolve, const M: usize>(
        &mut self,
        reg: &mut Registry<P, R, M>,
        params: &LoadParams,
        bringup: &mut dyn FnMut(&Extension) -> Result<(), Option<FaultReport>>,
    ) -> Result<(), StoreError>;

    /// The installed extension called `name`.
    fn find(&self, name: &str) -> Option<StoredInfo<'_>> {
        (0..)
            .map_while(|i| self.entry(i))
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s)
    }
}

/// No storage: a firmware without flash for extensions.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoStore;

/// The error of every storage request on a device without storage.
pub(crate) fn no_storage() -> StoreError {
    StoreError::from_cause(Cause::NoStorage)
}

impl ExtStore for NoStore {
    fn present(&self) -> bool {
        false
    }

    async fn begin(
        &mut self,
        _: &str,
        _: u32,
        _: u32,
        _: bool,
        _: Option<u32>,
        _: bool,
    ) -> Result<u32, StoreError> {
        Err(no_storage())
    }

    async fn write(&mut self, _: u32, _: &[u8]) -> Result<u32, StoreError> {
        Err(no_storage())
    }

    async fn finish(&mut self) -> Result<InstallInfo, StoreError> {
        Err(no_storage())
    }

    async fn confirm(&mut self, _: &str) -> Result<(), StoreError> {
        Err(no_storage())
    }

    async fn rollback(&mut self, _: &str) -> Result<(), StoreError> {
        Err(no_storage())
    }

    async fn remove(&mut self, _: &str) -> Result<(), StoreError> {
        Err(no_storage())
    }

    fn entry(&self, _: usize) -> Option<(&str, StoredInfo<'_>)> {
        None
    }

    fn slots(&self) -> Slots {
        Slots::default()
    }

    fn interrupted(&self) -> Option<Progress> {
        None
    }

    fn boot_event(&self, _: usize) -> Option<BootEventInfo<'_>> {
        None
    }

    async fn boot<P: MemoryProvider, R: Resolve, const M: usize>(
        &mut self,
        _: &mut Registry<P, R, M>,
        _: &LoadParams,
        _: &mut dyn FnMut(&Extension) -> Result<(), Option<FaultReport>>,
    ) -> Result<(), StoreError> {
        Ok(())
    }
}
