//! [`FlashStore`]: the storage hook over `llext-storage` (feature `storage`), so installs stream
//! into a flash slot as they arrive and extensions marked for boot load at start.

use core::fmt::Write as _;

use embedded_storage_async::nor_flash::NorFlash;
use llext_loader::memory::MemoryProvider;
use llext_loader::symbols::Resolve;
use llext_loader::{Extension, LoadParams, Name, Registry};
use llext_storage::{BootEvent, Error, Image, InstallOptions, State, Storage};

use super::signed_boot::BootChecks;
use super::store::{ExtStore, Progress, Slots, StoreError};
use super::text::Text;
use crate::protocol::{
    BootEventInfo, BootEventKind, Cause, ErrorCode, FaultReport, ImageInfo, ImageState,
    InstallInfo, STORED_DEPS, StoredInfo,
};

/// Longest reason kept per boot event.
const REASON: usize = 96;

/// One event of the boot report, kept for `List`.
struct BootRecord {
    name: Name,
    kind: BootEventKind,
    version: u32,
    to_version: u32,
    reason: Text<REASON>,
}

/// Extensions in flash for the server: a `Storage` of up to `N` extensions and the report of
/// the last boot (up to `E` events; later ones are dropped and counted).
pub struct FlashStore<F: NorFlash, const N: usize, const E: usize = 16> {
    storage: Storage<F, N>,
    events: [Option<BootRecord>; E],
    dropped: u16,
    trust: llext_sign::Policy,
}

impl<F: NorFlash, const N: usize, const E: usize> FlashStore<F, N, E> {
    /// Serves installs into `storage` (opened with `Storage::open`).
    pub fn new(storage: Storage<F, N>) -> Self {
        Self {
            storage,
            events: [const { None }; E],
            dropped: 0,
            trust: llext_sign::Policy::DEVELOPMENT,
        }
    }

    /// The storage.
    pub fn storage(&mut self) -> &mut Storage<F, N> {
        &mut self.storage
    }

    /// Boot events that did not fit the report.
    pub fn dropped_events(&self) -> u16 {
        self.dropped
    }
}

/// Adds `ev` to the report in `events` (counting it in `dropped` when full).
fn record(events: &mut [Option<BootRecord>], dropped: &mut u16, ev: BootEvent<'_>) {
    let (name, kind, version, to_version, reason) = match ev {
        BootEvent::Loaded {
            name,
            version,
            confirmed,
            ..
        } => {
            let kind = if confirmed {
                BootEventKind::Confirmed
            } else {
                BootEventKind::Loaded
            };
            (name, kind, version, 0, Text::new())
        }
        BootEvent::Failed {
            name,
            version,
            reason,
        } => (
            name,
            BootEventKind::Failed,
            version,
            0,
            Text::format(format_args!("{reason}")),
        ),
        BootEvent::RolledBack { name, from, to } => {
            (name, BootEventKind::RolledBack, from, to, Text::new())
        }
        BootEvent::Skipped { name, reason } => (
            name,
            BootEventKind::Skipped,
            0,
            0,
            Text::format(format_args!("{reason}")),
        ),
        BootEvent::MissingSymbol { name, symbol } => (
            name,
            BootEventKind::MissingSymbol,
            0,
            0,
            Text::format(format_args!("{symbol}")),
        ),
    };
    match events.iter_mut().find(|e| e.is_none()) {
        Some(slot) => {
            *slot = Some(BootRecord {
                name: Name::new(name.as_bytes()),
                kind,
                version,
                to_version,
                reason,
            })
        }
        None => *dropped = dropped.saturating_add(1),
    }
}

fn state(s: State) -> ImageState {
    match s {
        State::Pending => ImageState::Pending,
        State::Trying => ImageState::Trying,
        State::Confirmed => ImageState::Confirmed,
        State::Failed => ImageState::Failed,
    }
}

