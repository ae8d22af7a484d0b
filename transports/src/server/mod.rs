//! The device side: serves the protocol over one link at a time, on top of a loader `Registry`.
//!
//! [`Device::serve`] runs until the link closes. Push data goes straight from the frame buffer
//! into the loader (through [`llext_loader::source::StreamSource`]); nothing of the file is kept.
//! The RAM a transfer needs is the receive frame buffer (`F` bytes), a 256-byte read buffer and a
//! small transmit buffer; the host keeps at most [`Config::window`] bytes in flight, which the
//! link's own receive buffering must absorb.

// Failures carry their message in a fixed 200-byte buffer: the device has no allocator to box it.
#![allow(clippy::result_large_err, clippy::large_enum_variant)]

mod exec;
mod fingerprint;
#[cfg(feature = "storage")]
mod flash_store;
mod install;
mod link;
mod logs;
mod memory;
mod push;
mod sections;
#[cfg(feature = "storage")]
mod signed_boot;
mod signed_install;
mod store;
mod text;
mod trust;

use core::fmt::Write as _;

use embassy_time::{Duration, Instant, with_timeout};
use embedded_io_async::{Read, Write};
use llext_loader::extension::EntryError;
use llext_loader::memory::MemoryProvider;
use llext_loader::source::StreamSource;
use llext_loader::symbols::ExportTable;
use llext_loader::{Limits, LoadParams, Name, Registry, Report};
use llext_sign::Kind;

#[cfg(feature = "storage")]
pub use flash_store::FlashStore;
pub use link::LinkError;
pub use logs::{LogSource, NoLogs};
pub use memory::MemoryInfo;
pub use store::{ExtStore, NoStore, Progress, STORE_MSG, Slots, StoreError};
pub use text::Text;

use crate::protocol::{
    DeviceHello, ErrorCode, ErrorReply, ExtState, ExtensionInfo, FaultReport, Loaded, RegionInfo,
    RegionKind, Request, Response, SectionInfo, SectionsEnd, StatusHead, VERSION, decode,
};
use install::{CatalogOp, InstallRecord};
use link::FrameLink;
use push::{PushReader, Stop};
use sections::{Placed, Placements};
use text::utf8_prefix;

/// The default receive frame size: 1 KiB of push data per frame plus overhead.
pub const DEFAULT_FRAME: usize = 1088;

/// Longest symbol name a `Call` may use.
const MAX_SYM: usize = 128;
/// Longest error message the device sends.
const MSG: usize = 200;
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
    /// Runs `Call`s so that a fault in extension code ends the call, not the firmware (the
    /// firmware's fault handler); `None` calls directly.
    pub guard: Option<CallGuard>,
}

/// Runs `f` (which runs extension code: a call, constructors, destructors), returning the fault
/// extension code raised, if any, instead of its value.
pub type CallGuard = fn(f: &mut dyn FnMut() -> i32) -> Result<i32, FaultReport>;

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

type Failure = (ErrorCode, Text<MSG>);

fn fail(code: ErrorCode, args: core::fmt::Arguments<'_>) -> Failure {
    (code, Text::format(args))
}

fn reply(f: &Failure) -> ErrorReply<'_> {
    ErrorReply {
        code: f.0,
        message: f.1.as_str(),
    }
}

/// The answer to a request that must run once (call, unload, remove, confirm, rollback), kept
/// to be sent again if the same request arrives again.
enum Answer {
    Value(i32),
    Faulted(FaultReport),
    Unloaded(u16),
    Removed,
    /// The extension's entry, as it is when the answer is sent.
    Entry(Name),
    Failed(Failure),
}

/// The last request handled on this link.
struct LastRequest {
    seq: u16,
    answer: Option<Answer>,
}

/// What identifies a push or an install: its outcome is replayed only to the same request,
/// never to another one that reuses its id.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Transfer {
    push_id: u32,
    name: Option<Name>,
    total_len: u32,
    crc32: u32,
    /// Installs only: the boot flag and the version asked for.
    install: Option<(bool, Option<u32>)>,
}

/// The outcome of the last push, kept so a host that lost `PushDone` can ask again.
struct PushRecord {
    key: Transfer,
    result: Result<Loaded, Failure>,
}

