//! Installs kept in the CFI flash: `Storage` over bank 1 and the boot report in the device log.

use core::fmt::Write as _;

use embedded_storage_async::nor_flash::{NorFlash, ReadNorFlash};
use core::mem::MaybeUninit;

use llext_storage::{Layout, Storage, XipConfig};
use llext_transports::server::{ExtStore, FlashStore, StoreError};
use qemu_common::log::Writer;

use crate::flash::{CAPACITY, Pflash};

/// Extensions the catalog holds.
const CATALOG: usize = 16;

/// A 1 MiB catalog (four erase blocks), then 31 slots of 1 MiB (the large generated extension of
/// the bench is 804 KB packed).
const LAYOUT: Layout = Layout::uniform(CAPACITY as u32, 1 << 20);

/// RAM reserved for the data and bss of extensions installed in place (`install --xip`).
const XIP_RAM_SIZE: usize = 4 << 20;

static mut XIP_RAM: [MaybeUninit<u8>; XIP_RAM_SIZE] = [MaybeUninit::uninit(); XIP_RAM_SIZE];

/// Execute in place: bank 1 reads (and QEMU executes) at its address in read-array mode, which
/// `Pflash` restores after every operation; the reserved RAM above.
fn xip() -> XipConfig {
    let ram = core::ptr::addr_of!(XIP_RAM) as usize as u64;
    XipConfig {
        mapped: crate::flash::BASE as u64,
        ram: ram..ram + XIP_RAM_SIZE as u64,
        table_id: qemu_common::exports::EXPORTS.id(),
        // What a load reads is checked at each boot; the code was read back when programmed
        // (docs/STORAGE.md, "Execute in place").
        verify_code_at_boot: false,
    }
}

/// The server's storage hook.
pub type Store = FlashStore<Pflash, CATALOG>;

/// Opens the storage. A catalog that does not read is erased first, and the log says so: a new
/// flash file (`truncate`) or a bank without one is zeros, not erased flash.
pub async fn open() -> Store {
    // SAFETY: called once at start; every other `Pflash` below exists after this one is dropped.
    let mut flash = unsafe { Pflash::new() };
    let mut head = [0u8; 64];
    let blank = match flash.read(LAYOUT.catalog.start, &mut head).await {
        Ok(()) => head.iter().all(|&b| b == 0),
        Err(_) => false,
    };
    let err = match Storage::open(flash, LAYOUT).await {
        Ok(mut s) => {
            s.set_xip(xip());
            return FlashStore::new(s);
        }
        Err(e) => e,
    };
    if blank {
        let _ = writeln!(
            Writer,
            "llext-fw: flash: blank (zeros): erasing the catalog"
        );
    } else {
        let _ = writeln!(Writer, "llext-fw: flash: {err}: erasing the catalog");
    }
    // SAFETY: the first `Pflash` was dropped with the failed open.
    let mut flash = unsafe { Pflash::new() };
    if let Err(e) = flash.erase(LAYOUT.catalog.start, LAYOUT.catalog.end).await {
        panic!("flash: erasing the catalog: {e:?}");
    }
    match Storage::open(flash, LAYOUT).await {
        Ok(mut s) => {
            s.set_xip(xip());
            FlashStore::new(s)
        }
        Err(e) => panic!("flash: {e}"),
    }
}

/// Writes the boot report to the log, one line per event: `llext-fw: boot: hello v1 loaded`.
pub fn report(store: &Store, booted: Result<(), StoreError>) {
    if store.boot_event(0).is_none() {
        let _ = writeln!(Writer, "llext-fw: boot: nothing marked for boot");
    }
    for e in (0..).map_while(|i| store.boot_event(i)) {
        let _ = writeln!(Writer, "llext-fw: boot: {e}");
    }
    if let Err(e) = booted {
        let _ = writeln!(Writer, "llext-fw: boot: stopped: {}", e.words());
    }
}
