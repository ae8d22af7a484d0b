//! Installing an image: chunks stream into a free slot while its CRC is computed; once it is
//! verified, one catalog write switches the extension to it. Progress is recorded after each
//! erase page, so an install cut by a reset resumes from the last whole page.

use embedded_storage_async::nor_flash::NorFlash;
use llext_loader::outline::outlined;

use crate::error::Error;
use crate::name::ExtName;
use crate::read::{self, CRC32, Digest};
use crate::record::{Deps, Entry, Image, InstallRecord, MAX_DEPS, State};
use crate::storage::Storage;

/// Bytes gathered before each program operation (a multiple of every supported word size and
/// a divisor of every supported page size, see [`crate::Layout::check`]).
const CHUNK: usize = 256;

/// How an extension is installed.
#[derive(Clone, Copy, Debug, Default)]
pub struct InstallOptions<'a> {
    /// Load it at boot.
    pub boot: bool,
    /// Its version; `None` counts up from the installed one (or starts at 1).
    pub version: Option<u32>,
    /// Extensions it needs loaded first (boot also learns them from what it links against).
    pub deps: &'a [&'a str],
    /// It is to be linked in place ([`Installer::finish_xip`]): the same file already active,
    /// linked in place from it, is then "already installed".
    pub xip: bool,
}

/// What [`Installer::finish`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Installed {
    /// The extension's entry as now stored.
    pub entry: Entry,
    /// The same image was already installed; nothing was written but the flags.
    pub unchanged: bool,
}

/// The install in progress, in RAM.
pub(crate) struct Session {
    pub rec: InstallRecord,
    boot: bool,
    version: Option<u32>,
    deps: Deps,
    /// Bytes accepted (programmed or in `buf`).
    pub received: u32,
    /// Bytes programmed.
    pub flushed: u32,
    /// Bytes from the slot's start erased during this session.
    erased_to: u32,
    digest: Digest,
    buf: [u8; CHUNK],
    /// The same image is already the active one.
    pub unchanged: bool,
    /// ... linked in place from this same file (`unchanged` too): nothing to link again.
    pub in_place: bool,
}

/// Feeds an install into flash, chunk by chunk, as a protocol server receives it.
///
/// Get one from [`Storage::installer`] whenever a message arrives; the install's state lives in
/// the [`Storage`], so nothing borrows across messages.
pub struct Installer<'s, F: NorFlash, const N: usize> {
    pub(crate) st: &'s mut Storage<F, N>,
}

impl<F: NorFlash, const N: usize> Storage<F, N> {
    /// The installer.
    pub fn installer(&mut self) -> Installer<'_, F, N> {
        Installer { st: self }
    }
}