/// A request copied out of its frame, so the frame buffer is free again.
enum Cmd {
    Hello,
    Status,
    PushBegin {
        push_id: u32,
        name: Option<Name>,
        total_len: u32,
        crc32: u32,
    },
    Data,
    Call {
        ext: Option<Name>,
        sym: Option<Text<MAX_SYM>>,
    },
    Unload {
        name: Option<Name>,
    },
    Exports {
        start: u32,
        max: u32,
    },
    InstallBegin {
        push_id: u32,
        name: Option<Name>,
        total_len: u32,
        crc32: u32,
        boot: bool,
        version: Option<u32>,
    },
    List,
    Remove {
        name: Option<Name>,
    },
    Confirm {
        name: Option<Name>,
    },
    Rollback {
        name: Option<Name>,
    },
    Sections {
        name: Option<Name>,
    },
    Bad,
}

fn ext_name(s: &str) -> Option<Name> {
    (!s.is_empty() && s.len() <= Name::CAPACITY).then(|| Name::new(s.as_bytes()))
}

impl Cmd {
    fn parse(frame: &[u8]) -> (u16, Cmd) {
        let Ok((seq, req)) = decode::<Request<'_>>(frame) else {
            // Answer under the request's own seq when at least that decodes.
            let seq = postcard::take_from_bytes::<u16>(frame).map_or(0, |(s, _)| s);
            return (seq, Cmd::Bad);
        };
        let cmd = match req {
            Request::Hello { .. } => Cmd::Hello,
            Request::Status => Cmd::Status,
            Request::PushBegin {
                push_id,
                name,
                total_len,
                crc32,
            } => Cmd::PushBegin {
                push_id,
                name: ext_name(name),
                total_len,
                crc32,
            },
            Request::Data { .. } => Cmd::Data,
            Request::Call { ext, sym } => Cmd::Call {
                ext: ext_name(ext),
                sym: (sym.len() <= MAX_SYM).then(|| Text::format(format_args!("{sym}"))),
            },
            Request::Unload { name } => Cmd::Unload {
                name: ext_name(name),
            },
            Request::Exports { start, max } => Cmd::Exports { start, max },
            Request::InstallBegin {
                push_id,
                name,
                total_len,
                crc32,
                boot,
                version,
            } => Cmd::InstallBegin {
                push_id,
                name: ext_name(name),
                total_len,
                crc32,
                boot,
                version,
            },
            Request::List => Cmd::List,
            Request::Remove { name } => Cmd::Remove {
                name: ext_name(name),
            },
            Request::Confirm { name } => Cmd::Confirm {
                name: ext_name(name),
            },
            Request::Rollback { name } => Cmd::Rollback {
                name: ext_name(name),
            },
            Request::Sections { name } => Cmd::Sections {
                name: ext_name(name),
            },
        };
        (seq, cmd)
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
    /// The extension in each slot faulted: no more calls, no destructors.
    faulted: [bool; N],
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
            faulted: [false; N],
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
            ext.check_entries().is_ok()
                && exec::guarded(guard, ext, &mut || {
                    exec::bringup(ext);
                    0
                })
                .is_ok()
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
        let mut last = None;
        let mut pending = false;
        let mut heard = Instant::now();
        loop {
            if !pending {
                if let Err(e) = self.flush_logs(link).await {
                    return e;
                }
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
            match self.handle(link, seq, cmd, &mut last).await {
                Ok(p) => pending = p,
                Err(e) => return e,
            }
        }
    }

    async fn flush_logs<L: Read + Write>(
        &mut self,
        link: &mut FrameLink<L, F>,
    ) -> Result<(), LinkError> {
        let mut buf = [0u8; LOG_LINE];
        while let Some(n) = self.logs.next_line(&mut buf) {
            let line = utf8_prefix(&buf[..n.min(LOG_LINE)]);
            link.send(0, &Response::Log { line }).await?;
        }
        Ok(())
    }

