//! Drivers around the [`Loader`] state machine: the async one every [`Source`] uses (two awaits
//! in a loop, so its future stays small), and a blocking one for code without an executor.

use super::Report;
use super::machine::{Loader, Need};
use super::names::NameReader;
use crate::Error;
use crate::extension::Extension;
use crate::memory::MemoryProvider;
use crate::source::Source;
use crate::symbols::Resolve;

/// Runs a load to its end from an async source. On error every byte the load took from its
/// provider has been given back.
pub(crate) async fn drive<S: Source, P: MemoryProvider, R: Resolve + ?Sized>(
    mut l: Loader<'_, P, R, S::Names>,
    src: &mut S,
    report: &mut dyn FnMut(Report<'_>),
) -> Result<Extension, Error> {
    while let Need::Bytes { offset, .. } = l.need() {
        // Most needs start where the last ended: no seek (a stream's skip zeroes a buffer).
        if offset != src.position() {
            src.seek_to(offset).await?;
        }
        src.read_exact(l.buffer()).await?;
        l.filled(report)?;
    }
    l.finish()
}

/// A blocking reader: fills `buf` from `offset` of the file.
pub type ReadAt<'a> = dyn FnMut(u64, &mut [u8]) -> Result<(), Error> + 'a;

/// Runs a load to its end with a blocking `read_at(offset, buf)` that fills `buf` from `offset`
/// of the file (a bootloader reading flash, a C caller, an interrupt-free loop).
pub(crate) fn drive_blocking<N: NameReader, P: MemoryProvider, R: Resolve + ?Sized>(
    mut l: Loader<'_, P, R, N>,
    read_at: &mut ReadAt<'_>,
    report: &mut dyn FnMut(Report<'_>),
) -> Result<Extension, Error> {
    while let Need::Bytes { offset, .. } = l.need() {
        read_at(offset, l.buffer())?;
        l.filled(report)?;
    }
    l.finish()
}