impl<F: NorFlash, const N: usize> Installer<'_, F, N> {
    /// Starts (or resumes) installing `len` bytes with CRC-32 `crc` as `name`; returns the
    /// offset to send from: 0 for a new install, more when flash already holds the start of
    /// this same image (from an install cut by a reset or a lost link), `len` when this exact
    /// image is already installed. Beginning a different image abandons any other install.
    pub async fn begin(
        &mut self,
        name: &str,
        len: u32,
        crc: u32,
        opts: InstallOptions<'_>,
    ) -> Result<u32, Error<F::Error>> {
        let (ext, deps) = self.check_request(name, len, &opts)?;
        let st = &mut *self.st;
        let existing = st.catalog.find(name);
        let same = |r: &InstallRecord| r.name == ext && r.len == len && r.crc == crc;
        let session = |rec: InstallRecord, digest, unchanged| Session {
            rec,
            boot: opts.boot,
            version: opts.version,
            deps,
            received: rec.written,
            flushed: rec.written,
            erased_to: rec.written,
            digest,
            buf: [0; CHUNK],
            unchanged,
            in_place: false,
        };

        // This exact file is the active image (or, for an install in place, the file the active
        // image was linked in place from), and its slot still reads back right: nothing to send.
        if let Some(a) = existing
            .and_then(|i| st.catalog.entries[i])
            .map(|e| e.active)
            && a.state != State::Failed
            && let Some(in_place) = holds_file(&a, len, crc, opts.xip)
            && read::crc_of(st.catalog.flash(), st.layout.slot(a.slot).start, a.len)
                .await
                .map_err(Error::Flash)?
                == a.crc
        {
            let rec = InstallRecord {
                name: ext,
                slot: a.slot,
                len,
                crc,
                written: len,
                prefix_crc: crc,
            };
            let mut s = session(rec, CRC32.digest(), true);
            s.in_place = in_place;
            st.session = Some(s);
            return Ok(len);
        }
        // Still in RAM from this run (the link dropped, the device did not reset).
        if let Some(s) = &mut st.session
            && same(&s.rec)
            && !s.unchanged
        {
            s.boot = opts.boot;
            s.version = opts.version;
            s.deps = deps;
            return Ok(s.received);
        }
        st.session = None;
        // Recorded in flash by an earlier run: check what it wrote, resume after it.
        if let Some(rec) = st.catalog.install
            && same(&rec)
        {
            let base = st.layout.slot(rec.slot).start;
            let mut digest = CRC32.digest();
            read::crc_range(st.catalog.flash(), base, rec.written, &mut digest)
                .await
                .map_err(Error::Flash)?;
            if digest.clone().finalize() == rec.prefix_crc {
                st.session = Some(session(rec, digest, false));
                return Ok(rec.written);
            }
        }
        let slot = allocate(st, existing, None).await?;
        let rec = InstallRecord {
            name: ext,
            slot,
            len,
            crc,
            written: 0,
            prefix_crc: CRC32.digest().finalize(),
        };
        st.catalog.put_install(Some(rec)).await?;
        st.session = Some(session(rec, CRC32.digest(), false));
        Ok(0)
    }

    /// The name and dependencies of an install request, checked against the catalog's limits.
    fn check_request(
        &self,
        name: &str,
        len: u32,
        opts: &InstallOptions<'_>,
    ) -> Result<(ExtName, Deps), Error<F::Error>> {
        let ext = ExtName::new(name).ok_or(Error::BadName)?;
        if opts.deps.len() > MAX_DEPS {
            return Err(Error::TooManyDependencies);
        }
        let mut deps = Deps::EMPTY;
        for d in opts.deps {
            deps.push(ExtName::new(d).ok_or(Error::BadName)?);
        }
        let slot_size = self.st.layout.slot_size;
        if len > slot_size {
            return Err(Error::TooLarge { len, slot_size });
        }
        if self.st.catalog.find(name).is_none() && self.st.catalog.free_index().is_none() {
            return Err(Error::CatalogFull);
        }
        Ok((ext, deps))
    }

    /// Takes `bytes` at `offset`; returns the next offset wanted. Bytes before it that were
    /// already received are skipped (a resent chunk); a chunk past it is refused with
    /// [`Error::OutOfOrder`] naming the offset to send from.
    pub async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<u32, Error<F::Error>> {
        let st = &mut *self.st;
        let s = st.session.as_mut().ok_or(Error::NoInstall)?;
        if offset > s.received {
            return Err(Error::OutOfOrder {
                expected: s.received,
            });
        }
        let skip = (s.received - offset) as usize;
        let Some(mut bytes) = bytes.get(skip..) else {
            return Ok(s.received);
        };
        if u64::from(s.received) + bytes.len() as u64 > u64::from(s.rec.len) {
            return Err(Error::PastEnd { len: s.rec.len });
        }
        if s.unchanged {
            s.received += bytes.len() as u32;
            return Ok(s.received);
        }
        let base = st.layout.slot(s.rec.slot).start;
        while !bytes.is_empty() {
            let s = st.session.as_mut().ok_or(Error::NoInstall)?;
            let fill = (s.received - s.flushed) as usize;
            let n = bytes.len().min(CHUNK - fill);
            s.buf[fill..fill + n].copy_from_slice(&bytes[..n]);
            s.received += n as u32;
            bytes = &bytes[n..];
            if fill + n == CHUNK {
                flush(st, base).await?;
            }
        }
        Ok(st.session.as_ref().map_or(0, |s| s.received))
    }

    /// Bytes received so far, and the total, of the install in progress.
    pub fn progress(&self) -> Option<(u32, u32)> {
        self.st.session.as_ref().map(|s| (s.received, s.rec.len))
    }

    /// Ends the install: checks the CRC of what arrived and of what reads back from the slot,
    /// then switches the catalog to the new image in one write. The new image is pending (on
    /// trial at the next boot); the version it replaces stays in its slot to roll back to.
    /// On a CRC mismatch the install is dropped and its slot freed.
    pub async fn finish(&mut self) -> Result<Installed, Error<F::Error>> {
        let st = &mut *self.st;
        if st.complete_session()?.unchanged {
            return unchanged(st).await;
        }
        let rec = verified(st).await?;
        let image = Image {
            slot: rec.slot,
            len: rec.len,
            crc: rec.crc,
            version: 0,
            state: State::Pending,
            xip: None,
        };
        switch(st, rec.name, image).await
    }

    /// Abandons the install in progress; its slot is free again.
    pub async fn abort(&mut self) -> Result<(), Error<F::Error>> {
        self.st.session = None;
        if self.st.catalog.install.is_some() {
            self.st.catalog.put_install(None).await?;
        }
        Ok(())
    }
}

