//! `--flash FILE`: the simulated device's flash, where installs go and what loads at boot.

use std::io;
use std::path::Path;

use llext_storage::Storage;
use llext_storage::flash::FileFlash;
use llext_transports::server::{ExtStore, FlashStore};

/// Extensions the simulated flash's catalog holds.
pub const CATALOG: usize = 16;

/// The storage hook of a device with `--flash`.
pub type SimFlash = FlashStore<FileFlash, CATALOG>;

/// Opens (or creates, erased) the flash file and its catalog.
pub fn open(path: &Path) -> io::Result<SimFlash> {
    let flash = FileFlash::open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("--flash {}: {e}", path.display())))?;
    let mut storage = futures::executor::block_on(Storage::open(flash, FileFlash::DEFAULT_LAYOUT))
        .map_err(|e| io::Error::other(format!("--flash {}: {e}", path.display())))?;
    match crate::inplace::config(path, crate::exports::EXPORTS.id()) {
        Ok(cfg) => storage.set_xip(cfg),
        Err(e) => eprintln!(
            "sim-device: --flash {}: no installs in place: {e}",
            path.display()
        ),
    }
    Ok(FlashStore::new(storage))
}

/// The boot report, one line per event: `boot: hello v1 loaded`.
pub fn report_lines(store: &impl ExtStore) -> Vec<String> {
    let events: Vec<String> = (0..)
        .map_while(|i| store.boot_event(i))
        .map(|e| format!("boot: {e}"))
        .collect();
    if events.is_empty() {
        return vec!["boot: nothing marked for boot".into()];
    }
    events
}
