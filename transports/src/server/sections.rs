//! Where each section of a pushed file was placed, kept per registry slot for the `Sections`
//! request (GDB scripts and load logs on the host map the indices to names).

use llext_loader::memory::MemKind;

/// Placed sections kept per extension; more are counted, not kept.
pub(crate) const MAX_PLACED: usize = 24;

/// One placed section: its index in the file, region, offset in the region, size, and the
/// relocations applied to it (saturating; the field fits the struct's padding).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Placed {
    pub section: u32,
    pub kind: MemKind,
    pub offset: u32,
    pub size: u32,
    pub relocations: u16,
}

/// The placed sections of one extension, and the file they index.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Placements {
    pub total_len: u32,
    pub crc32: u32,
    count: u8,
    pub dropped: u16,
    /// Loader-made slots (veneers, GOT entries).
    pub trampolines: u16,
    secs: [Option<Placed>; MAX_PLACED],
}

impl Placements {
    /// None kept, for a file of `total_len` bytes with CRC `crc32` (0, 0: unknown).
    pub const fn new(total_len: u32, crc32: u32) -> Self {
        Self {
            total_len,
            crc32,
            count: 0,
            dropped: 0,
            trampolines: 0,
            secs: [None; MAX_PLACED],
        }
    }

    /// Keeps `p`, or counts it as dropped when full.
    pub fn add(&mut self, p: Placed) {
        match self.secs.get_mut(self.count as usize) {
            Some(slot) => {
                *slot = Some(p);
                self.count += 1;
            }
            None => self.dropped = self.dropped.saturating_add(1),
        }
    }

    /// Notes that `relocations` entries were applied to `section`, and how many trampolines
    /// the load has made by then.
    pub fn relocated(&mut self, section: u32, relocations: u32, trampolines: u32) {
        self.trampolines = trampolines.min(u16::MAX.into()) as u16;
        let placed = self.secs.iter_mut().flatten();
        if let Some(p) = placed.into_iter().find(|p| p.section == section) {
            p.relocations = relocations.min(u16::MAX.into()) as u16;
        }
    }

    /// The kept sections, in the order the loader placed them.
    pub fn iter(&self) -> impl Iterator<Item = &Placed> {
        self.secs.iter().flatten()
    }
}
