//! `PushBegin`: the file streams from the frames into the loader, is checked (CRC-32, signature,
//! entry points), then its constructors run.

use core::fmt::Write as _;

use embedded_io_async::{Read, Write};
use llext_loader::extension::EntryError;
use llext_loader::memory::MemoryProvider;
use llext_loader::source::StreamSource;
use llext_loader::symbols::ExportTable;
use llext_loader::{LoadParams, Name, Registry, Report};
use llext_sign::Kind;

use super::failure::{Failure, Str, fail, load_failure, name as text};
use super::link::{FrameLink, LinkError};
use super::reader::{PushReader, Stop};
use super::request::Transfer;
use super::sections::{Placed, Placements};
use super::{Device, ExtStore, Guard, LogSource, MemoryInfo, exec, fingerprint, trust};
use crate::protocol::{Cause, Loaded, RegionKind, Response};

/// The outcome of the last push, kept so a host that lost `PushDone` can ask again.
pub(super) struct PushRecord {
    key: Transfer,
    result: Result<Loaded, Failure>,
}

impl<P, G, const N: usize, const F: usize, S> Device<P, G, N, F, S>
where
    P: MemoryProvider + MemoryInfo,
    G: LogSource,
    S: ExtStore,
{
    /// Runs one push; `Ok(true)` when another request interrupted it and waits in the buffer.
    pub(super) async fn push<L: Read + Write>(
        &mut self,
        link: &mut FrameLink<L, F>,
        seq: u16,
        push_id: u32,
        name: Option<Name>,
        total_len: u32,
        crc32: u32,
    ) -> Result<bool, LinkError> {
        let key = Transfer {
            push_id,
            name,
            total_len,
            crc32,
            install: None,
        };
        if let Some(rec) = self.last_push.as_ref().filter(|r| r.key == key) {
            let result = rec.result.as_ref().copied();
            link.send(seq, &Response::PushDone { push_id, result })
                .await?;
            return Ok(false);
        }
        let checked = match name {
            None => Err(fail(Cause::BadName {
                max: Name::CAPACITY as u16,
            })),
            Some(_) if total_len == 0 || total_len > self.config.max_push => {
                Err(fail(Cause::TooLarge {
                    len: total_len,
                    max: self.config.max_push,
                }))
            }
            Some(n) if self.registry.find(n.as_str()).is_some() => {
                Err(fail(Cause::AlreadyLoaded { name: text(&n) }))
            }
            Some(n) => Ok(n),
        };
        let (result, pending) = match checked {
            Err(f) => (Err(f), false),
            Ok(name) => {
                self.load(link, seq, push_id, name, total_len, crc32)
                    .await?
            }
        };
        match &result {
            Ok(_) => self.pushes_ok += 1,
            Err(_) => self.pushes_failed += 1,
        }
        // What the constructors printed goes before the answer: a host that asks nothing
        // more after `PushDone` would never read it.
        self.flush_logs(link).await?;
        let rec = self.last_push.insert(PushRecord { key, result });
        let result = rec.result.as_ref().copied();
        link.send(seq, &Response::PushDone { push_id, result })
            .await?;
        Ok(pending)
    }

    /// Streams the file into the loader, then checks and starts it.
    pub(super) async fn load<L: Read + Write>(
        &mut self,
        link: &mut FrameLink<L, F>,
        seq: u16,
        push_id: u32,
        name: Name,
        total: u32,
        crc32: u32,
    ) -> Result<(Result<Loaded, Failure>, bool), LinkError> {
        let mut missing = Str::new();
        let mut placed = Placements::new(total, crc32);
        let exports = self.info.exports;
        let mut report = |r: Report<'_>| match r {
            Report::MissingSymbol(s) => {
                if !missing.is_empty() {
                    let _ = missing.write_str(", ");
                }
                let _ = fingerprint::write_missing(&mut missing, s, &exports);
            }
            Report::Placed {
                section,
                kind,
                offset,
                size,
            } => placed.add(Placed {
                section,
                kind,
                offset,
                size,
                relocations: 0,
            }),
            Report::Relocated {
                section,
                relocations,
                trampolines,
            } => placed.relocated(section, relocations, trampolines),
        };
        let params = LoadParams {
            limits: self.config.limits,
            arch: llext_loader::arch::Arch::native(),
        };
        let mut reader = PushReader::new(link, &self.config, seq, push_id, total);
        reader.sig = Some(llext_sign::StreamVerifier::new(name.as_str(), total));
        let loaded = match reader.ack(false).await {
            Err(_) => Err(None),
            Ok(()) => {
                let mut src = StreamSource::new(&mut reader);
                let r = self
                    .registry
                    .load(name.as_str(), &mut src, &params, &mut report)
                    .await;
                r.map_err(Some)
            }
        };
        let result = match loaded {
            Ok(slot) => {
                self.placed[slot] = placed;
                let drained = reader.drain().await.is_ok();
                let whole = drained && reader.verify(crc32);
                let sig = reader.sig.take();
                match trust::check(sig, &self.config.trust, Kind::Push, whole) {
                    Err(f) => {
                        // Constructors never ran: nothing to tear down.
                        let _ = self.registry.unload(slot);
                        Err(Some(f))
                    }
                    Ok(()) => start(&mut self.registry, slot, &name, whole, self.config.guard)
                        .map_err(|f| f.filter(|_| drained)),
                }
            }
            Err(e) => Err(e.map(|e| {
                if let llext_loader::Error::MissingSymbols { count, .. } = e {
                    fail(Cause::MissingSymbols {
                        count,
                        names: missing,
                    })
                } else {
                    load_failure(&e)
                }
            })),
        };
        let pos = reader.position();
        let stop = reader.stop;
        let result = result.map_err(|f| match stop {
            Some(Stop::Timeout) => fail(Cause::Stalled {
                install: false,
                timeout_ms: self.config.push_timeout.as_millis() as u32,
                at: pos,
                total,
            }),
            Some(Stop::Interrupted) => fail(Cause::Interrupted {
                install: false,
                at: pos,
                total,
            }),
            _ => f.unwrap_or_else(|| fail(Cause::LinkFailed)),
        });
        match stop {
            Some(Stop::Link(e)) => Err(e),
            s => Ok((result, s == Some(Stop::Interrupted))),
        }
    }
}

