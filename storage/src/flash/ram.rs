//! A RAM `NorFlash` for tests and benchmarks: real NOR rules (erase to `0xff`, program only
//! clears bits), operation and wear counters, and a power cut after the Nth program or erase.

use std::vec;
use std::vec::Vec;

use embedded_storage_async::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

/// What a cut does to the operation it interrupts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tear {
    /// The interrupted operation leaves no trace.
    None,
    /// The interrupted operation is half done: a write programs its first half (in whole
    /// words), an erase erases the first half of its range.
    Half,
}

/// When the power goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PowerCut {
    /// How many more program or erase operations complete; the next one is cut.
    pub after_ops: u64,
    /// What happens to the cut operation.
    pub tear: Tear,
}

/// What the flash has been asked to do since it was made or its counters were reset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlashStats {
    /// Program and erase operations (each `write` or `erase` call is one).
    pub ops: u64,
    /// Pages erased (an `erase` over three pages counts three).
    pub pages_erased: u64,
    /// Bytes programmed.
    pub bytes_written: u64,
    /// Bytes read.
    pub bytes_read: u64,
    /// Words programmed that were not fully erased first (NOR would AND them; a bug in a user).
    pub rewrites: u64,
}

/// Errors of [`RamFlash`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RamFlashError {
    /// The power is off (cut by [`PowerCut`]) until [`RamFlash::power_on`].
    PowerCut,
    /// Out of bounds or misaligned.
    Bad(NorFlashErrorKind),
}

impl NorFlashError for RamFlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            RamFlashError::PowerCut => NorFlashErrorKind::Other,
            RamFlashError::Bad(k) => *k,
        }
    }
}

impl core::fmt::Display for RamFlashError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RamFlashError::PowerCut => f.write_str("power cut"),
            RamFlashError::Bad(k) => write!(f, "{k}"),
        }
    }
}

/// A NOR flash in RAM with `WRITE`-byte words and `ERASE`-byte pages (reads any byte).
#[derive(Clone, Debug)]
pub struct RamFlash<const WRITE: usize, const ERASE: usize> {
    data: super::exec::ExecBytes,
    erases: Vec<u32>,
    stats: FlashStats,
    cut: Option<PowerCut>,
    powered: bool,
}

impl<const WRITE: usize, const ERASE: usize> RamFlash<WRITE, ERASE> {
    /// An erased flash of `pages` pages.
    pub fn new(pages: usize) -> Self {
        Self {
            data: super::exec::ExecBytes::new(pages * ERASE, 0xff),
            erases: vec![0; pages],
            stats: FlashStats::default(),
            cut: None,
            powered: true,
        }
    }

    /// Arms a power cut (replacing any armed one).
    pub fn cut_power(&mut self, cut: PowerCut) {
        self.cut = Some(cut);
    }

    /// Whether an armed cut has happened and the power is off.
    pub fn is_off(&self) -> bool {
        !self.powered
    }

    /// Restores power (a restart) and disarms any cut.
    pub fn power_on(&mut self) {
        self.powered = true;
        self.cut = None;
    }

    /// Counters since creation or [`RamFlash::reset_stats`].
    pub fn stats(&self) -> &FlashStats {
        &self.stats
    }

    /// Zeroes the counters (per-page erase counts too).
    pub fn reset_stats(&mut self) {
        self.stats = FlashStats::default();
        self.erases.fill(0);
    }

    /// How many times each page was erased.
    pub fn erase_counts(&self) -> &[u32] {
        &self.erases
    }

    /// The raw contents.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// The raw contents, to damage on purpose (bit flips) in tests.
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// Counts one program or erase; `Some(tear)` when this one is cut.
    fn begin_op(&mut self) -> Result<Option<Tear>, RamFlashError> {
        if !self.powered {
            return Err(RamFlashError::PowerCut);
        }
        if let Some(cut) = &mut self.cut {
            if cut.after_ops == 0 {
                self.powered = false;
                return Ok(Some(cut.tear));
            }
            cut.after_ops -= 1;
        }
        self.stats.ops += 1;
        Ok(None)
    }

    fn program(&mut self, offset: usize, bytes: &[u8]) {
        for (w, chunk) in bytes.chunks(WRITE).enumerate() {
            let at = offset + w * WRITE;
            let dst = &mut self.data[at..at + chunk.len()];
            if dst.iter().any(|&b| b != 0xff) {
                self.stats.rewrites += 1;
            }
            for (d, s) in dst.iter_mut().zip(chunk) {
                *d &= *s;
            }
        }
        self.stats.bytes_written += bytes.len() as u64;
    }
}

impl<const WRITE: usize, const ERASE: usize> ErrorType for RamFlash<WRITE, ERASE> {
    type Error = RamFlashError;
}

impl<const WRITE: usize, const ERASE: usize> ReadNorFlash for RamFlash<WRITE, ERASE> {
    const READ_SIZE: usize = 1;

    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        if !self.powered {
            return Err(RamFlashError::PowerCut);
        }
        super::check(offset, bytes.len(), 1, self.data.len()).map_err(RamFlashError::Bad)?;
        let at = offset as usize;
        bytes.copy_from_slice(&self.data[at..at + bytes.len()]);
        self.stats.bytes_read += bytes.len() as u64;
        Ok(())
    }

    fn capacity(&self) -> usize {
        self.data.len()
    }
}

impl<const WRITE: usize, const ERASE: usize> NorFlash for RamFlash<WRITE, ERASE> {
    const WRITE_SIZE: usize = WRITE;
    const ERASE_SIZE: usize = ERASE;

    async fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        if to < from {
            return Err(RamFlashError::Bad(NorFlashErrorKind::OutOfBounds));
        }
        super::check(from, (to - from) as usize, ERASE, self.data.len())
            .map_err(RamFlashError::Bad)?;
        let (from, to) = (from as usize, to as usize);
        let end = match self.begin_op()? {
            None => to,
            Some(Tear::None) => return Err(RamFlashError::PowerCut),
            Some(Tear::Half) => from + (to - from) / 2,
        };
        self.data[from..end].fill(0xff);
        for p in from / ERASE..end.div_ceil(ERASE) {
            self.erases[p] += 1;
            self.stats.pages_erased += 1;
        }
        if end == to {
            Ok(())
        } else {
            Err(RamFlashError::PowerCut)
        }
    }

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        super::check(offset, bytes.len(), WRITE, self.data.len()).map_err(RamFlashError::Bad)?;
        match self.begin_op()? {
            None => {
                self.program(offset as usize, bytes);
                Ok(())
            }
            Some(Tear::None) => Err(RamFlashError::PowerCut),
            Some(Tear::Half) => {
                let half = (bytes.len() / WRITE / 2) * WRITE;
                self.program(offset as usize, &bytes[..half]);
                Err(RamFlashError::PowerCut)
            }
        }
    }
}
