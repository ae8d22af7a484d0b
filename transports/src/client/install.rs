//! Installing into the device's flash, and the catalog requests: `install`, `list`,
//! `confirm`, `rollback`, `remove`.

use std::time::Instant;
use std::vec;
use std::vec::Vec;

use super::push::Ended;
use super::{
    Client, ClientError, Installed, InterruptedInstall, ListedExtension, Listing, Progress,
    device_error,
};
use crate::protocol::{CRC32, Request, Response, decode};

/// How an extension is installed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InstallOptions {
    /// Load it at boot.
    pub boot: bool,
    /// Its version; `None` counts up from the installed one (or starts at 1).
    pub version: Option<u32>,
    /// Link it on the device to execute in place from flash.
    pub xip: bool,
}

impl Client {
    /// Installs `image` (a stream-ordered ELF) into the device's flash as `name`; `progress` is
    /// called as the device acknowledges bytes. The device says where to start: an install
    /// cut off earlier (lost link, device reset) resumes from what flash holds, and an image
    /// already installed is not sent again. The new version is pending: the device tries it
    /// at its next boot.
    pub fn install(
        &mut self,
        name: &str,
        image: &[u8],
        opts: InstallOptions,
        mut progress: impl FnMut(Progress),
    ) -> Result<Installed, ClientError> {
        let info = self.ensure_hello()?;
        let total =
            u32::try_from(image.len()).map_err(|_| ClientError::TooLarge { len: image.len() })?;
        let push_id = self.next_push_id();
        let begin = Request::InstallBegin {
            push_id,
            name,
            total_len: total,
            crc32: CRC32.checksum(image),
            boot: opts.boot,
            version: opts.version,
            xip: opts.xip,
        };
        let started = Instant::now();
        let stall = self.stall(info.push_timeout_ms);
        // Where to start: the device's first Ack (or, with nothing to send, InstallDone).
        let start = loop {
            self.send(&begin)?;
            let deadline = Instant::now() + self.timeouts.answer;
            let mut got = None;
            while got.is_none() && self.wait_frame(Some(deadline))? {
                got = match decode::<Response<'_>>(self.dec.frame()) {
                    Ok((
                        _,
                        Response::Ack {
                            push_id: id,
                            next_offset,
                            ..
                        },
                    )) if id == push_id => Some(Ok(next_offset)),
                    Ok((
                        _,
                        Response::InstallDone {
                            push_id: id,
                            result,
                        },
                    )) if id == push_id => Some(Err(result.map_err(|e| device_error(&e)))),
                    _ => None,
                };
            }
            match got {
                Some(Ok(offset)) => break Ok(offset.min(total)),
                Some(Err(done)) => break Err(done),
                None if started.elapsed() > stall => {
                    return Err(self.timeout("install", started));
                }
                None => {}
            }
        };
        let (done, resumed_from, sent) = match start {
            Err(done) => (done, total, Default::default()),
            Ok(from) => {
                progress(Progress {
                    acked: from as u64,
                    sent: from as u64,
                    total: total as u64,
                });
                let (ended, sent) = self.stream(&begin, push_id, image, from, &mut progress)?;
                let done = match ended {
                    Ended::Install(r) => r,
                    Ended::Push(_) => unreachable!("an install ends with InstallDone"),
                };
                (done, from, (sent.wire, sent.resent))
            }
        };
        let i = done?;
        Ok(Installed {
            version: i.version,
            slot: i.slot,
            state: i.state.name().into(),
            unchanged: i.unchanged,
            boot: i.boot,
            previous: i.previous,
            file_bytes: total as u64,
            resumed_from: resumed_from as u64,
            sent_bytes: sent.0,
            resent_bytes: sent.1,
            micros: started.elapsed().as_micros() as u64,
        })
    }

    /// What the device has installed in flash and loaded, and its boot report.
    pub fn list(&mut self) -> Result<Listing, ClientError> {
        self.ensure_hello()?;
        let started = Instant::now();
        for _ in 0..3 {
            let seq = self.send(&Request::List)?;
            let deadline = Instant::now() + self.timeouts.answer;
            let mut head: Option<Listing> = None;
            let mut exts: Vec<Option<ListedExtension>> = Vec::new();
            let mut events = Vec::new();
            while self.wait_frame(Some(deadline))? {
                match decode::<Response<'_>>(self.dec.frame()) {
                    Ok((s, Response::ListHead(h))) if s == seq => {
                        exts = vec![None; h.entries as usize];
                        events = vec![None; h.boot_events as usize];
                        head = Some(Listing {
                            storage: h.storage,
                            slots: h.slots,
                            free_slots: h.free_slots,
                            slot_size: h.slot_size,
                            interrupted: h.interrupted.map(|i| InterruptedInstall {
                                name: super::device_text(i.name),
                                total_len: i.total_len,
                                crc32: i.crc32,
                                offset: i.offset,
                            }),
                            extensions: Vec::new(),
                            boot_report: Vec::new(),
                        });
                    }
                    Ok((s, Response::Stored(e))) if s == seq && head.is_some() => {
                        if let Some(slot) = exts.get_mut(e.index as usize) {
                            *slot = Some((&e).into());
                        }
                    }
                    Ok((s, Response::BootEvent(e))) if s == seq && head.is_some() => {
                        if let Some(slot) = events.get_mut(e.index as usize) {
                            *slot = Some((&e).into());
                        }
                    }
                    Ok((s, Response::Error(e))) if s == seq => return Err(device_error(&e)),
                    _ => {}
                }
                if head.is_some()
                    && exts.iter().all(Option::is_some)
                    && events.iter().all(Option::is_some)
                {
                    let mut l = head.take().expect("checked");
                    l.extensions = exts.drain(..).flatten().collect();
                    l.boot_report = events.drain(..).flatten().collect();
                    return Ok(l);
                }
            }
        }
        Err(self.timeout("list", started))
    }

    /// Confirms the active version of installed extension `name`; returns its entry.
    pub fn confirm(&mut self, name: &str) -> Result<ListedExtension, ClientError> {
        self.once("confirm", &Request::Confirm { name }, |r| match r {
            Response::Stored(e) => Some(Ok(e.into())),
            _ => None,
        })?
    }

    /// Makes the previous version of `name` active again (from the next boot); returns its
    /// entry.
    pub fn rollback(&mut self, name: &str) -> Result<ListedExtension, ClientError> {
        self.once("rollback", &Request::Rollback { name }, |r| match r {
            Response::Stored(e) => Some(Ok(e.into())),
            _ => None,
        })?
    }

    /// Removes `name` from the device's flash (a loaded copy stays loaded until unloaded).
    pub fn remove(&mut self, name: &str) -> Result<(), ClientError> {
        self.once("remove", &Request::Remove { name }, |r| match r {
            Response::Removed => Some(Ok(())),
            _ => None,
        })?
    }
}
