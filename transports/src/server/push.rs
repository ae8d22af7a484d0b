//! `PushBegin`: the file streams from the frames into the loader, is checked (CRC-32, signature,
//! entry points), then its constructors run.

use core::fmt::Write as _;

use embedded_io_async::{Read, Write};
use llext_loader::extension::EntryError;
use llext_loader::load::{Loader, Need, Streamed};
use llext_loader::memory::MemoryProvider;
use llext_loader::symbols::ExportTable;
use llext_loader::{LoadParams, Name, Registry, Report};
use llext_sign::Kind;

use super::failure::{Failure, Str, fail, load_failure, name as text};
use super::link::{FrameLink, LinkError, Tx};
use super::outbox::{Out, Session};
use super::reader::{PushReader, Stop, stopped};
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
    /// Its outcome is kept, and `s` answers with it.
    pub(super) async fn push<L: Read + Write>(
        &mut self,
        link: &mut FrameLink<L, F>,
        s: &mut Session,
        seq: u16,
        key: Transfer,
    ) -> Result<bool, LinkError> {
        if self.last_push.as_ref().is_some_and(|r| r.key == key) {
            s.answer(seq, Out::PushDone, false);
            return Ok(false);
        }
        // What the constructors printed goes before the answer: a host that asks nothing
        // more after `PushDone` would never read it.
        s.answer(seq, Out::PushDone, true);
        match self.admit(&key) {
            Ok(name) => self.load(link, seq, key, name).await,
            Err(f) => {
                self.record_push(key, Err(f));
                Ok(false)
            }
        }
    }

    /// The name a push loads under, or why it is refused before any data.
    #[inline(never)]
    fn admit(&self, key: &Transfer) -> Result<Name, Failure> {
        let total_len = key.total_len;
        match key.name {
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
        }
    }

    /// Counts and keeps the outcome of a push.
    fn record_push(&mut self, key: Transfer, result: Result<Loaded, Failure>) {
        match &result {
            Ok(_) => self.pushes_ok += 1,
            Err(_) => self.pushes_failed += 1,
        }
        self.last_push = Some(PushRecord { key, result });
    }

    /// Encodes the outcome of the last push.
    pub(super) fn put_push_done(&self, tx: &mut Tx, seq: u16) -> usize {
        match &self.last_push {
            Some(rec) => {
                let push_id = rec.key.push_id;
                let result = rec.result.as_ref().copied();
                tx.put(seq, &Response::PushDone { push_id, result })
            }
            None => 0,
        }
    }

    /// Streams the file into the loader, then checks and starts it, and keeps the outcome;
    /// `Ok(true)` when another request interrupted it and waits in the buffer.
    async fn load<L: Read + Write>(
        &mut self,
        link: &mut FrameLink<L, F>,
        seq: u16,
        key: Transfer,
        name: Name,
    ) -> Result<bool, LinkError> {
        let (push_id, total, crc32) = (key.push_id, key.total_len, key.crc32);
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
            Ok(()) => match begin(&mut self.registry, &name, &params) {
                Err(e) => Err(Some(e)),
                Ok(mut loader) => match stream(&mut loader, &mut reader, &mut report).await {
                    Ok(()) => finish(loader).map_err(Some),
                    Err(e) => Err(e),
                },
            },
        };
        let whole = reader.verify(crc32);
        let (sig, stop, pos) = (reader.sig.take(), reader.stop, reader.position());
        if let Some(Stop::Link(e)) = stop {
            // Nothing is answered on a link that failed, and nothing was loaded.
            return Err(e);
        }
        let result = self
            .conclude(loaded, &name, whole, sig, missing, placed)
            .map_err(|f| stopped(stop, pos, total, false, &self.config).unwrap_or(f));
        self.record_push(key, result);
        Ok(stop == Some(Stop::Interrupted))
    }

    /// Takes in the extension the loader made of a `whole` file, checks its signature and
    /// starts it; or says why the load failed.
    #[inline(never)]
    fn conclude(
        &mut self,
        loaded: Result<llext_loader::Extension, Option<llext_loader::Error>>,
        name: &Name,
        whole: bool,
        sig: Option<llext_sign::StreamVerifier>,
        missing: Str,
        placed: Placements,
    ) -> Result<Loaded, Failure> {
        let slot = match loaded.and_then(|ext| self.registry.insert(ext).map_err(Some)) {
            Ok(slot) => slot,
            Err(None) => return Err(fail(Cause::LinkFailed)),
            Err(Some(llext_loader::Error::MissingSymbols { count, .. })) => {
                return Err(fail(Cause::MissingSymbols {
                    count,
                    names: missing,
                }));
            }
            Err(Some(e)) => return Err(load_failure(&e)),
        };
        self.placed[slot] = placed;
        if let Err(f) = trust::check(sig, &self.config.trust, Kind::Push, whole) {
            // Constructors never ran: nothing to tear down.
            let _ = self.registry.unload(slot);
            return Err(f);
        }
        start(&mut self.registry, slot, name, whole, self.config.guard)
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
) -> Result<Loaded, Failure> {
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
                return Err(fail(Cause::ConstructorFaulted {
                    ext: text(name),
                    fault: f,
                }));
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
    Err(refused)
}

/// Streams the whole file from the frames: into the loader's state machine while it needs bytes,
/// the rest only checked (CRC-32, signature). `Err(None)`: the push stopped (see
/// [`PushReader::stop`]).
async fn stream<P: MemoryProvider, L: Read + Write, const F: usize>(
    loader: &mut Loader<'_, P, ExportTable, Streamed>,
    reader: &mut PushReader<'_, L, F>,
    report: &mut dyn FnMut(Report<'_>),
) -> Result<(), Option<llext_loader::Error>> {
    while reader.position() < reader.total() {
        let at = u64::from(reader.position());
        let chunk = reader.chunk().await.map_err(|_| None)?;
        let n = chunk.len();
        feed(loader, chunk, at, report).map_err(Some)?;
        reader.consume(n);
    }
    match loader.need() {
        Need::Done => Ok(()),
        // The file ended before the loader had all it needs.
        Need::Bytes { .. } => Err(Some(llext_loader::Error::UnexpectedEof {
            offset: reader.total().into(),
        })),
    }
}

/// Hands `chunk`, at offset `at` of the file, to the loader if it still needs bytes (a plain
/// call: the loader's code stays out of the push's async state machine).
#[inline(never)]
fn feed<P: MemoryProvider>(
    loader: &mut Loader<'_, P, ExportTable, Streamed>,
    chunk: &[u8],
    at: u64,
    report: &mut dyn FnMut(Report<'_>),
) -> Result<(), llext_loader::Error> {
    if let Need::Bytes { .. } = loader.need() {
        loader.feed(chunk, at, report)?;
    }
    Ok(())
}

/// The extension the loader made (a plain call, as [`feed`]).
#[inline(never)]
fn finish<P: MemoryProvider>(
    loader: Loader<'_, P, ExportTable, Streamed>,
) -> Result<llext_loader::Extension, llext_loader::Error> {
    loader.finish()
}

/// A load of `name` into `registry` (a plain call, as [`feed`]).
#[inline(never)]
fn begin<'r, P: MemoryProvider, const N: usize>(
    registry: &'r mut Registry<P, ExportTable, N>,
    name: &Name,
    params: &LoadParams,
) -> Result<Loader<'r, P, ExportTable, Streamed>, llext_loader::Error> {
    registry.loader::<Streamed>(name.as_str(), params)
}
