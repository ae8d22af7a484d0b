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
        })
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
