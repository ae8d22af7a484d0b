//! Execute-in-place installs and loads: the file streams into a staging slot as for any install
//! and is verified there; then it is linked from that slot into a second slot, a flash page at
//! a time, for the addresses that slot has in the memory map; the catalog switch names the
//! linked slot. Loading it copies `.data`, zeroes `.bss` and relocates nothing.

use embedded_storage_async::nor_flash::NorFlash;
use llext_loader::memory::MemoryProvider;
use llext_loader::symbols::Resolve;
use llext_loader::xip::{self, HEADER, Header, Plan};
use llext_loader::{LoadParams, Registry, Report};

use crate::boot::Failure;
use crate::error::Error;
use crate::install::{Installed, Installer, allocate, drop_install, switch, verified};
use crate::name::ExtName;
use crate::read::{self, CRC32, Digest};
use crate::record::{Image, InPlace, InstallRecord, State};
use crate::storage::Storage;

/// Most RAM ranges an execute-in-place link keeps clear of (two per catalog entry, plus the
/// ones loaded since start).
const MAX_TAKEN: usize = 96;

impl<F: NorFlash, const N: usize> Installer<'_, F, N> {
    /// Ends the install as execute-in-place: checks the file as [`Installer::finish`] does,
    /// links it from its slot into another free slot for that slot's mapped address (data and
    /// bss in a free range of the reserved RAM), reads the linked image back, then switches the
    /// catalog to it in one write. Its symbols resolve against `reg`'s firmware exports only.
    /// The staging slot is free again afterwards; a power cut before the switch leaves the
    /// installed version as it was and the install resumable.
    pub async fn finish_xip<P: MemoryProvider, R: Resolve, const M: usize>(
        &mut self,
        reg: &mut Registry<P, R, M>,
        params: &LoadParams,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<Installed, Error<F::Error>> {
        let st = &mut *self.st;
        let cfg = st.xip.clone().ok_or(Error::NoXip)?;
        let s = st.complete_session()?;
        if s.in_place {
            return crate::install::unchanged(st).await;
        }
        let rec = if s.unchanged {
            s.rec // the same file is the active, normal image: link from its slot
        } else {
            verified(st).await?
        };
        let existing = st.catalog.find(rec.name.as_str());
        let xslot = allocate(st, existing, Some(rec.slot)).await?;
        let (base, xbase) = (st.layout.slot(rec.slot).start, st.layout.slot(xslot).start);
        let mut taken = [(0u64, 0u64); MAX_TAKEN];
        let n = st.taken_ram(&mut taken);
        let plan = Plan {
            flash: cfg.mapped + u64::from(xbase),
            room: st.layout.slot_size,
            ram: &cfg.ram,
            taken: &taken[..n],
            table_id: cfg.table_id,
            ram_elsewhere: false,
        };
        let name = rec.name.as_str();
        let mut io = XipIo {
            flash: st.catalog.flash(),
            file: (base, rec.len),
            image: xbase,
            page: F::ERASE_SIZE as u32,
            digest: CRC32.digest(),
            boot: CRC32.digest(),
            failed: None,
        };
        let linked = xip::link(reg, name, &plan, &mut io, params, report).await;
        let (crc, boot_crc) = (io.digest.finalize(), io.boot.finalize());
        let linked = match (linked, io.failed) {
            // As a normal install's programming error: the install stays, to be resumed.
            (_, Some(e)) => return Err(Error::Flash(e)),
            (Err(e), None) => return Err(drop_install(st, Error::Link(e)).await),
            (Ok(l), None) => l,
        };
        let (len, ram) = (linked.len(), linked.ram());
        let found = read::crc_of(st.catalog.flash(), xbase, len)
            .await
            .map_err(Error::Flash)?;
        if found != crc {
            let err = Error::VerifyFailed {
                expected: crc,
                found,
            };
            return Err(drop_install(st, err).await);
        }
        let image = Image {
            slot: xslot,
            len,
            crc,
            version: 0,
            state: State::Pending,
            xip: Some(in_place(&rec, ram, cfg.table_id, boot_crc)),
        };
        switch(st, rec.name, image).await
    }
}

fn in_place(rec: &InstallRecord, ram: (u64, u64), table_id: u32, boot_crc: u32) -> InPlace {
    InPlace {
        ram: ram.0,
        ram_len: ram.1 as u32,
        table_id,
        file_len: rec.len,
        file_crc: rec.crc,
        boot_crc,
    }
}

/// The flash as a link sees it: the installed file read from its staging slot, the image
/// programmed into the in-place slot (each page erased just before its first chunk) with its
/// CRC and that of what a load reads ([`boot_parts`]) computed as it goes.
struct XipIo<'a, F: NorFlash> {
    flash: &'a mut F,
    /// The staging slot's start and the file's length.
    file: (u32, u32),
    /// The in-place slot's start.
    image: u32,
    page: u32,
    digest: Digest,
    boot: Digest,
    /// The programming error that ended the link, if one did.
    failed: Option<F::Error>,
}

impl<F: NorFlash> XipIo<'_, F> {
    /// Keeps programming error `e` for the install's answer; the link sees an I/O error.
    fn fail(&mut self, e: F::Error, at: u64) -> llext_loader::Error {
        self.failed = Some(e);
        llext_loader::Error::Io {
            kind: embedded_io_async::ErrorKind::Other,
            offset: at,
        }
    }
}

