//! The host side: a blocking client over a serial port or TCP that speaks the device protocol.
//!
//! ```no_run
//! use llext_transports::client::Client;
//! let mut c = Client::connect("tcp:127.0.0.1:40123")?;
//! c.set_log_handler(|line| println!("device: {line}"));
//! let packed = std::fs::read("hello.o")?; // already in stream order (llext_loader::pack)
//! c.push("hello", &packed, |p| eprint!("\r{}/{}", p.acked, p.total))?;
//! println!("hello = {}", c.call("hello", "hello")?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
mod install;
mod link;
mod push;
mod sections;
mod text;
mod types;

use std::boxed::Box;
use std::string::{String, ToString};
use std::time::{Duration, Instant};
use std::vec;
use std::vec::Vec;

pub use error::ClientError;
pub use install::InstallOptions;
pub use link::{Link, OpenOptions, SerialLink, TcpLink, open};
pub use sections::{PlacedSection, Sections};
pub use text::{DEVICE_TEXT_MAX, device_text, printable};
pub use types::{
    BootReportEvent, DeviceInfo, Export, ExtensionStatus, Installed, InterruptedInstall,
    ListedExtension, Listing, Progress, Pushed, Region, Status, StoredExtension, StoredImage,
    Trust,
};

use crate::protocol::{
    ErrorReply, ExtState, FrameDecoder, Request, Response, VERSION, decode, encode, max_frame_len,
};

/// Largest frame the client accepts from a device.
const RX_FRAME: usize = 4096;
/// Exports asked for per page.
const EXPORTS_PAGE: u32 = 64;

/// What receives the device's log lines.
type LogHandler = Box<dyn FnMut(&str) + Send>;

/// How long the client waits.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// For the answer to a request (also per `Hello` attempt).
    pub answer: Duration,
    /// During a push, silence after which the host resends from the last acknowledged byte.
    pub resend: Duration,
    /// During a push, how long without progress before giving up; the device's own push
    /// timeout plus one second when longer.
    pub push_stall: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            answer: Duration::from_secs(2),
            resend: Duration::from_millis(400),
            push_stall: Duration::from_secs(6),
        }
    }
}

/// A connection to one device.
pub struct Client {
    link: Box<dyn Link>,
    port: String,
    dec: Box<FrameDecoder<RX_FRAME>>,
    inbuf: Vec<u8>,
    in_pos: usize,
    in_len: usize,
    scratch: Vec<u8>,
    tx: Vec<u8>,
    seq: u16,
    info: Option<DeviceInfo>,
    on_log: Option<LogHandler>,
    timeouts: Timeouts,
    push_count: u32,
}

fn seed() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    t.subsec_nanos() ^ (t.as_secs() as u32).rotate_left(13) ^ std::process::id().rotate_left(7)
}

impl Client {
    /// Opens `port` (`tcp:HOST:PORT` or a serial device path) and says `Hello`.
    pub fn connect(port: &str) -> Result<Client, ClientError> {
        Self::connect_with(port, &OpenOptions::default())
    }

    /// As [`Client::connect`], with options for opening the port.
    pub fn connect_with(port: &str, opts: &OpenOptions) -> Result<Client, ClientError> {
        let mut c = Self::new(open(port, opts)?, port);
        c.hello()?;
        Ok(c)
    }

    /// A client over an already open link (`port` names it in messages); says nothing yet.
    pub fn new(link: Box<dyn Link>, port: &str) -> Client {
        let s = seed();
        Client {
            link,
            port: link::port_name(port),
            dec: Box::new(FrameDecoder::new()),
            inbuf: vec![0; 4096],
            in_pos: 0,
            in_len: 0,
            scratch: vec![0; 1 << 16],
            tx: vec![0; max_frame_len(1 << 16)],
            seq: (s as u16).max(1),
            info: None,
            on_log: None,
            timeouts: Timeouts::default(),
            push_count: s,
        }
    }

    /// Calls `f` with every log line the device sends (by default they are dropped).
    pub fn set_log_handler(&mut self, f: impl FnMut(&str) + Send + 'static) {
        self.on_log = Some(Box::new(f));
    }

    /// Changes how long the client waits.
    pub fn set_timeouts(&mut self, t: Timeouts) {
        self.timeouts = t;
    }

    /// The device's `Hello` answer, once [`Client::hello`] succeeded.
    pub fn info(&self) -> Option<&DeviceInfo> {
        self.info.as_ref()
    }

