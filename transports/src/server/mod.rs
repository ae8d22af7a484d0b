//! The device side: serves the protocol over one link at a time, on top of a loader `Registry`.
//!
//! [`Device::serve`] runs until the link closes. It is a thin async shell around plain code
//! (DESIGN.md decision 3): the shell waits for a frame (with its timeouts) and writes what the
//! core encoded; the core (`handle`, `produce`) decodes the request, does the work and encodes the
//! answer a message at a time into the transmit buffer, without awaiting. Only transfers (push,
//! install) and flash operations wait on more than the link. Push data goes straight from the
//! frame buffer into the loader's synchronous state machine ([`llext_loader::load::Loader::feed`]);
//! nothing of the file is kept.
//! The RAM a transfer needs is the receive frame buffer (`F` bytes), a 256-byte read buffer and a
//! small transmit buffer; the host keeps at most [`Config::window`] bytes in flight, which the
//! link's own receive buffering must absorb.

// Failures keep their names in fixed buffers: the device has no allocator to box them.
#![allow(clippy::result_large_err, clippy::large_enum_variant)]

mod calls;
mod exec;
mod failure;
mod fingerprint;
#[cfg(feature = "storage")]
mod flash_store;
mod install;
mod link;
mod logs;
mod memory;
mod outbox;
mod push;
mod query;
mod reader;
mod request;
mod sections;
#[cfg(feature = "storage")]
mod signed_boot;
mod signed_install;
mod store;
mod text;
mod trust;

use embassy_time::{Duration, Instant, with_timeout};
use embedded_io_async::{Read, Write};
use llext_loader::memory::MemoryProvider;
use llext_loader::symbols::ExportTable;
use llext_loader::{Limits, LoadParams, Registry};

#[cfg(feature = "storage")]
pub use flash_store::FlashStore;
pub use link::LinkError;
pub use logs::{LogSource, NoLogs};
pub use memory::MemoryInfo;
pub use store::{ExtStore, NoStore, Progress, STORE_MSG, Slots, StoreError};
pub use text::Text;

use crate::protocol::{Cause, FaultReport, Response, VERSION};
use failure::{Failure, fail};
use install::{CatalogOp, InstallRecord};
use link::{FrameLink, Tx};
use outbox::{Out, Session};
use push::PushRecord;
use request::{Answer, Cmd, LastRequest, Transfer};
use sections::Placements;

/// The default receive frame size: 1 KiB of push data per frame plus overhead.
pub const DEFAULT_FRAME: usize = 1088;

/// Longest symbol name a `Call` may use.
const MAX_SYM: usize = 128;
/// Longest log line the device sends (longer ones are cut).
const LOG_LINE: usize = 200;

/// What the device tells hosts about itself.
#[derive(Clone, Copy)]
pub struct DeviceInfo {
    /// Its name, shown by `host-push status`.
    pub name: &'static str,
    /// Its float ABI (`soft`, `hard`; RISC-V `single`, `double`), `None` where there is no choice.
    pub float_abi: Option<&'static str>,
    /// What the firmware exports to extensions (also the registry's resolver).
    pub exports: ExportTable,
}

/// Timing and size settings of the server.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Bytes of push data the host may have in flight; at most what the link can buffer.
    pub window: u32,
    /// A push with no data for this long is abandoned and its memory freed.
    pub push_timeout: Duration,
    /// Silence during a push after which the device asks the host to resend.
    pub resend_after: Duration,
    /// How often an idle server sends waiting log lines.
    pub log_poll: Duration,
    /// A link with no decodable request for this long is ended ([`LinkError::Idle`]), so a host
    /// that connects and falls silent (or trickles bytes) does not keep others out.
    pub idle_timeout: Duration,
    /// Largest file accepted.
    pub max_push: u32,
    /// Bounds on each load.
    pub limits: Limits,
    /// Which signing keys the device trusts and whether it runs unsigned extensions.
    pub trust: llext_sign::Policy,
    /// Runs extension code so that a fault in it ends the call, not the firmware (the
    /// firmware's fault handler and time limit); `None` calls directly.
    pub guard: Option<Guard>,
}

/// A firmware's fault containment: how it runs extension code, and for how long.
#[derive(Clone, Copy, Debug)]
pub struct Guard {
    /// Runs extension code so that a fault or the time limit ends it.
    pub run: CallGuard,
    /// How long a call, or an extension's constructors or destructors, may run (ms).
    pub time_limit_ms: u32,
    /// The longest time limit a host may ask for in a `Call` (ms).
    pub max_time_limit_ms: u32,
}

impl Guard {
    /// `run` with a 3 s time limit; hosts may ask for up to 60 s.
    pub const fn new(run: CallGuard) -> Self {
        Self {
            run,
            time_limit_ms: 3000,
            max_time_limit_ms: 60_000,
        }
    }
}

/// Runs `f` (which runs extension code: a call, constructors, destructors), returning the fault
/// extension code raised, if any, instead of its value; past `time_limit_ms` it is stopped.
pub type CallGuard = fn(time_limit_ms: u32, f: &mut dyn FnMut() -> i32) -> Result<i32, FaultReport>;