impl<F: NorFlash> xip::LinkIo for XipIo<'_, F> {
    async fn read(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), llext_loader::Error> {
        let (base, len) = self.file;
        let end = offset.saturating_add(buf.len() as u64);
        if end > u64::from(len) {
            return Err(llext_loader::Error::UnexpectedEof { offset: len.into() });
        }
        let read = read::read(self.flash, base + offset as u32, buf).await;
        read.map_err(|_| llext_loader::Error::Io {
            kind: embedded_io_async::ErrorKind::Other,
            offset,
        })
    }

    async fn program(
        &mut self,
        at: u32,
        bytes: &[u8],
        header: &Header,
    ) -> Result<(), llext_loader::Error> {
        let mut buf = [0xffu8; xip::CHUNK];
        buf[..bytes.len()].copy_from_slice(bytes);
        self.digest.update(bytes);
        for r in &boot_parts(header) {
            let (s, e) = (r.start.max(at), r.end.min(at + bytes.len() as u32));
            if s < e {
                self.boot
                    .update(&bytes[(s - at) as usize..(e - at) as usize]);
            }
        }
        let padded = bytes.len().next_multiple_of(F::WRITE_SIZE);
        let base = self.image;
        if at.is_multiple_of(self.page) {
            let erased = self.flash.erase(base + at, base + at + self.page).await;
            erased.map_err(|e| self.fail(e, at.into()))?;
        }
        let written = self.flash.write(base + at, &buf[..padded]).await;
        written.map_err(|e| self.fail(e, at.into()))
    }
}

/// The byte ranges of an in-place image that a load reads: the header, then `.data`'s initial
/// values and the export index (which run to its end).
fn boot_parts(h: &Header) -> [core::ops::Range<u32>; 2] {
    [0..HEADER as u32, h.data_init..h.len]
}

/// The CRC of [`boot_parts`] of `image`, if its header reads.
fn boot_crc(image: &[u8]) -> Option<u32> {
    let h = Header::parse(image).ok()?;
    let mut d = CRC32.digest();
    for r in boot_parts(&h) {
        d.update(image.get(r.start as usize..r.end as usize)?);
    }
    Some(d.finalize())
}

impl<F: NorFlash, const N: usize> Storage<F, N> {
    /// The reserved RAM ranges installed images and extensions loaded in place keep, into
    /// `out`; returns how many.
    fn taken_ram(&self, out: &mut [(u64, u64)]) -> usize {
        let images = self
            .catalog
            .entries
            .iter()
            .flatten()
            .flat_map(|e| [Some(e.active), e.previous])
            .flatten()
            .filter_map(|i| i.xip)
            .map(|x| (x.ram, u64::from(x.ram_len)));
        let live = self.live_ram.iter().copied().filter(|r| r.1 > 0);
        let mut n = 0;
        for (o, r) in out.iter_mut().zip(images.chain(live)) {
            *o = r;
            n += 1;
        }
        n
    }

    /// Loads the execute-in-place image `img` as `name`: its CRC first, then in place (see
    /// [`llext_loader::xip::load_in_place`]). Its slot is then never programmed again until the
    /// next start, nor its RAM range given to another link.
    pub(crate) async fn load_xip<P: MemoryProvider, R: Resolve, const M: usize>(
        &mut self,
        name: &ExtName,
        img: &Image,
        reg: &mut Registry<P, R, M>,
    ) -> Result<Result<usize, Failure>, Error<F::Error>> {
        let x = img.xip.expect("an execute-in-place image");
        let Some(cfg) = self.xip.clone() else {
            let e = llext_loader::Error::Relink {
                linked: x.table_id,
                firmware: 0,
            };
            return Ok(Err(Failure::Load(e)));
        };
        let base = self.layout.slot(img.slot).start;
        let at = (cfg.mapped + u64::from(base)) as usize as *const u8;
        // SAFETY: the firmware maps the whole flash at `cfg.mapped` (`set_xip`'s contract), and
        // the slot is pinned below, so it is never programmed while this extension is loaded.
        let image = unsafe { core::slice::from_raw_parts(at, img.len as usize) };
        let (expected, found) = if cfg.verify_code_at_boot {
            let found = read::crc_of(self.catalog.flash(), base, img.len)
                .await
                .map_err(Error::Flash)?;
            (img.crc, found)
        } else {
            (x.boot_crc, boot_crc(image).unwrap_or(!x.boot_crc))
        };
        if found != expected {
            return Ok(Err(Failure::Corrupt { expected, found }));
        }
        let range = (x.ram, u64::from(x.ram_len).max(1));
        let Some(free) = self
            .live_ram
            .iter()
            .position(|r| *r == range)
            .or_else(|| self.live_ram.iter().position(|r| r.1 == 0))
        else {
            return Ok(Err(Failure::Load(llext_loader::Error::RegistryFull)));
        };
        // SAFETY: `cfg.ram` is the firmware's reserved area; ranges of loaded images are kept
        // out of every later link (`live_ram`), and this image's range was free when linked.
        let loaded =
            unsafe { xip::load_in_place(reg, name.as_str(), image, &cfg.ram, cfg.table_id) };
        if loaded.is_ok() {
            self.pin(img.slot);
            self.live_ram[free] = range;
        }
        Ok(loaded.map_err(Failure::Load))
    }
}