impl<F: NorFlash, const N: usize> Storage<F, N> {
    /// The install in progress, once it received every byte.
    pub(crate) fn complete_session(&self) -> Result<&Session, Error<F::Error>> {
        let s = self.session.as_ref().ok_or(Error::NoInstall)?;
        if s.received < s.rec.len {
            return Err(Error::Incomplete {
                received: s.received,
                len: s.rec.len,
            });
        }
        Ok(s)
    }
}

/// Whether active image `a` is the `len`-byte file of CRC `crc` (`Some(false)`) or, for an
/// install in place (`xip`), was linked in place from it (`Some(true)`).
fn holds_file(a: &Image, len: u32, crc: u32, xip: bool) -> Option<bool> {
    match a.xip {
        None => ((a.len, a.crc) == (len, crc)).then_some(false),
        Some(x) => (xip && (x.file_len, x.file_crc) == (len, crc)).then_some(true),
    }
}

/// Ends an install of the image already active: only its boot flag and dependencies change.
pub(crate) async fn unchanged<F: NorFlash, const N: usize>(
    st: &mut Storage<F, N>,
) -> Result<Installed, Error<F::Error>> {
    let s = st.complete_session()?;
    let i = st
        .catalog
        .find(s.rec.name.as_str())
        .ok_or(Error::NotInstalled)?;
    let mut e = st.catalog.entries[i].expect("found");
    let (boot, deps) = (s.boot, s.deps);
    st.session = None;
    if e.boot != boot || (!deps.is_empty() && e.deps != deps) {
        e.boot = boot;
        if !deps.is_empty() {
            e.deps = deps;
        }
        st.catalog.put(i, Some(e)).await?;
    }
    Ok(Installed {
        entry: e,
        unchanged: true,
    })
}

/// Programs what is still buffered and checks the CRC of what arrived and of what reads back
/// from the slot; on a mismatch the install is dropped (its slot free again).
pub(crate) fn verified<F: NorFlash, const N: usize>(
    st: &mut Storage<F, N>,
) -> impl Future<Output = Result<InstallRecord, Error<F::Error>>> + '_ {
    outlined(async move {
        let s = st.complete_session()?;
        let base = st.layout.slot(s.rec.slot).start;
        if s.flushed < s.received {
            flush(st, base).await?;
        }
        let s = st.session.as_ref().ok_or(Error::NoInstall)?;
        let rec = s.rec;
        let found = s.digest.clone().finalize();
        if found != rec.crc {
            let err = Error::CrcMismatch {
                expected: rec.crc,
                found,
            };
            return Err(drop_install(st, err).await);
        }
        let found = read::crc_of(st.catalog.flash(), base, rec.len)
            .await
            .map_err(Error::Flash)?;
        if found != rec.crc {
            let err = Error::VerifyFailed {
                expected: rec.crc,
                found,
            };
            return Err(drop_install(st, err).await);
        }
        Ok(rec)
    })
}

/// The switch: the entry of `name` gets `image` as its active version (pending, its version
/// counted up unless the install chose one), the version it replaces kept to roll back to; one
/// item write. Then the install record is cleared.
pub(crate) fn switch<F: NorFlash, const N: usize>(
    st: &mut Storage<F, N>,
    name: ExtName,
    mut image: Image,
) -> impl Future<Output = Result<Installed, Error<F::Error>>> + '_ {
    outlined(async move {
        let existing = st.catalog.find(name.as_str());
        let s = st.session.as_ref().ok_or(Error::NoInstall)?;
        let old = existing.and_then(|i| st.catalog.entries[i]);
        image.version = s
            .version
            .unwrap_or_else(|| old.map_or(1, |e| e.active.version.wrapping_add(1)));
        // Keep the confirmed version this one replaces, unless it is this same image (being
        // reinstalled over a damaged copy): then keep what was kept before.
        let previous = old.and_then(|e| match e.active.state {
            State::Confirmed if (e.active.len, e.active.crc) != (image.len, image.crc) => {
                Some(e.active)
            }
            _ => e.previous,
        });
        let entry = Entry {
            name,
            boot: s.boot,
            deps: if s.deps.is_empty() {
                old.map_or(Deps::EMPTY, |e| e.deps)
            } else {
                s.deps
            },
            active: image,
            previous,
        };
        let i = existing
            .or_else(|| st.catalog.free_index())
            .ok_or(Error::CatalogFull)?;
        st.catalog.put(i, Some(entry)).await?;
        st.session = None;
        st.catalog.put_install(None).await?;
        Ok(Installed {
            entry,
            unchanged: false,
        })
    })
}

