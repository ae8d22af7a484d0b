//! The requests that run extension code: `Call` and `Unload` (whose destructors run).

use llext_loader::Name;
use llext_loader::extension::EntryError;
use llext_loader::memory::MemoryProvider;

use super::failure::{Failure, Str, fail, name as text};
use super::sections::Placements;
use super::{Device, ExtStore, LogSource, MAX_SYM, MemoryInfo, Text, exec};
use crate::protocol::{Cause, ErrorCode, FaultReport, RegionKind};

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
        let ext = ext.ok_or_else(|| fail(Cause::NoSuchExtension))?;
        let sym = sym.ok_or_else(|| {
            fail(Cause::SymbolTooLong {
                max: MAX_SYM as u16,
            })
        })?;
        if let Some(g) = self.config.guard
            && time_limit_ms > g.max_time_limit_ms
        {
            return Err(fail(Cause::TimeLimitTooLong {
                asked_ms: time_limit_ms,
                max_ms: g.max_time_limit_ms,
            }));
        }
        let slot = self.find(&ext)?;
        if self.faults[slot].is_some() {
            return Err(fail(Cause::FaultedBefore { ext: text(&ext) }));
        }
        let e = self.registry.get(slot).expect("found");
        let addr = e.entry(sym.as_str()).map_err(|err| {
            let (ext, symbol) = (text(&ext), Str::from(sym.as_str()));
            fail(match err {
                EntryError::NotFound => Cause::NotExported { ext, symbol },
                EntryError::NotCode { addr, region } => Cause::NotCode {
                    ext,
                    symbol,
                    addr,
                    region: region.map(RegionKind::from_mem),
                },
            })
        })?;
        let r = exec::guarded(self.config.guard, time_limit_ms, e, &mut || {
            exec::call_int(addr)
        });
        if let Err(f) = r {
            self.faults[slot] = Some(f);
        }
        Ok(r)
    }

    pub(super) fn find(&self, name: &Name) -> Result<usize, Failure> {
        self.registry
            .find(name.as_str())
            .ok_or_else(|| fail(Cause::NotLoaded { name: text(name) }))
    }

    pub(super) fn unload(&mut self, name: Option<Name>) -> Result<u16, Failure> {
        let name = name.ok_or_else(|| fail(Cause::NoSuchExtension))?;
        let slot = self.find(&name)?;
        let ext = self.registry.get(slot).expect("found");
        if ext.use_count() == 1 {
            if let Some((_, by)) = self
                .registry
                .iter()
                .find(|(_, e)| e.dependencies() & (1 << slot) != 0)
            {
                return Err(fail(Cause::InUse {
                    ext: text(&name),
                    by: Str::from(by.name()),
                }));
            }
            // A faulted extension's destructors are not run: they may fault too. A destructor
            // that faults is cut short; the extension is unloaded all the same.
            if self.faults[slot].is_none() {
                let _ = exec::guarded(self.config.guard, 0, ext, &mut || {
                    exec::teardown(ext);
                    0
                });
            }
        }
        self.registry.unload(slot).map_err(|e| Failure {
            code: ErrorCode::from_load_error(&e),
            cause: Cause::Unload {
                ext: text(&name),
                error: (&e).into(),
            },
        })?;
        let left = self.registry.get(slot).map_or(0, |e| e.use_count());
        if left == 0 {
            self.placed[slot] = Placements::new(0, 0);
            self.faults[slot] = None;
        }
        Ok(left)
    }
}
