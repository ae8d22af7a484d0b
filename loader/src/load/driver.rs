//! Drivers around the [`Loader`] state machine: the async one every [`Source`] uses (two awaits
//! in a loop, so its future stays small), and a blocking one for code without an executor.

use super::machine::{Loader, Need};
use super::names::NameReader;
use super::{LoadParams, Report};
use crate::extension::Extension;
use crate::memory::MemoryProvider;
use crate::source::Source;
use crate::symbols::Resolve;
use crate::{Error, Name};

/// Loads one extension from an async source. On error every byte taken from `mem` has been
/// given back.
pub(crate) async fn load<S: Source, P: MemoryProvider, R: Resolve + ?Sized>(
    name: Name,
    src: &mut S,
    mem: &mut P,
    firmware: &R,
    loaded: &[Option<Extension>],
    params: &LoadParams,
    report: &mut dyn FnMut(Report<'_>),
) -> Result<Extension, Error> {
    let mut l = Loader::<P, R, S::Names>::new(name, mem, firmware, loaded, params);
    while let Need::Bytes { offset, .. } = l.need() {
        src.seek_to(offset).await?;
        src.read_exact(l.buffer()).await?;
        l.filled(report)?;
    }
    l.finish()
}

/// A blocking reader: fills `buf` from `offset` of the file.
pub type ReadAt<'a> = dyn FnMut(u64, &mut [u8]) -> Result<(), Error> + 'a;

/// Loads one extension with a blocking `read_at(offset, buf)` that fills `buf` from `offset` of
/// the file (a bootloader reading flash, a C caller, an interrupt-free loop).
pub(crate) fn load_blocking<N: NameReader, P: MemoryProvider, R: Resolve + ?Sized>(
    name: Name,
    read_at: &mut ReadAt<'_>,
    mem: &mut P,
    firmware: &R,
    loaded: &[Option<Extension>],
    params: &LoadParams,
    report: &mut dyn FnMut(Report<'_>),
) -> Result<Extension, Error> {
    let mut l = Loader::<P, R, N>::new(name, mem, firmware, loaded, params);
    while let Need::Bytes { offset, .. } = l.need() {
        read_at(offset, l.buffer())?;
        l.filled(report)?;
    }
    l.finish()
}
