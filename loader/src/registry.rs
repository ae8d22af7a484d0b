//! The set of loaded extensions: load, look up, unload, with dependencies between them.

use crate::extension::Extension;
use crate::load::{self, LoadParams, Report};
use crate::memory::{MemKind, MemoryProvider};
use crate::source::Source;
use crate::symbols::Resolve;
use crate::{Error, Name};

/// Up to `N` (at most 32) loaded extensions, the provider their memory comes from, and the
/// firmware's exports.
pub struct Registry<P, R, const N: usize> {
    mem: P,
    firmware: R,
    slots: [Option<Extension>; N],
}

impl<P: MemoryProvider, R: Resolve, const N: usize> Registry<P, R, N> {
    /// An empty registry.
    pub fn new(mem: P, firmware: R) -> Self {
        const { assert!(N <= 32, "dependencies are a 32-bit mask") };
        Self {
            mem,
            firmware,
            slots: [const { None }; N],
        }
    }

    /// Loads an extension from `src` under `name`.
    ///
    /// Undefined symbols resolve against the firmware's exports, then against loaded extensions
    /// (which become dependencies). Every missing symbol is passed to `report` before the error.
    /// If `name` is already loaded its use count goes up and `src` is not read, as in LLEXT.
    pub async fn load<S: Source>(
        &mut self,
        name: &str,
        src: &mut S,
        params: &LoadParams,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<usize, Error> {
        if let Some(i) = self.reuse(name) {
            return Ok(i);
        }
        let free = self.free_slot()?;
        let ext = load::drive(self.begin(name, params), src, report).await?;
        self.slots[free] = Some(ext);
        Ok(free)
    }

    /// [`Registry::load`] without an executor: `read_at(offset, buf)` fills `buf` from `offset`
    /// of the file (flash, memory, a file), and names are read where they are (any file order).
    pub fn load_blocking(
        &mut self,
        name: &str,
        read_at: &mut load::ReadAt<'_>,
        params: &LoadParams,
        report: &mut dyn FnMut(Report<'_>),
    ) -> Result<usize, Error> {
        if let Some(i) = self.reuse(name) {
            return Ok(i);
        }
        let free = self.free_slot()?;
        let ext = load::drive_blocking(self.begin::<load::Seeked>(name, params), read_at, report)?;
        self.slots[free] = Some(ext);
        Ok(free)
    }

    /// A load of `name` driven by the caller, byte by byte if need be ([`load::Loader::feed`]);
    /// give its result to [`Registry::insert`]. `M` is [`load::Streamed`] for a forward-only
    /// source (the file in stream order) or [`load::Seeked`].
    pub fn loader<M: load::NameReader>(
        &mut self,
        name: &str,
        params: &LoadParams,
    ) -> Result<load::Loader<'_, P, R, M>, Error> {
        if self.find(name).is_some() {
            return Err(Error::AlreadyLoaded);
        }
        self.free_slot()?;
        Ok(self.begin(name, params))
    }

    /// A load of `name` against this registry's provider, firmware and loaded extensions.
    fn begin<M: load::NameReader>(
        &mut self,
        name: &str,
        params: &LoadParams,
    ) -> load::Loader<'_, P, R, M> {
        load::Loader::new(
            Name::new(name.as_bytes()),
            &mut self.mem,
            &self.firmware,
            &self.slots,
            params,
        )
    }

    /// Puts an extension finished by a [`Registry::loader`] into a free slot.
    pub fn insert(&mut self, ext: Extension) -> Result<usize, Error> {
        let free = self.free_slot()?;
        self.slots[free] = Some(ext);
        Ok(free)
    }

    /// LLEXT's load of a name already loaded: its use count goes up, nothing is read; `None`
    /// when no extension of that name is loaded. A load driven through [`Registry::loader`]
    /// asks this first.
    pub fn reuse(&mut self, name: &str) -> Option<usize> {
        let i = self.find(name)?;
        let e = self.slots[i].as_mut()?;
        e.use_count = e.use_count.saturating_add(1);
        Some(i)
    }

    fn free_slot(&self) -> Result<usize, Error> {
        self.slots
            .iter()
            .position(Option::is_none)
            .ok_or(Error::RegistryFull)
    }

    /// The slot of the extension called `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.slots
            .iter()
            .position(|e| e.as_ref().is_some_and(|e| e.name.eq_full(name.as_bytes())))
    }

    /// The extension in `slot`.
    pub fn get(&self, slot: usize) -> Option<&Extension> {
        self.slots.get(slot)?.as_ref()
    }

    /// Loaded extensions with their slots.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Extension)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((i, e.as_ref()?)))
    }

    /// A symbol exported by any loaded extension (the most recently loaded slot last).
    pub fn find_symbol(&self, name: &str) -> Option<u64> {
        self.iter().find_map(|(_, e)| e.find_symbol(name))
    }

    /// Drops one use of the extension in `slot`; frees it when none is left.
    ///
    /// Refused while another loaded extension depends on it. Does not run destructors: call
    /// [`Extension::teardown`] first, as LLEXT's `llext_unload` expects.
    pub fn unload(&mut self, slot: usize) -> Result<(), Error> {
        let ext = self
            .slots
            .get_mut(slot)
            .and_then(Option::as_mut)
            .ok_or(Error::NotLoaded)?;
        if ext.use_count > 1 {
            ext.use_count -= 1;
            return Ok(());
        }
        if let Some((_, by)) = self.iter().find(|(_, e)| e.deps & (1 << slot) != 0) {
            return Err(Error::InUse { by: by.name });
        }
        let mut ext = self.slots[slot].take().expect("checked above");
        if ext.in_place {
            // Its regions and exports lie in flash and in the firmware's reserved RAM area:
            // nothing of it came from the provider.
            return Ok(());
        }
        ext.exports.free(&mut self.mem);
        for (kind, r) in MemKind::ALL.iter().zip(ext.regions.iter_mut()) {
            if let Some(b) = r.take() {
                // SAFETY: the block came from this provider with this kind when the extension
                // was loaded, and is freed once (taken out of the extension, which is dropped).
                unsafe { self.mem.free(*kind, b) };
            }
        }
        Ok(())
    }

    /// The provider, the firmware's exports and the slots, borrowed apart (for a link that
    /// places its regions elsewhere, [`crate::xip`]).
    pub(crate) fn parts(&mut self) -> (&mut P, &R, &[Option<Extension>]) {
        (&mut self.mem, &self.firmware, &self.slots)
    }

    /// The memory provider (for usage figures).
    pub fn provider(&self) -> &P {
        &self.mem
    }

    /// The memory provider, mutably (to reset its measurements).
    pub fn provider_mut(&mut self) -> &mut P {
        &mut self.mem
    }

    /// The firmware's exports.
    pub fn firmware(&self) -> &R {
        &self.firmware
    }
}