/// Runs the constructors of the extension just pushed into `slot` if the file arrived `whole`
/// and every constructor and destructor is code; otherwise unloads it.
fn start<P: MemoryProvider, const N: usize>(
    registry: &mut Registry<P, ExportTable, N>,
    slot: usize,
    name: &Name,
    whole: bool,
    guard: Option<Guard>,
) -> Result<Loaded, Option<Failure>> {
    let e = registry.get(slot).expect("just loaded");
    let refused = match (whole, e.check_entries()) {
        (true, Ok(())) => {
            let run = exec::guarded(guard, 0, e, &mut || {
                exec::bringup(e);
                0
            });
            if let Err(f) = run {
                // Its constructors were cut short: nothing to tear down, its memory goes back.
                let _ = registry.unload(slot);
                return Err(Some(fail(Cause::ConstructorFaulted {
                    ext: text(name),
                    fault: f,
                })));
            }
            let s = e.stats();
            return Ok(Loaded {
                slot: slot as u8,
                image_bytes: e.image_bytes() as u32,
                relocations: s.relocations,
                symbols: s.symbols,
            });
        }
        (true, Err(err)) => {
            let (addr, region) = match err {
                EntryError::NotCode { addr, region } => (addr, region.map(RegionKind::from_mem)),
                EntryError::NotFound => (0, None),
            };
            fail(Cause::EntriesNotCode {
                ext: text(name),
                addr,
                region,
            })
        }
        (false, _) => fail(Cause::ChecksumMismatch),
    };
    // Constructors never ran: nothing to tear down.
    let _ = registry.unload(slot);
    Err(Some(refused))
}
