//! A push or install as a plain byte stream: `Data` frames in offset order, handed on a frame
//! at a time, acknowledged as they are consumed, with resend requests on gaps and silence, and a
//! stall timeout.

use embassy_time::{Instant, with_timeout};
use embedded_io_async::{Read, Write};
use llext_loader::outline::outlined;

use super::Config;
use super::failure::{Failure, fail};
use super::link::{FrameLink, LinkError};
use crate::protocol::{CRC32, Cause, Request, Response};

/// Why a push stopped before its bytes were all consumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// No data arrived for the push timeout.
    Timeout,
    /// Another request arrived; it waits in the frame buffer.
    Interrupted,
    /// The link failed or closed.
    Link(LinkError),
}

/// Reads the file of one push from `Data` frames.
pub(crate) struct PushReader<'l, L, const F: usize> {
    link: &'l mut FrameLink<L, F>,
    cfg: &'l Config,
    seq: u16,
    push_id: u32,
    total: u32,
    pos: u32,
    /// Unread payload of the current frame, as a range of `link.frame()`.
    cur: (usize, usize),
    crc: crc::Digest<'static, u32, crate::protocol::CrcTable>,
    need_ack: bool,
    resend_asked: bool,
    pub stop: Option<Stop>,
    /// Hashes the bytes as they are consumed, for the signature check at the end.
    pub sig: Option<llext_sign::StreamVerifier>,
}

impl<'l, L: Read + Write, const F: usize> PushReader<'l, L, F> {
    pub fn new(
        link: &'l mut FrameLink<L, F>,
        cfg: &'l Config,
        seq: u16,
        push_id: u32,
        total: u32,
    ) -> Self {
        Self {
            link,
            cfg,
            seq,
            push_id,
            total,
            pos: 0,
            cur: (0, 0),
            crc: CRC32.digest(),
            need_ack: false,
            resend_asked: false,
            stop: None,
            sig: None,
        }
    }

    /// Tells the host where the device is; `resend` asks it to send from there again. Awaited
    /// at several places: polled out of line, one copy for all of them.
    pub fn ack(&mut self, resend: bool) -> impl Future<Output = Result<(), Stop>> + '_ {
        outlined(async move {
            let msg = Response::Ack {
                push_id: self.push_id,
                next_offset: self.pos,
                window: self.cfg.window,
                resend,
            };
            self.link
                .send(self.seq, &msg)
                .await
                .map_err(|e| self.halt(Stop::Link(e)))
        })
    }

    fn halt(&mut self, stop: Stop) -> Stop {
        self.stop = Some(stop);
        stop
    }

    /// Waits for the `Data` frame that holds offset `pos`.
    async fn next_data(&mut self) -> Result<(), Stop> {
        if self.need_ack {
            self.need_ack = false;
            self.ack(false).await?;
        }
        let mut heard = Instant::now();
        loop {
            let waited = heard.elapsed();
            if waited >= self.cfg.push_timeout {
                return Err(self.halt(Stop::Timeout));
            }
            let wait = (self.cfg.push_timeout - waited).min(self.cfg.resend_after);
            match with_timeout(wait, self.link.next_frame()).await {
                Err(_) => {
                    // Silence: the tail or an ack may have been lost. Ask again.
                    if heard.elapsed() < self.cfg.push_timeout {
                        self.ack(true).await?;
                    }
                    continue;
                }
                Ok(Err(e)) => return Err(self.halt(Stop::Link(e))),
                Ok(Ok(())) => {}
            }
            let frame = self.link.frame();
            let Ok((_, req)) = Request::decode(frame) else {
                continue;
            };
            match req {
                Request::Data { offset, bytes } => {
                    heard = Instant::now();
                    let end = offset as u64 + bytes.len() as u64;
                    if offset <= self.pos && end > self.pos as u64 && end <= self.total as u64 {
                        let start = bytes.as_ptr() as usize - frame.as_ptr() as usize;
                        let skip = (self.pos - offset) as usize;
                        self.cur = (start + skip, start + bytes.len());
                        self.resend_asked = false;
                        return Ok(());
                    }
                    if offset > self.pos && !self.resend_asked {
                        // A gap: frames were lost or damaged. Ask once per gap; later frames of
                        // the same window are dropped quietly.
                        self.resend_asked = true;
                        self.ack(true).await?;
                    }
                }
                Request::PushBegin { push_id, .. } | Request::InstallBegin { push_id, .. }
                    if push_id == self.push_id =>
                {
                    // The host lost our acks, or reconnected: resume from here.
                    heard = Instant::now();
                    self.ack(true).await?;
                }
                _ => return Err(self.halt(Stop::Interrupted)),
            }
        }
    }

    /// Whether every byte arrived and they match `crc32`.
    pub fn verify(&self, crc32: u32) -> bool {
        self.pos == self.total && self.crc.clone().finalize() == crc32
    }

    /// Bytes in the file.
    pub fn total(&self) -> u32 {
        self.total
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> u32 {
        self.pos
    }

    /// Starts at `pos` instead of 0 (an install resumed from where flash got to); the CRC then
    /// covers only what follows.
    pub fn skip_to(&mut self, pos: u32) {
        self.pos = pos.min(self.total);
    }

    /// The unread payload of the current `Data` frame, waiting for the next one when it is used
    /// up; empty at the end of the file. Mark what was used with [`PushReader::consume`].
    pub async fn chunk(&mut self) -> Result<&[u8], Stop> {
        if self.pos == self.total {
            return Ok(&[]);
        }
        if self.cur.0 == self.cur.1 {
            self.next_data().await?;
        }
        Ok(&self.link.frame()[self.cur.0..self.cur.1])
    }

    /// Marks the first `n` bytes of [`PushReader::chunk`] consumed; the frame is acknowledged
    /// once all of it is.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.cur.1 - self.cur.0);
        let bytes = &self.link.frame()[self.cur.0..self.cur.0 + n];
        self.crc.update(bytes);
        if let Some(v) = &mut self.sig {
            v.update(bytes);
        }
        self.cur.0 += n;
        self.pos += n as u32;
        if self.cur.0 == self.cur.1 {
            self.need_ack = true;
        }
    }
}

/// The failure of a push (`install` false) or install that `stop`ped at byte `at` of `total`;
/// `None` when it did not stop (or the link failed: nothing is answered then).
pub(crate) fn stopped(
    stop: Option<Stop>,
    at: u32,
    total: u32,
    install: bool,
    cfg: &Config,
) -> Option<Failure> {
    match stop? {
        Stop::Timeout => Some(fail(Cause::Stalled {
            install,
            timeout_ms: cfg.push_timeout.as_millis() as u32,
            at,
            total,
        })),
        Stop::Interrupted => Some(fail(Cause::Interrupted { install, at, total })),
        Stop::Link(_) => None,
    }
}
