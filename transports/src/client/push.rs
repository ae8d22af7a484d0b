//! Pushing a file: windowed sending, acknowledgements by offset, resending from where the device
//! asks, and resuming after lost acknowledgements or a lost `PushDone`.

use std::time::Instant;

use super::{Client, ClientError, Progress, Pushed, device_error};
use crate::protocol::{CRC32, Request, Response, decode, max_data_payload};

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
        let info = self.ensure_hello()?;
        let total =
            u32::try_from(image.len()).map_err(|_| ClientError::TooLarge { len: image.len() })?;
        let crc32 = CRC32.checksum(image);
        self.push_count = self.push_count.wrapping_add(0x9E37_79B9);
        let push_id = self.push_count;
        let chunk = (max_data_payload(info.max_frame as usize) as u32).clamp(1, 1 << 15);
        let mut window = info.window.max(chunk);
        let stall = self
            .timeouts
            .push_stall
            .max(std::time::Duration::from_millis(
                info.push_timeout_ms as u64 + 1000,
            ));
        let begin = Request::PushBegin {
            push_id,
            name,
            total_len: total,
            crc32,
        };
        let started = Instant::now();
        self.send(&begin)?;
        let (mut acked, mut sent, mut resent) = (0u32, 0u32, 0u64);
        let mut heard = Instant::now();
        let mut progressed = Instant::now();
        let report = |acked: u32, sent: u32| Progress {
            acked: acked as u64,
            sent: sent as u64,
            total: total as u64,
        };
        loop {
            // Fill the window; look at what came back after every frame.
            while sent < total && sent - acked < window {
                let end = (sent + chunk).min(total);
                let data = Request::Data {
                    offset: sent,
                    bytes: &image[sent as usize..end as usize],
                };
                self.send_seq(0, &data)?;
                sent = end;
                if !self.wait_frame(None)? {
                    continue;
                }
                let before = acked;
                if let Some(done) = self.on_push_frame(
                    push_id,
                    &mut acked,
                    &mut sent,
                    &mut window,
                    &mut resent,
                    chunk,
                )? {
                    return self.finish(done, total, resent, started, &mut progress);
                }
                heard = Instant::now();
                if acked > before {
                    progressed = heard;
                    progress(report(acked, sent));
                }
            }
            let deadline = heard + self.timeouts.resend;
            if self.wait_frame(Some(deadline))? {
                let before = acked;
                if let Some(done) = self.on_push_frame(
                    push_id,
                    &mut acked,
                    &mut sent,
                    &mut window,
                    &mut resent,
                    chunk,
                )? {
                    return self.finish(done, total, resent, started, &mut progress);
                }
                heard = Instant::now();
                if acked > before {
                    progressed = heard;
                    progress(report(acked, sent));
                }
                continue;
            }
            if progressed.elapsed() > stall {
                return Err(self.timeout("push", progressed));
            }
            // Silence: acknowledgements or our last frames were lost. Ask where the device is
            // (the same push_id resumes, or repeats PushDone), and resend from the last ack.
            self.send(&begin)?;
            resent += (sent - acked) as u64;
            sent = acked;
            heard = Instant::now();
        }
    }

    /// Handles one frame during a push: `Some` when the push ended.
    fn on_push_frame(
        &mut self,
        push_id: u32,
        acked: &mut u32,
        sent: &mut u32,
        window: &mut u32,
        resent: &mut u64,
        chunk: u32,
    ) -> Result<Option<Result<crate::protocol::Loaded, ClientError>>, ClientError> {
        match decode::<Response<'_>>(self.dec.frame()) {
            Ok((
                _,
                Response::Ack {
                    push_id: id,
                    next_offset,
                    window: w,
                    resend,
                },
            )) if id == push_id => {
                *acked = (*acked).max(next_offset);
                *window = w.max(chunk);
                if resend && next_offset < *sent {
                    *resent += (*sent - next_offset) as u64;
                    *sent = next_offset;
                }
                *sent = (*sent).max(*acked);
                Ok(None)
            }
            Ok((
                _,
                Response::PushDone {
                    push_id: id,
                    result,
                },
            )) if id == push_id => Ok(Some(result.map_err(|e| device_error(&e)))),
            _ => Ok(None),
        }
    }

    fn finish(
        &mut self,
        done: Result<crate::protocol::Loaded, ClientError>,
        total: u32,
        resent: u64,
        started: Instant,
        progress: &mut impl FnMut(Progress),
    ) -> Result<Pushed, ClientError> {
        let l = done?;
        progress(Progress {
            acked: total as u64,
            sent: total as u64,
            total: total as u64,
        });
        Ok(Pushed {
            slot: l.slot,
            image_bytes: l.image_bytes,
            relocations: l.relocations,
            symbols: l.symbols,
            file_bytes: total as u64,
            resent_bytes: resent,
            micros: started.elapsed().as_micros() as u64,
        })
    }
}
