//! The catalog: a `sequential-storage` map on flash, mirrored in RAM.
//!
//! Entry `i` lives under key `i + 1`, the install in progress under key 0. Every change is one
//! item written to the map, which `sequential-storage` makes atomic across power loss.

use core::ops::Range;
use llext_loader::outline::outlined;

use embedded_storage_async::nor_flash::NorFlash;
use sequential_storage::cache::{Cache, Uncached};
use sequential_storage::map::{MapConfig, MapStorage};

use crate::error::{CatalogError, Error};
use crate::record::{Entry, INSTALL_KEY, InstallRecord, MAX_RECORD, Record};

/// Scratch for one key and record, rounded up to any flash word (at most 32 bytes).
const BUF: usize = (1 + MAX_RECORD).next_multiple_of(32);

/// The map, uncached: a write re-reads the catalog's few page states (one word each), and the
/// firmware saves the 1.25 KB of code the page-state cache costs on riscv32-virt.
type Map<F> = MapStorage<u8, F, Cache<Uncached, Uncached, Uncached, u8>>;

/// The map, and its contents in RAM.
pub(crate) struct Catalog<F: NorFlash, const N: usize> {
    map: Map<F>,
    pub entries: [Option<Entry>; N],
    pub install: Option<InstallRecord>,
    buf: [u8; BUF],
}

impl<F: NorFlash, const N: usize> Catalog<F, N> {
    /// Reads the catalog in `range` of `flash` (an erased range is an empty catalog).
    pub async fn open(flash: F, range: Range<u32>) -> Result<Self, Error<F::Error>> {
        const { assert!(N < 255, "at most 254 catalog entries") };
        let config = MapConfig::<F>::try_new(range)
            .map_err(|_| Error::Layout(crate::layout::LayoutError::CatalogTooSmall))?;
        let mut cat = Self {
            map: MapStorage::new(flash, config, Cache::new_uncached()),
            entries: [const { None }; N],
            install: None,
            buf: [0; BUF],
        };
        // The last item of a key is its value (the map's iteration order per key).
        let mut it = cat.map.fetch_all_items(&mut cat.buf).await?;
        while let Some((key, rec)) = it.next::<Record>(&mut cat.buf).await? {
            match (key, rec) {
                (INSTALL_KEY, Record::Install(i)) => cat.install = Some(i),
                (INSTALL_KEY, _) => cat.install = None,
                (k, rec) => {
                    let Some(place) = cat.entries.get_mut(k as usize - 1) else {
                        match rec {
                            Record::Removed => continue,
                            _ => return Err(Error::CatalogFull),
                        }
                    };
                    *place = match rec {
                        Record::Entry(e) => Some(e),
                        Record::Removed => None,
                        Record::Install(_) => return Err(Error::Catalog(CatalogError::BadRecord)),
                    };
                }
            }
        }
        // An install whose slot an entry already uses finished (the switch was written) but was
        // cut before its record was cleared; so did one linked in place from that file.
        if let Some(i) = cat.install
            && (cat.slot_used_by_entries(i.slot) || cat.linked_from(&i))
        {
            cat.install = None;
        }
        Ok(cat)
    }

    /// The index of the entry called `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.as_ref().is_some_and(|e| e.name == *name))
    }

    /// A free entry index.
    pub fn free_index(&self) -> Option<usize> {
        self.entries.iter().position(Option::is_none)
    }

    /// Whether an entry's active or previous image is in `slot`.
    pub fn slot_used_by_entries(&self, slot: u16) -> bool {
        self.entries
            .iter()
            .flatten()
            .any(|e| e.active.slot == slot || e.previous.is_some_and(|p| p.slot == slot))
    }

    /// Whether the active image of the install's extension was linked in place from its file.
    fn linked_from(&self, i: &InstallRecord) -> bool {
        self.entries.iter().flatten().any(|e| {
            e.name == i.name
                && e.active
                    .xip
                    .is_some_and(|x| (x.file_len, x.file_crc) == (i.len, i.crc))
        })
    }

    /// Writes entry `i` (`None` removes it): one map item.
    /// Awaited at many places: polled out of line, one copy for all of them.
    pub fn put(
        &mut self,
        i: usize,
        entry: Option<Entry>,
    ) -> impl Future<Output = Result<(), Error<F::Error>>> + '_ {
        outlined(async move {
            let rec = entry.map_or(Record::Removed, Record::Entry);
            self.map
                .store_item(&mut self.buf, &(i as u8 + 1), &rec)
                .await?;
            self.entries[i] = entry;
            Ok(())
        })
    }

    /// Writes the install record (`None` clears it): one map item.
    pub fn put_install(
        &mut self,
        rec: Option<InstallRecord>,
    ) -> impl Future<Output = Result<(), Error<F::Error>>> + '_ {
        outlined(async move {
            let r = rec.map_or(Record::Removed, Record::Install);
            self.map.store_item(&mut self.buf, &INSTALL_KEY, &r).await?;
            self.install = rec;
            Ok(())
        })
    }

    /// The flash (the map only touches its own range).
    pub fn flash(&mut self) -> &mut F {
        self.map.flash()
    }

    /// Gives back the flash.
    pub fn into_flash(self) -> F {
        self.map.destroy().0
    }
}
