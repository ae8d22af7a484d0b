//! Host flash: a RAM double that counts wear and cuts power on cue (its bytes executable, as a
//! memory-mapped flash), and a file-backed flash.

mod exec;
mod file;
mod ram;

pub use file::FileFlash;
pub use ram::{FlashStats, PowerCut, RamFlash, RamFlashError, Tear};

use embedded_storage_async::nor_flash::NorFlashErrorKind;

/// Checks that `offset..offset+len` is inside `capacity` and aligned to `align`.
fn check(offset: u32, len: usize, align: usize, capacity: usize) -> Result<(), NorFlashErrorKind> {
    let end = offset as usize + len;
    if end > capacity {
        return Err(NorFlashErrorKind::OutOfBounds);
    }
    if !(offset as usize).is_multiple_of(align) || !len.is_multiple_of(align) {
        return Err(NorFlashErrorKind::NotAligned);
    }
    Ok(())
}