fn image(i: &Image) -> ImageInfo {
    ImageInfo {
        version: i.version,
        state: state(i.state),
        slot: i.slot,
        len: i.len,
        crc32: i.crc,
        in_place: i.xip.is_some(),
    }
}

/// The protocol's code and message for a storage error.
/// What an install stored, as the protocol says it.
fn install_info(done: &llext_storage::Installed) -> InstallInfo {
    let e = done.entry;
    InstallInfo {
        version: e.active.version,
        slot: e.active.slot,
        state: state(e.active.state),
        unchanged: done.unchanged,
        boot: e.boot,
        previous: e.previous.map(|p| p.version),
    }
}

fn store_error<E: core::fmt::Debug>(e: Error<E>) -> StoreError {
    let code = match &e {
        Error::BadName => ErrorCode::NameTooLong,
        Error::TooLarge { .. } => ErrorCode::TooLarge,
        Error::CatalogFull | Error::NoFreeSlot => ErrorCode::StorageFull,
        Error::NotInstalled => ErrorCode::NotInstalled,
        Error::NoPrevious => ErrorCode::NoPrevious,
        Error::CrcMismatch { .. } => ErrorCode::ChecksumMismatch,
        // A failed link in place says what the loader says (missing symbols, out of memory...).
        Error::Link(l) => ErrorCode::from_load_error(l),
        Error::Flash(_) | Error::Catalog(_) | Error::Layout(_) | Error::VerifyFailed { .. } => {
            ErrorCode::FlashFailed
        }
        _ => ErrorCode::BadRequest,
    };
    let mut message = Text::new();
    let _ = write!(message, "{e}");
    StoreError {
        code,
        cause: Cause::Store { message },
    }
}

impl<F: NorFlash, const N: usize, const E: usize> ExtStore for FlashStore<F, N, E> {
    fn present(&self) -> bool {
        true
    }

    async fn begin(
        &mut self,
        name: &str,
        len: u32,
        crc32: u32,
        boot: bool,
        version: Option<u32>,
        xip: bool,
    ) -> Result<u32, StoreError> {
        let opts = InstallOptions {
            boot,
            version,
            deps: &[],
            xip,
        };
        self.storage
            .installer()
            .begin(name, len, crc32, opts)
            .await
            .map_err(store_error)
    }

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<u32, StoreError> {
        self.storage
            .installer()
            .write(offset, bytes)
            .await
            .map_err(store_error)
    }

    async fn finish(&mut self) -> Result<InstallInfo, StoreError> {
        let done = self
            .storage
            .installer()
            .finish()
            .await
            .map_err(store_error)?;
        Ok(install_info(&done))
    }

    async fn finish_xip<P: MemoryProvider, R: Resolve, const M: usize>(
        &mut self,
        reg: &mut Registry<P, R, M>,
        params: &LoadParams,
    ) -> Result<InstallInfo, StoreError> {
        let done = self
            .storage
            .installer()
            .finish_xip(reg, params, &mut |_| {})
            .await
            .map_err(store_error)?;
        Ok(install_info(&done))
    }

    async fn check_signature(
        &mut self,
        name: &str,
        policy: &llext_sign::Policy,
    ) -> Result<llext_sign::Verdict, llext_sign::Refusal> {
        let kind = llext_sign::Kind::Install;
        match self.storage.installer().written().await {
            Ok(mut r) => {
                let len = r.len();
                super::trust::check_read(&mut r, name, len, policy, kind).await
            }
            Err(_) => Err(llext_sign::Refusal::BadSignature),
        }
    }

    fn set_trust(&mut self, policy: llext_sign::Policy) {
        self.trust = policy;
    }

    async fn abort(&mut self) -> Result<(), StoreError> {
        self.storage.installer().abort().await.map_err(store_error)
    }

    async fn confirm(&mut self, name: &str) -> Result<(), StoreError> {
        self.storage
            .confirm(name)
            .await
            .map(|_| ())
            .map_err(store_error)
    }