    /// Handles one request; `Ok(true)` when an interrupted push left the next request waiting
    /// in the frame buffer.
    async fn handle<L: Read + Write>(
        &mut self,
        link: &mut FrameLink<L, F>,
        seq: u16,
        cmd: Cmd,
        last: &mut Option<LastRequest>,
    ) -> Result<bool, LinkError> {
        match cmd {
            // Data of a push that already ended (the host had frames in flight): dropped.
            Cmd::Data => return Ok(false),
            // Every undecodable request is answered, and none counts as the last request (its
            // seq says nothing about what the host meant).
            Cmd::Bad => {
                let f = fail(
                    ErrorCode::BadRequest,
                    format_args!(
                        "the device could not decode a request (it speaks protocol version {VERSION})"
                    ),
                );
                link.send(seq, &Response::Error(reply(&f))).await?;
                return Ok(false);
            }
            Cmd::Hello => *last = None,
            // A push repeats under a new or the same seq: its push_id decides.
            Cmd::PushBegin { .. } => {}
            // The same request again (the host lost the answer, or the link duplicated the
            // frame): answer again, never run it twice.
            Cmd::InstallBegin { .. } => {}
            _ if last.as_ref().is_some_and(|l| l.seq == seq) => {
                if let Some(a) = last.as_ref().and_then(|l| l.answer.as_ref()) {
                    self.send_answer(link, seq, a).await?;
                }
                return Ok(false);
            }
            _ => {}
        }
        *last = Some(LastRequest { seq, answer: None });
        match cmd {
            Cmd::Hello => {
                let hello = self.hello();
                link.send(seq, &Response::Hello(hello)).await?;
            }
            Cmd::Status => self.status(link, seq).await?,
            Cmd::PushBegin {
                push_id,
                name,
                total_len,
                crc32,
            } => return self.push(link, seq, push_id, name, total_len, crc32).await,
            Cmd::Call { ext, sym } => {
                let a = match self.call(ext, sym) {
                    Ok(Ok(v)) => Answer::Value(v),
                    Ok(Err(fault)) => Answer::Faulted(fault),
                    Err(f) => Answer::Failed(f),
                };
                self.flush_logs(link).await?;
                self.send_answer(link, seq, &a).await?;
                *last = Some(LastRequest {
                    seq,
                    answer: Some(a),
                });
            }
            Cmd::Unload { name } => {
                let a = match self.unload(name) {
                    Ok(n) => Answer::Unloaded(n),
                    Err(f) => Answer::Failed(f),
                };
                self.flush_logs(link).await?;
                self.send_answer(link, seq, &a).await?;
                *last = Some(LastRequest {
                    seq,
                    answer: Some(a),
                });
            }
            Cmd::InstallBegin {
                push_id,
                name,
                total_len,
                crc32,
                boot,
                version,
            } => {
                let begin = install::Begin {
                    push_id,
                    name,
                    total_len,
                    crc32,
                    boot,
                    version,
                };
                return self.install(link, seq, begin).await;
            }
            Cmd::List => self.list(link, seq).await?,
            Cmd::Remove { name } => {
                self.catalog(link, seq, last, CatalogOp::Remove, name)
                    .await?;
            }
            Cmd::Confirm { name } => {
                self.catalog(link, seq, last, CatalogOp::Confirm, name)
                    .await?;
            }
            Cmd::Rollback { name } => {
                self.catalog(link, seq, last, CatalogOp::Rollback, name)
                    .await?;
            }
            Cmd::Sections { name } => self.sections(link, seq, name).await?,
            Cmd::Exports { start, max } => {
                let all = self.info.exports.entries();
                let start = (start as usize).min(all.len());
                let end = start.saturating_add(max as usize).min(all.len());
                for (i, e) in all[start..end].iter().enumerate() {
                    let msg = Response::Export {
                        index: (start + i) as u32,
                        name: e.name,
                        addr: e.addr as usize as u64,
                    };
                    link.send(seq, &msg).await?;
                }
                let total = all.len() as u32;
                link.send(seq, &Response::ExportsEnd { total }).await?;
            }
            Cmd::Data | Cmd::Bad => {}
        }
        Ok(false)
    }