impl Default for Config {
    fn default() -> Self {
        Self {
            window: 4096,
            push_timeout: Duration::from_secs(5),
            resend_after: Duration::from_millis(250),
            log_poll: Duration::from_millis(50),
            idle_timeout: Duration::from_secs(30),
            max_push: 16 << 20,
            limits: Limits::default(),
            trust: llext_sign::Policy::DEVELOPMENT,
            guard: None,
        }
    }
}

/// The device: a registry of up to `N` extensions, what it tells hosts, its log source, and
/// where it installs extensions (`S`, [`NoStore`] for none). `F` is the largest frame it
/// receives.
pub struct Device<P, G, const N: usize, const F: usize = DEFAULT_FRAME, S = NoStore> {
    registry: Registry<P, ExportTable, N>,
    info: DeviceInfo,
    config: Config,
    logs: G,
    store: S,
    pushes_ok: u32,
    pushes_failed: u32,
    bad_frames: u32,
    last_push: Option<PushRecord>,
    last_install: Option<InstallRecord>,
    /// Where the sections of the extension in each registry slot were placed.
    placed: [Placements; N],
    /// The fault of the extension in each slot, if it faulted: no more calls, no destructors.
    faults: [Option<FaultReport>; N],
}

impl<P, G, const N: usize, const F: usize> Device<P, G, N, F, NoStore>
where
    P: MemoryProvider + MemoryInfo,
    G: LogSource,
{
    /// A device whose extensions take memory from `provider` and link against `info.exports`,
    /// without flash storage.
    pub fn new(provider: P, info: DeviceInfo, config: Config, logs: G) -> Self {
        Self::with_store(provider, info, config, logs, NoStore)
    }
}

