//! Where things live on the flash: the catalog partition and the extension slots.

use core::ops::Range;

use embedded_storage_async::nor_flash::NorFlash;

/// The partitions of the flash `Storage` uses (byte offsets in the flash device).
///
/// The catalog needs at least two erase pages; each slot is a whole number of erase pages and
/// holds one extension image (its packed ELF, byte for byte from the slot's first byte).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The catalog partition (a `sequential-storage` map).
    pub catalog: Range<u32>,
    /// First byte of slot 0.
    pub slots_start: u32,
    /// Bytes per slot.
    pub slot_size: u32,
    /// Number of slots (at least 2, so an update can keep the previous version; at most 255).
    pub slot_count: u16,
}

/// Why a [`Layout`] does not fit the flash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutError {
    /// A boundary is not on an erase page boundary.
    NotPageAligned,
    /// The catalog is smaller than two pages.
    CatalogTooSmall,
    /// Fewer than two slots, or more than 255.
    SlotCount,
    /// The catalog and the slots overlap.
    Overlap,
    /// The partitions end past the flash.
    PastEnd,
    /// The flash word does not divide 256 bytes, its page is not a multiple of 256 bytes, or
    /// its read size does not divide 64.
    Geometry,
}

impl core::fmt::Display for LayoutError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            LayoutError::NotPageAligned => "a partition boundary is not on an erase page",
            LayoutError::CatalogTooSmall => "the catalog needs at least two erase pages",
            LayoutError::SlotCount => "there must be 2 to 255 slots",
            LayoutError::Overlap => "the catalog and the slots overlap",
            LayoutError::PastEnd => "the partitions end past the flash",
            LayoutError::Geometry => {
                "the flash word must divide 256 bytes and the page be a multiple of 256"
            }
        })
    }
}

impl Layout {
    /// The first `slot_size` bytes hold the catalog, the rest of `capacity` is cut into slots.
    pub const fn uniform(capacity: u32, slot_size: u32) -> Self {
        Self {
            catalog: 0..slot_size,
            slots_start: slot_size,
            slot_size,
            slot_count: ((capacity / slot_size).saturating_sub(1)) as u16,
        }
    }

    /// The byte range of slot `i`.
    pub fn slot(&self, i: u16) -> Range<u32> {
        let start = self.slots_start + u32::from(i) * self.slot_size;
        start..start + self.slot_size
    }

    /// Checks the layout against flash `F` of `capacity` bytes.
    pub fn check<F: NorFlash>(&self, capacity: usize) -> Result<(), LayoutError> {
        let page = F::ERASE_SIZE as u32;
        if !256usize.is_multiple_of(F::WRITE_SIZE)
            || !page.is_multiple_of(256)
            || !64usize.is_multiple_of(F::READ_SIZE)
        {
            return Err(LayoutError::Geometry);
        }
        let aligned = |x: u32| x.is_multiple_of(page);
        if !(aligned(self.catalog.start)
            && aligned(self.catalog.end)
            && aligned(self.slots_start)
            && aligned(self.slot_size))
            || self.slot_size == 0
        {
            return Err(LayoutError::NotPageAligned);
        }
        if self.catalog.end < self.catalog.start + 2 * page {
            return Err(LayoutError::CatalogTooSmall);
        }
        if !(2..=255).contains(&self.slot_count) {
            return Err(LayoutError::SlotCount);
        }
        let slots_end =
            u64::from(self.slots_start) + u64::from(self.slot_size) * u64::from(self.slot_count);
        if slots_end > capacity as u64 || u64::from(self.catalog.end) > capacity as u64 {
            return Err(LayoutError::PastEnd);
        }
        if u64::from(self.catalog.start) < slots_end && self.slots_start < self.catalog.end {
            return Err(LayoutError::Overlap);
        }
        Ok(())
    }
}