    async fn rollback(&mut self, name: &str) -> Result<(), StoreError> {
        self.storage
            .rollback(name)
            .await
            .map(|_| ())
            .map_err(store_error)
    }

    async fn remove(&mut self, name: &str) -> Result<(), StoreError> {
        self.storage.remove(name).await.map_err(store_error)
    }

    fn entry(&self, i: usize) -> Option<(&str, StoredInfo<'_>)> {
        let e = self.storage.list().nth(i)?;
        let mut deps = [None; STORED_DEPS];
        for (d, out) in e.deps.iter().zip(deps.iter_mut()) {
            *out = Some(d.as_str());
        }
        let info = StoredInfo {
            boot: e.boot,
            active: image(&e.active),
            previous: e.previous.as_ref().map(image),
            deps,
        };
        Some((e.name.as_str(), info))
    }

    fn slots(&self) -> Slots {
        let l = self.storage.layout();
        Slots {
            count: l.slot_count,
            free: self.storage.free_slots(),
            size: l.slot_size,
        }
    }

    fn interrupted(&self) -> Option<Progress> {
        self.storage.interrupted().map(|i| Progress {
            name: Name::new(i.name.as_bytes()),
            total_len: i.len,
            crc32: i.crc,
            offset: i.offset,
        })
    }

    fn boot_event(&self, i: usize) -> Option<BootEventInfo<'_>> {
        let r = self.events.get(i)?.as_ref()?;
        Some(BootEventInfo {
            index: i as u8,
            name: r.name.as_str(),
            kind: r.kind,
            version: r.version,
            to_version: r.to_version,
            reason: r.reason.as_str(),
        })
    }

    async fn boot<P: MemoryProvider, R: Resolve, const M: usize>(
        &mut self,
        reg: &mut Registry<P, R, M>,
        params: &LoadParams,
        bringup: &mut dyn FnMut(&Extension) -> Result<(), Option<FaultReport>>,
    ) -> Result<(), StoreError> {
        self.events = [const { None }; E];
        self.dropped = 0;
        let mut checks = match self.trust.verify_at_boot {
            true => Some(BootChecks::<N>::run(&mut self.storage, &self.trust).await),
            false => None,
        };
        // The refusal of the image just brought up, or its constructors' fault, for the report's
        // reason.
        let refusal = core::cell::Cell::new(None);
        let fault = core::cell::Cell::new(None);
        let mut checked_bringup =
            |ext: &Extension| match checks.as_mut().and_then(|c| c.bringup(ext.name())) {
                Some(r) => {
                    refusal.set(Some(r));
                    false
                }
                None => bringup(ext).map_err(|f| fault.set(f)).is_ok(),
            };
        let (events, dropped) = (&mut self.events, &mut self.dropped);
        let mut report = |ev: BootEvent<'_>| {
            let failed = matches!(ev, BootEvent::Failed { .. });
            record(events, dropped, ev);
            let last = events.iter_mut().flatten().last().filter(|_| failed);
            if let Some(last) = last {
                if let Some(r) = refusal.take() {
                    last.reason = Text::format(format_args!("signature refused: {r}"));
                } else if let Some(f) = fault.take() {
                    last.reason = fault_reason(&f);
                }
            }
        };
        self.storage
            .boot(reg, params, &mut checked_bringup, &mut report)
            .await
            .map(|_| ())
            .map_err(store_error)
    }
}

/// A boot report's reason for constructors that faulted: kind, PC, and where in the extension
/// (`text+0x1c`, which `host-push list` turns into function and line).
fn fault_reason(f: &FaultReport) -> Text<REASON> {
    match f.region {
        Some(r) => Text::format(format_args!(
            "a constructor faulted: {} at {}+{:#x} (pc {:#x})",
            f.kind.name(),
            r.name(),
            f.offset,
            f.pc
        )),
        None => Text::format(format_args!(
            "a constructor faulted: {} at pc {:#x}",
            f.kind.name(),
            f.pc
        )),
    }
}