    /// The port this client talks to.
    pub fn port(&self) -> &str {
        &self.port
    }

    /// Handshake: the device's name, architecture, float ABI, frame size, memory, exports id.
    /// Fails with [`ClientError::VersionMismatch`] if the device speaks another version.
    pub fn hello(&mut self) -> Result<DeviceInfo, ClientError> {
        self.link.discard_input();
        self.in_pos = 0;
        self.in_len = 0;
        self.dec.clear();
        let started = Instant::now();
        for _ in 0..3 {
            let seq = self.send(&Request::Hello { version: VERSION })?;
            let deadline = Instant::now() + self.timeouts.answer / 2;
            while self.wait_frame(Some(deadline))? {
                match decode::<Response<'_>>(self.dec.frame()) {
                    Ok((s, Response::Hello(h))) if s == seq => {
                        if h.version != VERSION {
                            return Err(ClientError::VersionMismatch {
                                device: h.version,
                                host: VERSION,
                            });
                        }
                        let info = DeviceInfo::from(&h);
                        self.info = Some(info.clone());
                        return Ok(info);
                    }
                    Ok(_) => {}
                    Err(_) => {
                        // A device of another version: its Hello answer starts the same way.
                        if let Ok((s, Probe::Hello(p))) = decode::<Probe>(self.dec.frame())
                            && s == seq
                            && p.version != VERSION
                        {
                            return Err(ClientError::VersionMismatch {
                                device: p.version,
                                host: VERSION,
                            });
                        }
                    }
                }
            }
        }
        Err(ClientError::NoAnswer {
            port: self.port.clone(),
            waited: started.elapsed(),
        })
    }

    pub(crate) fn ensure_hello(&mut self) -> Result<DeviceInfo, ClientError> {
        match &self.info {
            Some(i) => Ok(i.clone()),
            None => self.hello(),
        }
    }

    /// The device's state and its loaded extensions.
    pub fn status(&mut self) -> Result<Status, ClientError> {
        let started = Instant::now();
        for _ in 0..3 {
            let seq = self.send(&Request::Status)?;
            let deadline = Instant::now() + self.timeouts.answer;
            let mut status: Option<Status> = None;
            let mut expected = 0usize;
            let mut exts: Vec<Option<(u32, ExtensionStatus)>> = Vec::new();
            while self.wait_frame(Some(deadline))? {
                match decode::<Response<'_>>(self.dec.frame()) {
                    Ok((s, Response::Status(h))) if s == seq => {
                        expected = h.extensions as usize;
                        exts = vec![None; expected];
                        status = Some(Status {
                            name: device_text(h.name),
                            arch: device_text(h.arch),
                            used_memory: h.used_memory,
                            free_memory: h.free_memory,
                            max_extensions: h.max_extensions,
                            pushes_ok: h.pushes_ok,
                            pushes_failed: h.pushes_failed,
                            bad_frames: h.bad_frames,
                            trust: (&h.trust).into(),
                            extensions: Vec::new(),
                        });
                    }
                    Ok((s, Response::Extension(e))) if s == seq && status.is_some() => {
                        if let Some(slot) = exts.get_mut(e.index as usize) {
                            *slot = Some((
                                e.deps,
                                ExtensionStatus {
                                    name: device_text(e.name),
                                    slot: e.slot,
                                    state: match e.state {
                                        ExtState::Ready => "ready",
                                        ExtState::Faulted => "faulted",
                                    }
                                    .into(),
                                    use_count: e.use_count,
                                    image_bytes: e.image_bytes,
                                    dependencies: Vec::new(),
                                    regions: e.regions.iter().flatten().map(Into::into).collect(),
                                    fault: e.fault,
                                },
                            ));
                        }
                    }
                    _ => {}
                }
                if let Some(st) = &mut status
                    && exts.iter().all(Option::is_some)
                    && exts.len() == expected
                {
                    let all: Vec<(u32, ExtensionStatus)> = exts.drain(..).flatten().collect();
                    for (deps, e) in &all {
                        let mut e = e.clone();
                        e.dependencies = all
                            .iter()
                            .filter(|(_, d)| deps & (1u32 << (d.slot as u32 & 31)) != 0)
                            .map(|(_, d)| d.name.clone())
                            .collect();
                        st.extensions.push(e);
                    }
                    return Ok(status.take().expect("checked"));
                }
            }
        }
        Err(self.timeout("status", started))
    }

    /// Calls `int sym(void)` in extension `ext` and returns its value.
    pub fn call(&mut self, ext: &str, sym: &str) -> Result<i32, ClientError> {
        self.call_within(ext, sym, 0)
    }

    /// [`call`](Self::call) with a time limit of `time_limit_ms` (0: the device's default) on a
    /// device that contains faults.
    pub fn call_within(
        &mut self,
        ext: &str,
        sym: &str,
        time_limit_ms: u32,
    ) -> Result<i32, ClientError> {
        let req = Request::Call {
            ext,
            sym,
            time_limit_ms,
        };
        self.once("call", &req, |r| match r {
            Response::CallResult { value } => Some(Ok(*value)),
            Response::CallFaulted(f) => Some(Err(ClientError::Faulted(*f))),
            _ => None,
        })?
    }

    /// Unloads extension `name` (running its destructors); returns how many loads of it remain.
    pub fn unload(&mut self, name: &str) -> Result<u16, ClientError> {
        self.once("unload", &Request::Unload { name }, |r| match r {
            Response::Unloaded { use_count } => Some(Ok(*use_count)),
            _ => None,
        })?
    }

    /// The firmware's exported symbols, all pages.
    pub fn exports(&mut self) -> Result<Vec<Export>, ClientError> {
        let started = Instant::now();
        let mut all: Vec<Option<Export>> = Vec::new();
        let mut start = 0u32;
        let mut tries = 0;
        loop {
            let seq = self.send(&Request::Exports {
                start,
                max: EXPORTS_PAGE,
            })?;
            let deadline = Instant::now() + self.timeouts.answer;
            let mut total = None;
            while self.wait_frame(Some(deadline))? {
                match decode::<Response<'_>>(self.dec.frame()) {
                    Ok((s, Response::Export { index, name, addr })) if s == seq => {
                        // Only this page: an index far beyond it must not size the table.
                        if index.checked_sub(start).is_none_or(|k| k >= EXPORTS_PAGE) {
                            continue;
                        }
                        let i = index as usize;
                        if all.len() <= i {
                            all.resize(i + 1, None);
                        }
                        all[i] = Some(Export {
                            name: printable(name).into_owned(),
                            addr,
                        });
                    }
                    Ok((s, Response::ExportsEnd { total: t })) if s == seq => {
                        total = Some(t as usize);
                        break;
                    }
                    _ => {}
                }
            }
            let Some(total) = total else {
                tries += 1;
                if tries == 3 {
                    return Err(self.timeout("exports", started));
                }
                continue;
            };
            all.truncate(total);
            let end = (start as usize + EXPORTS_PAGE as usize).min(total);
            if let Some(missing) =
                (start as usize..end).find(|&i| all.get(i).is_none_or(Option::is_none))
            {
                // A damaged frame: ask again from the first missing entry.
                tries += 1;
                if tries == 3 {
                    return Err(self.timeout("exports", started));
                }
                start = missing as u32;
                continue;
            }
            tries = 0;
            if end >= total {
                return Ok(all.into_iter().flatten().collect());
            }
            start = end as u32;
        }
    }

    /// Waits up to `wait` for device log lines (passing them to the log handler), for `monitor`.
    pub fn poll_logs(&mut self, wait: Duration) -> Result<(), ClientError> {
        let deadline = Instant::now() + wait;
        while self.wait_frame(Some(deadline))? {}
        Ok(())
    }

    /// Sends a request that must run at most once, and waits for its answer: resent under the
    /// same `seq` when no answer comes (the device runs it once and repeats its answer).
    fn once<T>(
        &mut self,
        what: &'static str,
        req: &Request<'_>,
        mut pick: impl FnMut(&Response<'_>) -> Option<Result<T, ClientError>>,
    ) -> Result<Result<T, ClientError>, ClientError> {
        self.ensure_hello()?;
        let started = Instant::now();
        let seq = self.next_seq();
        // Extension code the request runs may take up to its time limit before the answer.
        let mut runs = self.runs_for(req);
        for _ in 0..3 {
            self.send_seq(seq, req)?;
            let deadline = Instant::now() + self.timeouts.answer + core::mem::take(&mut runs);
            while self.wait_frame(Some(deadline))? {
                match decode::<Response<'_>>(self.dec.frame()) {
                    Ok((s, Response::Error(e))) if s == seq => return Ok(Err(device_error(&e))),
                    Ok((s, r)) if s == seq => {
                        if let Some(v) = pick(&r) {
                            return Ok(v);
                        }
                    }
                    _ => {}
                }
            }
        }
        Err(self.timeout(what, started))
    }

    /// How long the extension code `req` runs on the device may take at most.
    fn runs_for(&self, req: &Request<'_>) -> Duration {
        let default = self.info.as_ref().map_or(0, |i| i.time_limit_ms);
        let ms = match req {
            Request::Call { time_limit_ms, .. } if *time_limit_ms > 0 => *time_limit_ms,
            Request::Call { .. } | Request::Unload { .. } => default,
            _ => 0,
        };
        Duration::from_millis(ms.into())
    }

    fn timeout(&self, what: &'static str, started: Instant) -> ClientError {
        ClientError::Timeout {
            what,
            port: self.port.clone(),
            waited: started.elapsed(),
        }
    }

    fn next_seq(&mut self) -> u16 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    /// Sends `req` under a new sequence number, which it returns.
    fn send(&mut self, req: &Request<'_>) -> Result<u16, ClientError> {
        let seq = self.next_seq();
        self.send_seq(seq, req)?;
        Ok(seq)
    }

    fn send_seq(&mut self, seq: u16, req: &Request<'_>) -> Result<(), ClientError> {
        let n = encode(seq, req, &mut self.scratch, &mut self.tx).map_err(|e| ClientError::Io {
            port: self.port.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()),
        })?;
        self.link.send(&self.tx[..n]).map_err(|e| self.io_error(e))
    }

    fn io_error(&self, e: std::io::Error) -> ClientError {
        if matches!(
            e.kind(),
            std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
        ) {
            ClientError::Disconnected {
                port: self.port.clone(),
            }
        } else {
            ClientError::Io {
                port: self.port.clone(),
                source: e,
            }
        }
    }

    /// Waits until a frame other than a log line is in `self.dec`; `Ok(false)` once `deadline`
    /// passes (`None`: only what has already arrived).
    fn wait_frame(&mut self, deadline: Option<Instant>) -> Result<bool, ClientError> {
        loop {
            while self.in_pos < self.in_len {
                let (used, done) = self.dec.feed(&self.inbuf[self.in_pos..self.in_len]);
                self.in_pos += used;
                if done {
                    if let Ok((_, Response::Log { line })) =
                        decode::<Response<'_>>(self.dec.frame())
                    {
                        if let Some(f) = &mut self.on_log {
                            f(line);
                        }
                        continue;
                    }
                    if decode::<Response<'_>>(self.dec.frame()).is_err()
                        && unreadable_error(self.dec.frame())
                    {
                        return Err(ClientError::Unreadable {
                            port: self.port.clone(),
                        });
                    }
                    return Ok(true);
                }
            }
            let wait = match deadline {
                None => Duration::ZERO,
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Ok(false);
                    }
                    d - now
                }
            };
            let n = self
                .link
                .recv(&mut self.inbuf, wait)
                .map_err(|e| self.io_error(e))?;
            if n == 0 && deadline.is_none() {
                return Ok(false);
            }
            self.in_pos = 0;
            self.in_len = n;
        }
    }
}

