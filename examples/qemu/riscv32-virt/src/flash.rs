//! The virt board's CFI flash bank 1 (QEMU `cfi.pflash01`, Intel command set) as a `NorFlash`.
//!
//! QEMU maps bank 1 at `0x2200_0000`: 32 MiB, 256 KiB erase blocks (`VIRT_FLASH_SECTOR_SIZE` in
//! `hw/riscv/virt.c`), a 4-byte bank of two 16-bit devices. Without `-drive if=pflash,unit=1`
//! the bank is there but blank (zeros) and forgets everything when QEMU stops.

use embedded_storage_async::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

/// Where bank 1 is mapped.
pub const BASE: usize = 0x2200_0000;
/// Bytes in bank 1.
pub const CAPACITY: usize = 32 << 20;
/// Erase block size.
const BLOCK: usize = 256 << 10;

const READ_ARRAY: u8 = 0xff;
const PROGRAM: u8 = 0x40;
const ERASE: u8 = 0x20;
const CONFIRM: u8 = 0xd0;
const CLEAR_STATUS: u8 = 0x50;
/// Status: the device is ready.
const READY: u32 = 0x80;
/// Status: erase error, program error, low programming voltage, block locked.
const FAILED: u32 = 0x20 | 0x10 | 0x08 | 0x02;

/// Why a flash operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashError {
    /// Misaligned or outside the bank.
    Bad(NorFlashErrorKind),
    /// The device reported this status after a program or an erase.
    Status(u8),
}

impl NorFlashError for FlashError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            FlashError::Bad(k) => *k,
            FlashError::Status(_) => NorFlashErrorKind::Other,
        }
    }
}

/// Bank 1 of the CFI flash; left in read-array mode between operations.
pub struct Pflash(());

impl Pflash {
    /// The flash, its status cleared and in read-array mode.
    ///
    /// # Safety
    /// Only one `Pflash` may exist at a time, and nothing else may access bank 1.
    pub unsafe fn new() -> Self {
        let f = Pflash(());
        f.command(0, CLEAR_STATUS);
        f.command(0, READ_ARRAY);
        f
    }

    /// Writes command `cmd` to both devices of the bank, at word `offset`.
    fn command(&self, offset: usize, cmd: u8) {
        // SAFETY: `offset` is a word-aligned offset inside the bank (checked by the callers); a
        // 32-bit write there is a command cycle to the flash, which this value owns.
        unsafe { ((BASE + offset) as *mut u32).write_volatile(u32::from(cmd) * 0x0001_0001) };
    }

    /// Waits for the status after a program or an erase at `offset`, then returns to read-array.
    fn wait(&self, offset: usize) -> Result<(), FlashError> {
        let status = loop {
            // SAFETY: as in `command`; after a program or erase command a read returns the status.
            let s = unsafe { ((BASE + offset) as *const u32).read_volatile() };
            if s & READY != 0 {
                break s;
            }
        };
        if status & FAILED != 0 {
            self.command(offset, CLEAR_STATUS);
            self.command(offset, READ_ARRAY);
            return Err(FlashError::Status(status as u8));
        }
        Ok(())
    }

    fn check(offset: u32, len: usize, align: usize) -> Result<usize, FlashError> {
        let (start, len) = (offset as usize, len);
        if start.checked_add(len).is_none_or(|end| end > CAPACITY) {
            return Err(FlashError::Bad(NorFlashErrorKind::OutOfBounds));
        }
        if !start.is_multiple_of(align) || !len.is_multiple_of(align) {
            return Err(FlashError::Bad(NorFlashErrorKind::NotAligned));
        }
        Ok(start)
    }
}

impl ErrorType for Pflash {
    type Error = FlashError;
}

impl ReadNorFlash for Pflash {
    const READ_SIZE: usize = 1;

    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), FlashError> {
        let start = Self::check(offset, bytes.len(), 1)?;
        for (i, b) in bytes.iter_mut().enumerate() {
            // SAFETY: inside the bank (checked above), which is in read-array mode: a plain read.
            *b = unsafe { ((BASE + start + i) as *const u8).read_volatile() };
        }
        Ok(())
    }

    fn capacity(&self) -> usize {
        CAPACITY
    }
}

impl NorFlash for Pflash {
    const WRITE_SIZE: usize = 4;
    const ERASE_SIZE: usize = BLOCK;

    async fn erase(&mut self, from: u32, to: u32) -> Result<(), FlashError> {
        let len = (to as usize).saturating_sub(from as usize);
        let start = Self::check(from, len, BLOCK)?;
        if len == 0 {
            return Ok(());
        }
        for block in (start..start + len).step_by(BLOCK) {
            self.command(block, ERASE);
            self.command(block, CONFIRM);
            self.wait(block)?;
        }
        self.command(start, READ_ARRAY);
        Ok(())
    }

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), FlashError> {
        let start = Self::check(offset, bytes.len(), 4)?;
        if bytes.is_empty() {
            return Ok(());
        }
        for (i, word) in bytes.chunks_exact(4).enumerate() {
            let at = start + 4 * i;
            self.command(at, PROGRAM);
            let value = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
            // SAFETY: a word inside the bank (checked above), just given the program command:
            // this write is the data cycle.
            unsafe { ((BASE + at) as *mut u32).write_volatile(value) };
            self.wait(at)?;
        }
        self.command(start, READ_ARRAY);
        Ok(())
    }
}