impl<P, G, const N: usize, const F: usize, S> Device<P, G, N, F, S>
where
    P: MemoryProvider + MemoryInfo,
    G: LogSource,
    S: ExtStore,
{
    /// A device that also installs extensions into `store` (and loads them from it with
    /// [`Device::boot`]).
    pub fn with_store(
        provider: P,
        info: DeviceInfo,
        config: Config,
        logs: G,
        mut store: S,
    ) -> Self {
        store.set_trust(config.trust);
        Self {
            registry: Registry::new(provider, info.exports),
            info,
            config,
            logs,
            store,
            pushes_ok: 0,
            pushes_failed: 0,
            bad_frames: 0,
            last_push: None,
            last_install: None,
            placed: [Placements::new(0, 0); N],
            faults: [None; N],
        }
    }

    /// The storage hook.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The storage hook, to change it.
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// Loads every installed extension marked for boot (dependencies first), running each
    /// one's constructors; the report is kept for `List` ([`ExtStore::boot_event`]). Call it
    /// once at start, before serving.
    pub async fn boot(&mut self) -> Result<(), StoreError> {
        let params = LoadParams {
            limits: self.config.limits,
            arch: llext_loader::arch::Arch::native(),
        };
        let guard = self.config.guard;
        let mut bringup = |ext: &llext_loader::Extension| {
            // An image whose constructors point at data, or fault (with a guard), fails its
            // trial instead of taking the firmware down.
            ext.check_entries().map_err(|_| None)?;
            exec::guarded(guard, 0, ext, &mut || {
                exec::bringup(ext);
                0
            })
            .map(|_| ())
            .map_err(Some)
        };
        self.store
            .boot(&mut self.registry, &params, &mut bringup)
            .await
    }

    /// The extensions loaded.
    pub fn registry(&self) -> &Registry<P, ExportTable, N> {
        &self.registry
    }

    /// The log source.
    pub fn logs_mut(&mut self) -> &mut G {
        &mut self.logs
    }

    /// Serves requests from `link` until it closes or fails, and says why it ended.
    ///
    /// A push in progress when the link ends is dropped, and its memory returns to the provider.
    /// The link's `read` must be cancel-safe (bytes read are never lost when a read is dropped):
    /// waits are bounded by timers.
    pub async fn serve<L: Read + Write>(&mut self, link: L) -> LinkError {
        let mut link = FrameLink::<L, F>::new(link);
        let end = self.serve_frames(&mut link).await;
        self.bad_frames += link.bad_frames();
        end
    }

    async fn serve_frames<L: Read + Write>(&mut self, link: &mut FrameLink<L, F>) -> LinkError {
        let mut s = Session::new();
        let mut pending = false;
        let mut heard = Instant::now();
        loop {
            // What the last request answers, then the log lines waiting.
            s.logs_after = !pending;
            while let Some(n) = self.produce(&mut s, link.tx()) {
                if let Err(e) = link.write_tx(n).await {
                    return e;
                }
            }
            if !pending {
                match with_timeout(self.config.log_poll, link.next_frame()).await {
                    Err(_) if heard.elapsed() >= self.config.idle_timeout => {
                        return LinkError::Idle;
                    }
                    Err(_) => continue,
                    Ok(Err(e)) => return e,
                    Ok(Ok(())) => {}
                }
            }
            let (seq, cmd) = Cmd::parse(link.frame());
            // Only requests count as activity: partial, damaged and undecodable frames do not.
            if !matches!(cmd, Cmd::Bad) {
                heard = Instant::now();
            }
            let (bad, crc) = (link.bad_frames(), link.frame_crc());
            // Only transfers and flash operations wait on more than the link.
            let ran = match self.handle(&mut s, (seq, crc), cmd, bad, link.tx()) {
                None => Ok(false),
                Some(Cmd::PushBegin {
                    push_id,
                    name,
                    total_len,
                    crc32,
                }) => {
                    let key = Transfer {
                        push_id,
                        name,
                        total_len,
                        crc32,
                        install: None,
                    };
                    self.push(link, &mut s, seq, key).await
                }
                Some(Cmd::InstallBegin(begin)) => self.install(link, &mut s, seq, begin).await,
                Some(Cmd::Remove { name }) => {
                    self.catalog(&mut s, seq, CatalogOp::Remove, name).await
                }
                Some(Cmd::Confirm { name }) => {
                    self.catalog(&mut s, seq, CatalogOp::Confirm, name).await
                }
                Some(Cmd::Rollback { name }) => {
                    self.catalog(&mut s, seq, CatalogOp::Rollback, name).await
                }
                Some(_) => Ok(false),
            };
            match ran {
                Ok(p) => pending = p,
                Err(e) => return e,
            }
        }
    }

    /// Handles one request as far as it can without waiting: everything but transfers and
    /// flash operations, which it hands back. The answer goes into `s` (an encoded frame in
    /// `tx`, or a cursor over its messages); `bad` is the link's count of bad frames.
    #[inline(never)]
    fn handle(
        &mut self,
        s: &mut Session,
        (seq, crc): (u16, u32),
        cmd: Cmd,
        bad: u32,
        tx: &mut Tx,
    ) -> Option<Cmd> {
        if self.answered(s, (seq, crc), &cmd, tx) {
            return None;
        }
        s.last = Some(LastRequest {
            seq,
            crc,
            answer: None,
        });
        let out = match cmd {
            Cmd::Hello => Out::Ready(tx.put(seq, &Response::Hello(self.hello()))),
            Cmd::Status => Out::Status {
                bad: Some(self.bad_frames + bad),
                slot: 0,
                index: 0,
            },
            Cmd::Call {
                ext,
                sym,
                time_limit_ms,
            } => {
                let a = match self.call(ext, sym, time_limit_ms) {
                    Ok(Ok(v)) => Answer::Value(v),
                    Ok(Err(fault)) => Answer::Faulted(fault),
                    Err(f) => Answer::Failed(f),
                };
                s.keep_answer(a);
                // What the call printed goes first.
                s.answer(seq, Out::Answer, true);
                return None;
            }
            Cmd::Unload { name } => {
                let a = match self.unload(name) {
                    Ok(n) => Answer::Unloaded(n),
                    Err(f) => Answer::Failed(f),
                };
                s.keep_answer(a);
                s.answer(seq, Out::Answer, true);
                return None;
            }
            Cmd::List => self.list(),
            Cmd::Sections { name } => self.sections(seq, name, tx),
            Cmd::Exports { start, max } => self.exports(start, max),
            Cmd::Data | Cmd::Bad => Out::Idle,
            transfer_or_flash => return Some(transfer_or_flash),
        };
        s.answer(seq, out, false);
        None
    }

    /// Answers what needs no running: data of a push that already ended, an undecodable
    /// request, or the request last handled arriving again. `true` when `cmd` is done.
    fn answered(
        &mut self,
        s: &mut Session,
        (seq, crc): (u16, u32),
        cmd: &Cmd,
        tx: &mut Tx,
    ) -> bool {
        match cmd {
            // Data of a push that already ended (the host had frames in flight): dropped.
            Cmd::Data => return true,
            // Every undecodable request is answered, and none counts as the last request (its
            // seq says nothing about what the host meant).
            Cmd::Bad => {
                let f = fail(Cause::Undecodable { version: VERSION });
                let n = tx.put(seq, &Response::Error(&f));
                s.answer(seq, Out::Ready(n), false);
                return true;
            }
            Cmd::Hello => s.last = None,
            // A push or install repeats under a new or the same seq: its push_id decides.
            Cmd::PushBegin { .. } | Cmd::InstallBegin(_) => {}
            // The same request again (the host lost the answer, or the link duplicated the
            // frame: the same bytes under the same seq): answer again, never run it twice.
            // Another request under a reused seq runs.
            _ if s
                .last
                .as_ref()
                .is_some_and(|l| (l.seq, l.crc) == (seq, crc)) =>
            {
                s.answer(seq, Out::Answer, false);
                return true;
            }
            _ => {}
        }
        false
    }
}

fn arch_name() -> &'static str {
    llext_loader::arch::Arch::native().map_or("unknown", |a| a.name())
}
