//! `Storage`: the catalog and the slots together, and the operations on installed extensions.

use core::ops::Range;

use embedded_storage_async::nor_flash::NorFlash;

use crate::catalog::Catalog;
use crate::error::Error;
use crate::install::Session;
use crate::layout::Layout;
use crate::name::ExtName;
use crate::record::{Entry, State};
use crate::source::SlotReader;

/// Extensions in flash: a catalog of up to `N` extensions and the slots holding their images.
///
/// Open it once at start ([`Storage::open`]), load what is marked for boot
/// ([`Storage::boot`]), then serve installs ([`Storage::installer`]) and the catalog commands
/// ([`Storage::list`], [`Storage::confirm`], [`Storage::rollback`], [`Storage::remove`]).
/// Every change to the catalog is one atomic item write, so a power cut leaves either the state
/// before it or the state after it.
pub struct Storage<F: NorFlash, const N: usize> {
    pub(crate) catalog: Catalog<F, N>,
    pub(crate) layout: Layout,
    pub(crate) session: Option<Session>,
    /// Where flash is mapped and the RAM reserved for execute-in-place images, if anywhere.
    pub(crate) xip: Option<XipConfig>,
    /// Slots that loaded execute-in-place code runs from (never programmed until restart).
    pub(crate) pinned: [u8; 32],
    /// Reserved RAM ranges of extensions loaded in place since start (kept out of links).
    pub(crate) live_ram: [(u64, u64); N],
}

/// What execute-in-place installs need from the firmware ([`Storage::set_xip`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct XipConfig {
    /// The address flash offset 0 has in the memory map (the CPU reads and executes it there).
    pub mapped: u64,
    /// The RAM the firmware reserves for installed extensions' data and bss.
    pub ram: Range<u64>,
    /// The firmware's exports table id (images linked for another one are refused at boot).
    pub table_id: u32,
    /// Check the CRC of every byte of an in-place image at each load (its code included), as
    /// for a normal image; `false` checks what the load reads (header, `.data`'s initial values,
    /// export index) and leaves the code to the check made when it was programmed.
    pub verify_code_at_boot: bool,
}

/// An install that was cut off (link lost, reset) and can be resumed by beginning it again with
/// the same name, length and CRC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interrupted {
    /// The extension's name.
    pub name: ExtName,
    /// Its length.
    pub len: u32,
    /// Its CRC-32.
    pub crc: u32,
    /// The offset the install resumes from.
    pub offset: u32,
}

impl<F: NorFlash, const N: usize> Storage<F, N> {
    /// Opens the storage on `flash` with `layout`, reading the catalog (an erased flash is an
    /// empty catalog). Nothing is written.
    pub async fn open(flash: F, layout: Layout) -> Result<Self, Error<F::Error>> {
        layout.check::<F>(flash.capacity()).map_err(Error::Layout)?;
        let catalog = Catalog::open(flash, layout.catalog.clone()).await?;
        Ok(Self {
            catalog,
            layout,
            session: None,
            xip: None,
            pinned: [0; 32],
            live_ram: [(0, 0); N],
        })
    }

    /// Enables execute-in-place installs and boots: the flash is mapped at `cfg.mapped` and
    /// `cfg.ram` is reserved for installed extensions' data and bss.
    pub fn set_xip(&mut self, cfg: XipConfig) {
        self.xip = Some(cfg);
    }

    /// The execute-in-place configuration, if enabled.
    pub fn xip(&self) -> Option<&XipConfig> {
        self.xip.as_ref()
    }

    /// Whether code of a loaded execute-in-place extension may run from slot `s`.
    pub(crate) fn is_pinned(&self, s: u16) -> bool {
        self.pinned[usize::from(s / 8) % 32] & (1 << (s % 8)) != 0
    }

    pub(crate) fn pin(&mut self, s: u16) {
        self.pinned[usize::from(s / 8) % 32] |= 1 << (s % 8);
    }

    /// The layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Installed extensions.
    pub fn list(&self) -> impl Iterator<Item = &Entry> {
        self.catalog.entries.iter().flatten()
    }

