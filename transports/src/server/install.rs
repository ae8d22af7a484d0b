//! Installs into flash and the catalog requests: `InstallBegin` (then `Data` as in a push,
//! written into the storage hook as each frame arrives), `List`, `Remove`, `Confirm`,
//! `Rollback`.

use embedded_io_async::{Read, Write};
use llext_loader::Name;
use llext_loader::memory::MemoryProvider;

use super::link::{FrameLink, LinkError};
use super::reader::{PushReader, Stop};
use super::store::{ExtStore, StoreError, no_storage};
use super::{Answer, Device, Failure, LastRequest, LogSource, MemoryInfo, Transfer, fail};
use crate::protocol::{
    BootEventInfo, Cause, InstallInfo, Interrupted, ListHead, Response, StoredEntry,
};

/// An `InstallBegin` request.
pub(super) struct Begin {
    pub push_id: u32,
    pub name: Option<Name>,
    pub total_len: u32,
    pub crc32: u32,
    pub boot: bool,
    pub version: Option<u32>,
    pub xip: bool,
}

/// The outcome of the last install, kept so a host that lost `InstallDone` can ask again.
pub(super) struct InstallRecord {
    key: Transfer,
    result: Result<InstallInfo, Failure>,
}

/// A catalog request.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum CatalogOp {
    Remove,
    Confirm,
    Rollback,
}

pub(super) fn failure(e: StoreError) -> Failure {
    Failure {
        code: e.code,
        cause: e.cause,
    }
}

/// The answer to a request without a valid extension name.
fn bad_name() -> Failure {
    fail(Cause::BadName {
        max: Name::CAPACITY as u16,
    })
}

