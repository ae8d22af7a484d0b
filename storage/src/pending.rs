//! The image of an install about to finish, read back from its slot for a check of the
//! caller's own (a signature) before [`Installer::finish`] switches the catalog to it.

use embedded_storage_async::nor_flash::NorFlash;

use crate::error::Error;
use crate::install::{Installer, flush};
use crate::source::SlotReader;

impl<F: NorFlash, const N: usize> Installer<'_, F, N> {
    /// Programs what is still buffered of an install that received every byte, and returns a
    /// reader over its image in flash. Nothing is switched: call [`Installer::finish`] to keep
    /// it or [`Installer::abort`] to drop it.
    pub async fn written(&mut self) -> Result<SlotReader<'_, F>, Error<F::Error>> {
        let st = &mut *self.st;
        let s = st.complete_session()?;
        let (base, len) = (st.layout.slot(s.rec.slot).start, s.rec.len);
        if !s.unchanged && s.flushed < s.received {
            flush(st, base).await?;
        }
        Ok(SlotReader::new(st.catalog.flash(), base, len))
    }
}