    /// The entry of the extension called `name`.
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.list().find(|e| e.name == *name)
    }

    /// The install cut off before it finished, if any (from flash, or from this session).
    pub fn interrupted(&self) -> Option<Interrupted> {
        if let Some(s) = &self.session {
            return Some(Interrupted {
                name: s.rec.name,
                len: s.rec.len,
                crc: s.rec.crc,
                offset: s.received,
            });
        }
        self.catalog.install.map(|i| Interrupted {
            name: i.name,
            len: i.len,
            crc: i.crc,
            offset: i.written,
        })
    }

    /// Marks the active version of `name` confirmed: it stays on later boots. The previous
    /// version is kept as a fallback until its slot is needed.
    pub async fn confirm(&mut self, name: &str) -> Result<&Entry, Error<F::Error>> {
        let i = self.index(name)?;
        let mut e = self.catalog.entries[i].expect("found");
        if e.active.state != State::Confirmed {
            e.active.state = State::Confirmed;
            self.catalog.put(i, Some(e)).await?;
        }
        Ok(self.catalog.entries[i].as_ref().expect("just written"))
    }

    /// Makes the previous version of `name` active again (confirmed); the newer one's slot is
    /// freed. Takes effect at the next load of the extension.
    pub async fn rollback(&mut self, name: &str) -> Result<&Entry, Error<F::Error>> {
        let i = self.index(name)?;
        let e = self.catalog.entries[i].expect("found");
        let mut prev = e.previous.ok_or(Error::NoPrevious)?;
        prev.state = State::Confirmed;
        self.catalog
            .put(
                i,
                Some(Entry {
                    active: prev,
                    previous: None,
                    ..e
                }),
            )
            .await?;
        Ok(self.catalog.entries[i].as_ref().expect("just written"))
    }

    /// Removes `name` from the catalog; its slots become free.
    pub async fn remove(&mut self, name: &str) -> Result<(), Error<F::Error>> {
        let i = self.index(name)?;
        self.catalog.put(i, None).await
    }

    /// Sets whether `name` loads at boot.
    pub async fn set_boot(&mut self, name: &str, boot: bool) -> Result<(), Error<F::Error>> {
        let i = self.index(name)?;
        let e = self.catalog.entries[i].expect("found");
        if e.boot != boot {
            self.catalog.put(i, Some(Entry { boot, ..e })).await?;
        }
        Ok(())
    }

    /// Where the active image of `name` is in the flash (for memory-mapped flash: add the
    /// flash's base address to read it in place).
    pub fn image_range(&self, name: &str) -> Option<Range<u32>> {
        let e = self.entry(name)?;
        let start = self.layout.slot(e.active.slot).start;
        Some(start..start + e.active.len)
    }

    /// A seekable reader of the active image of `name`, to load it on demand (wrap it in
    /// [`llext_loader::source::SeekSource`]). It does not check the CRC; [`Storage::verify`]
    /// does.
    pub fn reader(&mut self, name: &str) -> Result<SlotReader<'_, F>, Error<F::Error>> {
        let r = self.image_range(name).ok_or(Error::NotInstalled)?;
        Ok(SlotReader::new(
            self.catalog.flash(),
            r.start,
            r.end - r.start,
        ))
    }

    /// Reads the active image of `name` and checks its CRC; returns the CRC found and whether
    /// it matches the catalog.
    pub async fn verify(&mut self, name: &str) -> Result<(u32, bool), Error<F::Error>> {
        let e = *self.entry(name).ok_or(Error::NotInstalled)?;
        let start = self.layout.slot(e.active.slot).start;
        let crc = crate::read::crc_of(self.catalog.flash(), start, e.active.len)
            .await
            .map_err(Error::Flash)?;
        Ok((crc, crc == e.active.crc))
    }

    /// The flash, for direct access (tests damage it on purpose; the catalog and slots must not
    /// be written behind the storage's back).
    pub fn flash(&mut self) -> &mut F {
        self.catalog.flash()
    }

    /// Closes the storage and gives back the flash (an install in progress can be resumed
    /// after [`Storage::open`]).
    pub fn into_flash(self) -> F {
        self.catalog.into_flash()
    }

    /// Whether slot `s` is free: no entry and no install in flash holds it.
    pub fn slot_is_free(&self, s: u16) -> bool {
        !self.catalog.slot_used_by_entries(s)
            && self.catalog.install.is_none_or(|i| i.slot != s)
            && self.session.as_ref().is_none_or(|x| x.rec.slot != s)
    }

    /// How many slots are free (their images may be reclaimed fallbacks aside).
    pub fn free_slots(&self) -> u16 {
        (0..self.layout.slot_count)
            .filter(|&s| self.slot_is_free(s))
            .count() as u16
    }

    pub(crate) fn index(&self, name: &str) -> Result<usize, Error<F::Error>> {
        self.catalog.find(name).ok_or(Error::NotInstalled)
    }
}