impl<P, G, const N: usize, const F: usize, S> Device<P, G, N, F, S>
where
    P: MemoryProvider + MemoryInfo,
    G: LogSource,
    S: ExtStore,
{
    /// Runs one install; `Ok(true)` when another request interrupted it and waits in the
    /// buffer.
    pub(super) async fn install<L: Read + Write>(
        &mut self,
        link: &mut FrameLink<L, F>,
        seq: u16,
        b: Begin,
    ) -> Result<bool, LinkError> {
        let push_id = b.push_id;
        let key = Transfer {
            push_id,
            name: b.name,
            total_len: b.total_len,
            crc32: b.crc32,
            install: Some((b.boot, b.version, b.xip)),
        };
        if let Some(rec) = self.last_install.as_ref().filter(|r| r.key == key) {
            let result = rec.result.as_ref().copied();
            link.send(seq, &Response::InstallDone { push_id, result })
                .await?;
            return Ok(false);
        }
        let (result, pending) = match b.name {
            None => (Err(bad_name()), false),
            Some(_) if !self.store.present() => (Err(failure(no_storage())), false),
            Some(_) if b.total_len == 0 => (Err(fail(Cause::EmptyInstall)), false),
            Some(name) => self.stream_install(link, seq, name, &b).await?,
        };
        let rec = self.last_install.insert(InstallRecord { key, result });
        let result = rec.result.as_ref().copied();
        link.send(seq, &Response::InstallDone { push_id, result })
            .await?;
        Ok(pending)
    }

    /// Tells the host where to send from, writes each `Data` payload into the store as it
    /// arrives, then finishes the install.
    async fn stream_install<L: Read + Write>(
        &mut self,
        link: &mut FrameLink<L, F>,
        seq: u16,
        name: Name,
        b: &Begin,
    ) -> Result<(Result<InstallInfo, Failure>, bool), LinkError> {
        let total = b.total_len;
        let begun = self
            .store
            .begin(name.as_str(), total, b.crc32, b.boot, b.version)
            .await;
        let next = match begun {
            Ok(n) => n,
            Err(e) => return Ok((Err(failure(e)), false)),
        };
        let store = &mut self.store;
        let mut reader = PushReader::new(link, &self.config, seq, b.push_id, total);
        reader.skip_to(next);
        let mut failed = None;
        if reader.ack(false).await.is_ok() {
            while reader.position() < total {
                let at = reader.position();
                let Ok(chunk) = reader.chunk().await else {
                    break;
                };
                let n = chunk.len();
                match store.write(at, chunk).await {
                    Ok(_) => reader.consume(n),
                    Err(e) => {
                        failed = Some(failure(e));
                        break;
                    }
                }
            }
        }
        let pos = reader.position();
        let stop = reader.stop;
        let result = match (failed, stop) {
            (_, Some(Stop::Link(e))) => return Err(e),
            (Some(f), _) => Err(f),
            (None, Some(Stop::Timeout)) => Err(fail(Cause::Stalled {
                install: true,
                timeout_ms: self.config.push_timeout.as_millis() as u32,
                at: pos,
                total,
            })),
            (None, Some(Stop::Interrupted)) => Err(fail(Cause::Interrupted {
                install: true,
                at: pos,
                total,
            })),
            (None, None) => self.finish_install(name, b).await,
        };
        Ok((result, stop == Some(Stop::Interrupted)))
    }

    /// Answers `List`: the head, every installed extension, every loaded one not installed,
    /// then the boot report.
    pub(super) async fn list<L: Read + Write>(
        &mut self,
        link: &mut FrameLink<L, F>,
        seq: u16,
    ) -> Result<(), LinkError> {
        let installed = (0..).map_while(|i| self.store.entry(i)).count();
        let pushed = self
            .registry
            .iter()
            .filter(|(_, e)| self.store.find(e.name()).is_none())
            .count();
        let events = (0..).map_while(|i| self.store.boot_event(i)).count();
        let slots = self.store.slots();
        let progress = self.store.interrupted();
        let head = ListHead {
            storage: self.store.present(),
            entries: (installed + pushed).min(255) as u8,
            boot_events: events.min(255) as u8,
            slots: slots.count,
            free_slots: slots.free,
            slot_size: slots.size,
            interrupted: progress.as_ref().map(|p| Interrupted {
                name: p.name.as_str(),
                total_len: p.total_len,
                crc32: p.crc32,
                offset: p.offset,
            }),
        };
        link.send(seq, &Response::ListHead(head)).await?;
        let mut index = 0u8;
        for i in 0..installed.min(255) {
            let Some((name, stored)) = self.store.entry(i) else {
                break;
            };
            let entry = StoredEntry {
                index,
                name,
                loaded: self.registry.find(name).is_some(),
                stored: Some(stored),
            };
            link.send(seq, &Response::Stored(entry)).await?;
            index = index.saturating_add(1);
        }
        for (_, e) in self.registry.iter() {
            if index == 255 || self.store.find(e.name()).is_some() {
                continue;
            }
            let entry = StoredEntry {
                index,
                name: e.name(),
                loaded: true,
                stored: None,
            };
            link.send(seq, &Response::Stored(entry)).await?;
            index += 1;
        }
        for i in 0..events.min(255) {
            if let Some(ev) = self.store.boot_event(i) {
                let ev = BootEventInfo {
                    index: i as u8,
                    ..ev
                };
                link.send(seq, &Response::BootEvent(ev)).await?;
            }
        }
        Ok(())
    }

    /// Runs `Remove`, `Confirm` or `Rollback` once and answers it.
    pub(super) async fn catalog<L: Read + Write>(
        &mut self,
        link: &mut FrameLink<L, F>,
        seq: u16,
        last: &mut Option<LastRequest>,
        op: CatalogOp,
        name: Option<Name>,
    ) -> Result<(), LinkError> {
        let a = match name {
            None => Answer::Failed(bad_name()),
            Some(n) => {
                let r = match op {
                    CatalogOp::Remove => self.store.remove(n.as_str()).await,
                    CatalogOp::Confirm => self.store.confirm(n.as_str()).await,
                    CatalogOp::Rollback => self.store.rollback(n.as_str()).await,
                };
                match (r, op) {
                    (Err(e), _) => Answer::Failed(failure(e)),
                    (Ok(()), CatalogOp::Remove) => Answer::Removed,
                    (Ok(()), _) => Answer::Entry(n),
                }
            }
        };
        self.send_answer(link, seq, &a).await?;
        *last = Some(LastRequest {
            seq,
            answer: Some(a),
        });
        Ok(())
    }

    /// Sends (or sends again) the answer to a request that runs once.
    pub(super) async fn send_answer<L: Read + Write>(
        &self,
        link: &mut FrameLink<L, F>,
        seq: u16,
        a: &Answer,
    ) -> Result<(), LinkError> {
        match a {
            Answer::Value(value) => {
                link.send(seq, &Response::CallResult { value: *value })
                    .await
            }
            Answer::Unloaded(use_count) => {
                let use_count = *use_count;
                link.send(seq, &Response::Unloaded { use_count }).await
            }
            Answer::Faulted(f) => link.send(seq, &Response::CallFaulted(*f)).await,
            Answer::Removed => link.send(seq, &Response::Removed).await,
            Answer::Entry(name) => {
                let name = name.as_str();
                let entry = StoredEntry {
                    index: 0,
                    name,
                    loaded: self.registry.find(name).is_some(),
                    stored: self.store.find(name),
                };
                link.send(seq, &Response::Stored(entry)).await
            }
            Answer::Failed(f) => link.send(seq, &Response::Error(f)).await,
        }
    }
}
