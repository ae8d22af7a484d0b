//! The requests that run extension code: `Call` and `Unload` (whose destructors run).

use llext_loader::Name;
use llext_loader::extension::EntryError;
use llext_loader::memory::MemoryProvider;

use super::failure::{Failure, fail};
use super::sections::Placements;
use super::{Device, ExtStore, LogSource, MAX_SYM, MemoryInfo, Text, exec};
use crate::protocol::{ErrorCode, FaultReport};

impl<P, G, const N: usize, const F: usize, S> Device<P, G, N, F, S>
where
    P: MemoryProvider + MemoryInfo,
    G: LogSource,
    S: ExtStore,
{
    /// Runs a call; `Ok(Err(fault))` when the extension faulted (it is then marked faulted).
    pub(super) fn call(
        &mut self,
        ext: Option<Name>,
        sym: Option<Text<MAX_SYM>>,
        time_limit_ms: u32,
    ) -> Result<Result<i32, FaultReport>, Failure> {
        let ext =
            ext.ok_or_else(|| fail(ErrorCode::NotLoaded, format_args!("no such extension")))?;
        let sym = sym.ok_or_else(|| {
            fail(
                ErrorCode::NoSymbol,
                format_args!("symbol name longer than {MAX_SYM} bytes"),
            )
        })?;
        if let Some(g) = self.config.guard
            && time_limit_ms > g.max_time_limit_ms
        {
            return Err(fail(
                ErrorCode::Limit,
                format_args!(
                    "a time limit of {time_limit_ms} ms is longer than this device allows ({} ms)",
                    g.max_time_limit_ms
                ),
            ));
        }
        let slot = self.find(&ext)?;
        if self.faulted[slot] {
            return Err(fail(
                ErrorCode::Faulted,
                format_args!("`{ext}` faulted in an earlier call: unload it or push it again"),
            ));
        }
        let e = self.registry.get(slot).expect("found");
        let addr = e.entry(sym.as_str()).map_err(|err| match err {
            EntryError::NotFound => fail(
                ErrorCode::NoSymbol,
                format_args!("extension `{ext}` does not export `{}`", sym.as_str()),
            ),
            EntryError::NotCode { .. } => fail(
                ErrorCode::NotCode,
                format_args!(
                    "`{}` of `{ext}` is {err}; the device calls only functions",
                    sym.as_str()
                ),
            ),
        })?;
        let r = exec::guarded(self.config.guard, time_limit_ms, e, &mut || {
            exec::call_int(addr)
        });
        if r.is_err() {
            self.faulted[slot] = true;
        }
        Ok(r)
    }

    pub(super) fn find(&self, name: &Name) -> Result<usize, Failure> {
        self.registry.find(name.as_str()).ok_or_else(|| {
            fail(
                ErrorCode::NotLoaded,
                format_args!("no extension named `{name}` is loaded (status lists them)"),
            )
        })
    }

    pub(super) fn unload(&mut self, name: Option<Name>) -> Result<u16, Failure> {
        let name =
            name.ok_or_else(|| fail(ErrorCode::NotLoaded, format_args!("no such extension")))?;
        let slot = self.find(&name)?;
        let ext = self.registry.get(slot).expect("found");
        if ext.use_count() == 1 {
            if let Some((_, by)) = self
                .registry
                .iter()
                .find(|(_, e)| e.dependencies() & (1 << slot) != 0)
            {
                return Err(fail(
                    ErrorCode::InUse,
                    format_args!("`{name}` is used by `{}`: unload that one first", by.name()),
                ));
            }
            // A faulted extension's destructors are not run: they may fault too. A destructor
            // that faults is cut short; the extension is unloaded all the same.
            if !self.faulted[slot] {
                let _ = exec::guarded(self.config.guard, 0, ext, &mut || {
                    exec::teardown(ext);
                    0
                });
            }
        }
        self.registry.unload(slot).map_err(|e| {
            fail(
                ErrorCode::from_load_error(&e),
                format_args!("unloading `{name}`: {e}"),
            )
        })?;
        let left = self.registry.get(slot).map_or(0, |e| e.use_count());
        if left == 0 {
            self.placed[slot] = Placements::new(0, 0);
            self.faulted[slot] = false;
        }
        Ok(left)
    }
}