fn device_error(e: &ErrorReply<&str>) -> ClientError {
    ClientError::Device {
        code: e.code,
        cause: e.cause.to_owned(),
    }
}

/// The start of a `Hello` answer of any protocol version.
#[derive(serde::Deserialize)]
enum Probe {
    Hello(ProbeHello),
}

#[derive(serde::Deserialize)]
struct ProbeHello {
    version: u16,
}

/// Whether a frame that does not decode is an error answer (`Error`, or `PushDone`/`InstallDone`
/// holding `Err`): its variant tags lead it, whatever follows. `Response`'s variant order is
/// the wire's, so these numbers never change.
fn unreadable_error(frame: &[u8]) -> bool {
    const PUSH_DONE: u32 = 2;
    const ERROR: u32 = 10;
    const INSTALL_DONE: u32 = 11;
    // A fault of a kind a newer firmware added (as `panic` was, to version 2).
    const CALL_FAULTED: u32 = 18;
    match postcard::take_from_bytes::<(u16, u32)>(frame) {
        Ok(((_, ERROR | CALL_FAULTED), _)) => true,
        Ok(((_, PUSH_DONE | INSTALL_DONE), rest)) => {
            // push_id, then the result: `Err` is variant 1.
            matches!(
                postcard::take_from_bytes::<(u32, u32)>(rest),
                Ok(((_, 1), _))
            )
        }
        _ => false,
    }
}