/// Drops the install after a failed check and returns `err` (or the flash error clearing it).
pub(crate) fn drop_install<F: NorFlash, const N: usize>(
    st: &mut Storage<F, N>,
    err: Error<F::Error>,
) -> impl Future<Output = Error<F::Error>> + '_ {
    outlined(async move {
        st.session = None;
        match st.catalog.put_install(None).await {
            Ok(()) => err,
            Err(e) => e,
        }
    })
}

/// Programs what is buffered (padding a last partial word with `0xff`), erasing pages just
/// before they are first written, and records progress at each whole page.
pub(crate) fn flush<F: NorFlash, const N: usize>(
    st: &mut Storage<F, N>,
    base: u32,
) -> impl Future<Output = Result<(), Error<F::Error>>> + '_ {
    outlined(async move {
        let page = F::ERASE_SIZE as u32;
        let s = st.session.as_mut().ok_or(Error::NoInstall)?;
        let n = (s.received - s.flushed) as usize;
        let padded = n.next_multiple_of(F::WRITE_SIZE);
        s.buf[n..padded].fill(0xff);
        let end = s.flushed + padded as u32;
        let flash = st.catalog.flash();
        while s.erased_to < end {
            flash
                .erase(base + s.erased_to, base + s.erased_to + page)
                .await
                .map_err(Error::Flash)?;
            s.erased_to += page;
        }
        flash
            .write(base + s.flushed, &s.buf[..padded])
            .await
            .map_err(Error::Flash)?;
        s.digest.update(&s.buf[..n]);
        s.flushed += n as u32;
        if s.flushed % page == 0 && s.flushed < s.rec.len {
            let rec = InstallRecord {
                written: s.flushed,
                prefix_crc: s.digest.clone().finalize(),
                ..s.rec
            };
            s.rec = rec;
            st.catalog.put_install(Some(rec)).await?;
        }
        Ok(())
    })
}

/// A free slot for an install of entry `for_entry`: a slot nothing uses, searched from after
/// the entry's active slot (spreading wear), else the fallback (previous version of a confirmed
/// extension) of this entry, else of another; a reclaimed fallback is dropped from its entry
/// first.
pub(crate) fn allocate<F: NorFlash, const N: usize>(
    st: &mut Storage<F, N>,
    for_entry: Option<usize>,
    avoid: Option<u16>,
) -> impl Future<Output = Result<u16, Error<F::Error>>> + '_ {
    outlined(async move {
        let count = st.layout.slot_count;
        let after = for_entry.and_then(|i| st.catalog.entries[i]).map_or_else(
            || {
                st.catalog
                    .entries
                    .iter()
                    .flatten()
                    .map(|e| e.active.slot + 1)
                    .max()
                    .unwrap_or(0)
            },
            |e| e.active.slot + 1,
        );
        // The abandoned install's slot (if any) counts as free: its record is about to be replaced.
        if let Some(s) = (0..count)
            .map(|k| (after + k) % count)
            .find(|&s| !st.catalog.slot_used_by_entries(s) && Some(s) != avoid && !st.is_pinned(s))
        {
            return Ok(s);
        }
        let reclaimable = |e: &Entry| e.active.state == State::Confirmed && e.previous.is_some();
        let victim = for_entry
            .filter(|&i| st.catalog.entries[i].as_ref().is_some_and(reclaimable))
            .or_else(|| {
                st.catalog
                    .entries
                    .iter()
                    .position(|e| e.as_ref().is_some_and(reclaimable))
            })
            .ok_or(Error::NoFreeSlot)?;
        let mut e = st.catalog.entries[victim].expect("found");
        let slot = e.previous.take().expect("reclaimable").slot;
        if st.is_pinned(slot) {
            // Code of a loaded execute-in-place extension runs from it.
            return Err(Error::NoFreeSlot);
        }
        st.catalog.put(victim, Some(e)).await?;
        Ok(slot)
    })
}
