//! Pushing a file: windowed sending, acknowledgements by offset, resending from where the device
//! asks, and resuming after lost acknowledgements or a lost `PushDone`. Installs
//! (`install.rs`) send their data the same way.

use std::time::{Duration, Instant};

use super::{Client, ClientError, Progress, Pushed, device_error};
use crate::protocol::{CRC32, InstallInfo, Loaded, Request, Response, decode, max_data_payload};

/// How a push or an install ended.
pub(crate) enum Ended {
    /// `PushDone`.
    Push(Result<Loaded, ClientError>),
    /// `InstallDone`.
    Install(Result<InstallInfo, ClientError>),
}

/// What a transfer cost.
pub(crate) struct Sent {
    /// Bytes sent again after losses.
    pub resent: u64,
    /// Data bytes sent in all.
    pub wire: u64,
}

/// Where a transfer is.
struct Flow {
    push_id: u32,
    acked: u32,
    sent: u32,
    window: u32,
    chunk: u32,
    resent: u64,
}

impl Client {
    /// Pushes `image` (a stream-ordered ELF, see `llext_loader::pack`) and loads it on the
    /// device as `name`; `progress` is called as the device acknowledges bytes.
    ///
    /// Keeps up to the device's window of bytes in flight and always resends from the offset
    /// the device asks for, so damaged or lost frames cost a resend, not the push.
    pub fn push(
        &mut self,
        name: &str,
        image: &[u8],
        mut progress: impl FnMut(Progress),
    ) -> Result<Pushed, ClientError> {
        self.ensure_hello()?;
        let total =
            u32::try_from(image.len()).map_err(|_| ClientError::TooLarge { len: image.len() })?;
        let crc32 = CRC32.checksum(image);
        let push_id = self.next_push_id();
        let begin = Request::PushBegin {
            push_id,
            name,
            total_len: total,
            crc32,
        };
        let started = Instant::now();
        self.send(&begin)?;
        let (ended, sent) = self.stream(&begin, push_id, image, 0, &mut progress)?;
        let l = match ended {
            Ended::Push(r) => r?,
            Ended::Install(_) => unreachable!("a push ends with PushDone"),
        };
        Ok(Pushed {
            slot: l.slot,
            image_bytes: l.image_bytes,
            relocations: l.relocations,
            symbols: l.symbols,
            file_bytes: total as u64,
            resent_bytes: sent.resent,
            micros: started.elapsed().as_micros() as u64,
        })
    }

    /// A new push or install id.
    pub(crate) fn next_push_id(&mut self) -> u32 {
        self.push_count = self.push_count.wrapping_add(0x9E37_79B9);
        self.push_count
    }

    /// How long a transfer may go without progress.
    pub(crate) fn stall(&self, push_timeout_ms: u32) -> Duration {
        self.timeouts
            .push_stall
            .max(Duration::from_millis(push_timeout_ms as u64 + 1000))
    }

    /// Sends `image` from offset `start` (the device has acknowledged everything before it)
    /// until the device says the transfer ended; `begin` (already sent) is sent again when the
    /// device falls silent.
    pub(crate) fn stream(
        &mut self,
        begin: &Request<'_>,
        push_id: u32,
        image: &[u8],
        start: u32,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<(Ended, Sent), ClientError> {
        let info = self.ensure_hello()?;
        let total = image.len() as u32;
        let chunk = (max_data_payload(info.max_frame as usize) as u32).clamp(1, 1 << 15);
        let stall = self.stall(info.push_timeout_ms);
        let mut f = Flow {
            push_id,
            acked: start,
            sent: start,
            window: info.window.max(chunk),
            chunk,
            resent: 0,
        };
        let mut wire = 0u64;
        let mut heard = Instant::now();
        let mut progressed = Instant::now();
        let report = |f: &Flow| Progress {
            acked: f.acked as u64,
            sent: f.sent as u64,
            total: total as u64,
        };
        loop {
            // Fill the window; look at what came back after every frame.
            let mut wait = true;
            while f.sent < total && f.sent - f.acked < f.window {
                let end = (f.sent + chunk).min(total);
                let data = Request::Data {
                    offset: f.sent,
                    bytes: &image[f.sent as usize..end as usize],
                };
                self.send_seq(0, &data)?;
                wire += (end - f.sent) as u64;
                f.sent = end;
                if !self.wait_frame(None)? {
                    continue;
                }
                wait = false;
                break;
            }
            if wait {
                let deadline = heard + self.timeouts.resend;
                if !self.wait_frame(Some(deadline))? {
                    if progressed.elapsed() > stall {
                        return Err(self.timeout("push", progressed));
                    }
                    // Silence: acknowledgements or our last frames were lost. Ask where the
                    // device is (the same push_id resumes, or repeats the end), and resend from
                    // the last ack.
                    self.send(begin)?;
                    f.resent += (f.sent - f.acked) as u64;
                    f.sent = f.acked;
                    heard = Instant::now();
                    continue;
                }
            }
            let before = f.acked;
            if let Some(done) = self.on_push_frame(&mut f) {
                if matches!(done, Ended::Push(Ok(_)) | Ended::Install(Ok(_))) {
                    progress(Progress {
                        acked: total as u64,
                        sent: total as u64,
                        total: total as u64,
                    });
                }
                let sent = Sent {
                    resent: f.resent,
                    wire,
                };
                return Ok((done, sent));
            }
            heard = Instant::now();
            if f.acked > before {
                progressed = heard;
                progress(report(&f));
            }
        }
    }

    /// Handles one frame during a transfer: `Some` when it ended.
    fn on_push_frame(&mut self, f: &mut Flow) -> Option<Ended> {
        match decode::<Response<'_>>(self.dec.frame()) {
            Ok((
                _,
                Response::Ack {
                    push_id,
                    next_offset,
                    window,
                    resend,
                },
            )) if push_id == f.push_id => {
                f.acked = f.acked.max(next_offset);
                f.window = window.max(f.chunk);
                if resend && next_offset < f.sent {
                    f.resent += (f.sent - next_offset) as u64;
                    f.sent = next_offset;
                }
                f.sent = f.sent.max(f.acked);
                None
            }
            Ok((_, Response::PushDone { push_id, result })) if push_id == f.push_id => {
                Some(Ended::Push(result.map_err(|e| device_error(&e))))
            }
            Ok((_, Response::InstallDone { push_id, result })) if push_id == f.push_id => {
                Some(Ended::Install(result.map_err(|e| device_error(&e))))
            }
            _ => None,
        }
    }
}
