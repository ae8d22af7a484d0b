//! A `NorFlash` kept in a file, so a simulated device's installs survive a restart.
//!
//! Every program or erase is written through to the file before it returns, so killing the
//! process (even with SIGKILL) leaves the file as a power cut would leave real flash between
//! two operations.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::vec;

use embedded_storage_async::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

/// A flash in a file: 4-byte words, 4 KiB pages, erased bytes are `0xff`.
///
/// Programming only clears bits (the new word is ANDed with the old), as NOR flash does.
pub struct FileFlash {
    file: File,
    capacity: usize,
}

/// An I/O error of a [`FileFlash`], or a bad argument.
#[derive(Debug)]
pub enum FileFlashError {
    /// The file could not be read or written.
    Io(io::Error),
    /// Out of bounds or misaligned.
    Bad(NorFlashErrorKind),
}

impl NorFlashError for FileFlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            FileFlashError::Io(_) => NorFlashErrorKind::Other,
            FileFlashError::Bad(k) => *k,
        }
    }
}

impl core::fmt::Display for FileFlashError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FileFlashError::Io(e) => write!(f, "flash file: {e}"),
            FileFlashError::Bad(k) => write!(f, "{k}"),
        }
    }
}

impl From<io::Error> for FileFlashError {
    fn from(e: io::Error) -> Self {
        FileFlashError::Io(e)
    }
}

impl FileFlash {
    /// Size of a flash file created by [`FileFlash::open`]: 2 MiB.
    pub const DEFAULT_SIZE: usize = 2 << 20;

    /// The layout for a default-size file: a 128 KiB catalog (32 pages), then fifteen 128 KiB
    /// slots: extensions of up to 128 KiB, up to 14 installed with one slot left for the install
    /// in progress (7 if each also keeps its previous version).
    pub const DEFAULT_LAYOUT: crate::Layout =
        crate::Layout::uniform(Self::DEFAULT_SIZE as u32, 128 << 10);

    /// Opens `path`, creating it erased and [`FileFlash::DEFAULT_SIZE`] bytes long if missing.
    pub fn open(path: &Path) -> io::Result<Self> {
        Self::open_with_size(path, Self::DEFAULT_SIZE)
    }

    /// Opens `path`, creating it erased and `size` bytes long if missing. An existing file keeps
    /// its size, which must be a whole number of pages.
    pub fn open_with_size(path: &Path, size: usize) -> io::Result<Self> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let mut len = file.metadata()?.len() as usize;
        if len == 0 {
            if !size.is_multiple_of(Self::ERASE_SIZE) {
                return Err(io::Error::other("flash size must be a multiple of 4 KiB"));
            }
            let page = vec![0xffu8; Self::ERASE_SIZE];
            for _ in 0..size / Self::ERASE_SIZE {
                file.write_all(&page)?;
            }
            file.sync_all()?;
            len = size;
        }
        if !len.is_multiple_of(Self::ERASE_SIZE) {
            return Err(io::Error::other(std::format!(
                "{}: {len} bytes is not a whole number of 4 KiB flash pages",
                path.display()
            )));
        }
        Ok(Self {
            file,
            capacity: len,
        })
    }

    /// Flushes the file to the disk (only needed to survive a crash of the host itself).
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }

    fn read_at(&mut self, offset: u32, bytes: &mut [u8]) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(offset.into()))?;
        self.file.read_exact(bytes)
    }

    fn write_at(&mut self, offset: u32, bytes: &[u8]) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(offset.into()))?;
        self.file.write_all(bytes)
    }
}

impl ErrorType for FileFlash {
    type Error = FileFlashError;
}

impl ReadNorFlash for FileFlash {
    const READ_SIZE: usize = 1;

    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        super::check(offset, bytes.len(), 1, self.capacity).map_err(FileFlashError::Bad)?;
        Ok(self.read_at(offset, bytes)?)
    }

    fn capacity(&self) -> usize {
        self.capacity
    }
}

impl NorFlash for FileFlash {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = 4096;

    async fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        if to < from {
            return Err(FileFlashError::Bad(NorFlashErrorKind::OutOfBounds));
        }
        super::check(from, (to - from) as usize, Self::ERASE_SIZE, self.capacity)
            .map_err(FileFlashError::Bad)?;
        let page = [0xffu8; Self::ERASE_SIZE];
        for p in (from..to).step_by(Self::ERASE_SIZE) {
            self.write_at(p, &page)?;
        }
        Ok(())
    }

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        super::check(offset, bytes.len(), Self::WRITE_SIZE, self.capacity)
            .map_err(FileFlashError::Bad)?;
        let mut old = [0u8; 256];
        for (i, chunk) in bytes.chunks(old.len()).enumerate() {
            let at = offset + (i * old.len()) as u32;
            let old = &mut old[..chunk.len()];
            self.read_at(at, old)?;
            for (o, n) in old.iter_mut().zip(chunk) {
                *o &= *n;
            }
            self.write_at(at, old)?;
        }
        Ok(())
    }
}