    fn hello(&self) -> DeviceHello<'static> {
        let mem = self.registry.provider();
        DeviceHello {
            version: VERSION,
            name: self.info.name,
            arch: arch_name(),
            float_abi: self.info.float_abi,
            max_frame: F as u32,
            window: self.config.window,
            free_memory: mem.free_memory(),
            used_memory: mem.used_memory(),
            exports_id: self.info.exports.id(),
            exports: self.info.exports.entries().len() as u32,
            max_extensions: N as u8,
            push_timeout_ms: self.config.push_timeout.as_millis() as u32,
        }
    }

    async fn status<L: Read + Write>(
        &mut self,
        link: &mut FrameLink<L, F>,
        seq: u16,
    ) -> Result<(), LinkError> {
        let mem = self.registry.provider();
        let head = StatusHead {
            name: self.info.name,
            arch: arch_name(),
            used_memory: mem.used_memory(),
            free_memory: mem.free_memory(),
            extensions: self.registry.iter().count() as u8,
            max_extensions: N as u8,
            pushes_ok: self.pushes_ok,
            pushes_failed: self.pushes_failed,
            bad_frames: self.bad_frames + link.bad_frames(),
            trust: trust::info(&self.config.trust),
        };
        link.send(seq, &Response::Status(head)).await?;
        for (index, (slot, ext)) in self.registry.iter().enumerate() {
            let mut regions = [None; 5];
            for (r, out) in ext.regions().zip(regions.iter_mut()) {
                *out = Some(RegionInfo {
                    kind: RegionKind::from_mem(r.kind),
                    addr: r.addr,
                    size: r.size as u32,
                });
            }
            let info = ExtensionInfo {
                index: index as u8,
                slot: slot as u8,
                name: ext.name(),
                state: if self.faulted[slot] {
                    ExtState::Faulted
                } else {
                    ExtState::Ready
                },
                use_count: ext.use_count(),
                deps: ext.dependencies(),
                image_bytes: ext.image_bytes() as u32,
                regions,
            };
            link.send(seq, &Response::Extension(info)).await?;
        }
        Ok(())
    }

    /// Answers `Sections`: where each section of extension `name` went.
    async fn sections<L: Read + Write>(
        &mut self,
        link: &mut FrameLink<L, F>,
        seq: u16,
        name: Option<Name>,
    ) -> Result<(), LinkError> {
        let found = name
            .ok_or_else(|| fail(ErrorCode::NotLoaded, format_args!("no such extension")))
            .and_then(|n| self.find(&n));
        let slot = match found {
            Ok(s) => s,
            Err(f) => return link.send(seq, &Response::Error(reply(&f))).await,
        };
        let ext = self.registry.get(slot).expect("found");
        let p = &self.placed[slot];
        let mut sent = 0u16;
        for s in p.iter() {
            let base = ext
                .regions()
                .find(|r| r.kind == s.kind)
                .map_or(0, |r| r.addr);
            let info = SectionInfo {
                index: sent,
                section: s.section,
                kind: RegionKind::from_mem(s.kind),
                addr: base + u64::from(s.offset),
                size: s.size,
            };
            link.send(seq, &Response::Section(info)).await?;
            sent += 1;
        }
        let end = SectionsEnd {
            sections: sent,
            dropped: p.dropped,
            total_len: p.total_len,
            crc32: p.crc32,
        };
        link.send(seq, &Response::SectionsEnd(end)).await
    }

    /// Runs a call; `Ok(Err(fault))` when the extension faulted (it is then marked faulted).
    fn call(
        &mut self,
        ext: Option<Name>,
        sym: Option<Text<MAX_SYM>>,
    ) -> Result<Result<i32, FaultReport>, Failure> {
        let ext =
            ext.ok_or_else(|| fail(ErrorCode::NotLoaded, format_args!("no such extension")))?;
        let sym = sym.ok_or_else(|| {
            fail(
                ErrorCode::NoSymbol,
                format_args!("symbol name longer than {MAX_SYM} bytes"),
            )
        })?;
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
        let r = exec::guarded(self.config.guard, e, &mut || exec::call_int(addr));
        if r.is_err() {
            self.faulted[slot] = true;
        }
        Ok(r)
    }

    fn find(&self, name: &Name) -> Result<usize, Failure> {
        self.registry.find(name.as_str()).ok_or_else(|| {
            fail(
                ErrorCode::NotLoaded,
                format_args!("no extension named `{name}` is loaded (status lists them)"),
            )
        })
    }

    fn unload(&mut self, name: Option<Name>) -> Result<u16, Failure> {
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
                let _ = exec::guarded(self.config.guard, ext, &mut || {
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

    /// Runs one push; `Ok(true)` when another request interrupted it and waits in the buffer.
    async fn push<L: Read + Write>(
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
            let result = rec.result.as_ref().map(|l| *l).map_err(reply);
            link.send(seq, &Response::PushDone { push_id, result })
                .await?;
            return Ok(false);
        }
        let checked = match name {
            None => Err(fail(
                ErrorCode::NameTooLong,
                format_args!("extension names are 1 to {} bytes", Name::CAPACITY),
            )),
            Some(_) if total_len == 0 || total_len > self.config.max_push => Err(fail(
                ErrorCode::TooLarge,
                format_args!(
                    "a push of {total_len} bytes: the device accepts 1 to {} bytes",
                    self.config.max_push
                ),
            )),
            Some(n) if self.registry.find(n.as_str()).is_some() => Err(fail(
                ErrorCode::AlreadyLoaded,
                format_args!("an extension named `{n}` is already loaded: unload it first"),
            )),
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
        let rec = self.last_push.insert(PushRecord { key, result });
        let result = rec.result.as_ref().map(|l| *l).map_err(reply);
        link.send(seq, &Response::PushDone { push_id, result })
            .await?;
        Ok(pending)
    }

    /// Streams the file into the loader, then checks and starts it.
    async fn load<L: Read + Write>(
        &mut self,
        link: &mut FrameLink<L, F>,
        seq: u16,
        push_id: u32,
        name: Name,
        total: u32,
        crc32: u32,
    ) -> Result<(Result<Loaded, Failure>, bool), LinkError> {
        let mut missing = Text::<MSG>::new();
        let mut placed = Placements::new(total, crc32);
        let exports = self.info.exports;
        let mut report = |r: Report<'_>| match r {
            Report::MissingSymbol(s) => {
                let sep = if missing.is_empty() { "" } else { ", " };
                let _ = write!(missing, "{sep}");
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
            }),
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
                    fail(
                        ErrorCode::MissingSymbols,
                        format_args!(
                            "{count} undefined symbol(s) not exported by the device or a loaded extension: {}",
                            missing.as_str()
                        ),
                    )
                } else {
                    fail(ErrorCode::from_load_error(&e), format_args!("{e}"))
                }
            })),
        };
        let pos = reader.position();
        let stop = reader.stop;
        let result = result.map_err(|f| match stop {
            Some(Stop::Timeout) => fail(
                ErrorCode::Timeout,
                format_args!(
                    "push stalled: no data for {} ms at byte {pos} of {total}; the device dropped it",
                    self.config.push_timeout.as_millis()
                ),
            ),
            Some(Stop::Interrupted) => fail(
                ErrorCode::Interrupted,
                format_args!("push interrupted by another request at byte {pos} of {total}"),
            ),
            _ => f.unwrap_or_else(|| fail(ErrorCode::Interrupted, format_args!("link failed"))),
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
    guard: Option<CallGuard>,
) -> Result<Loaded, Option<Failure>> {
    let e = registry.get(slot).expect("just loaded");
    let refused = match (whole, e.check_entries()) {
        (true, Ok(())) => {
            let run = exec::guarded(guard, e, &mut || {
                exec::bringup(e);
                0
            });
            if let Err(f) = run {
                // Its constructors were cut short: nothing to tear down, its memory goes back.
                let _ = registry.unload(slot);
                return Err(Some(fault_failure(name, &f)));
            }
            let s = e.stats();
            return Ok(Loaded {
                slot: slot as u8,
                image_bytes: e.image_bytes() as u32,
                relocations: s.relocations,
                symbols: s.symbols,
            });
        }
        (true, Err(err)) => fail(
            ErrorCode::NotCode,
            format_args!("a constructor or destructor of `{name}` is {err}: not loaded"),
        ),
        (false, _) => fail(
            ErrorCode::ChecksumMismatch,
            format_args!("the file received does not match its CRC-32: push it again"),
        ),
    };
    // Constructors never ran: nothing to tear down.
    let _ = registry.unload(slot);
    Err(Some(refused))
}

/// The answer to a push whose constructor faulted.
fn fault_failure(name: &Name, f: &FaultReport) -> Failure {
    let region = f.region.map_or("", |r| r.name());
    fail(
        ErrorCode::Faulted,
        format_args!(
            "a constructor of `{name}` faulted ({}, status {:#x}) at pc {:#x} ({region}+{:#x}), lr {:#x}: not loaded",
            f.kind.name(),
            f.status,
            f.pc,
            f.offset,
            f.lr
        ),
    )
}

fn arch_name() -> &'static str {
    llext_loader::arch::Arch::native().map_or("unknown", |a| a.name())
}
