//! Installs into flash and the catalog requests: `InstallBegin` (then `Data` as in a push,
//! written into the storage hook as each frame arrives), `List`, `Remove`, `Confirm`,
//! `Rollback`.

use embedded_io_async::{Read, Write};
use llext_loader::Name;
use llext_loader::memory::MemoryProvider;

use super::link::{FrameLink, LinkError, Tx};
use super::outbox::{List, ListStage, Out, Session};
use super::reader::{PushReader, Stop, stopped};
use super::store::{ExtStore, StoreError, no_storage};
use super::{Answer, Device, Failure, LogSource, MemoryInfo, Transfer, fail};
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
        s: &mut Session,
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
        s.answer(seq, Out::InstallDone, false);
        if self.last_install.as_ref().is_some_and(|r| r.key == key) {
            return Ok(false);
        }
        let (result, pending) = match b.name {
            None => (Err(bad_name()), false),
            Some(_) if !self.store.present() => (Err(failure(no_storage())), false),
            Some(_) if b.total_len == 0 => (Err(fail(Cause::EmptyInstall)), false),
            Some(name) => self.stream_install(link, seq, name, &b).await?,
        };
        self.last_install = Some(InstallRecord { key, result });
        Ok(pending)
    }

    /// Encodes the outcome of the last install.
    pub(super) fn put_install_done(&self, tx: &mut Tx, seq: u16) -> usize {
        match &self.last_install {
            Some(rec) => {
                let push_id = rec.key.push_id;
                let result = rec.result.as_ref().copied();
                tx.put(seq, &Response::InstallDone { push_id, result })
            }
            None => 0,
        }
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
            .begin(name.as_str(), total, b.crc32, b.boot, b.version, b.xip)
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
        if let Some(Stop::Link(e)) = stop {
            return Err(e);
        }
        let result = match (failed, stopped(stop, pos, total, true, &self.config)) {
            (Some(f), _) | (None, Some(f)) => Err(f),
            (None, None) => self.finish_install(name, b).await,
        };
        Ok((result, stop == Some(Stop::Interrupted)))
    }

    /// Starts a `List` answer: the head, every installed extension, every loaded one not
    /// installed, then the boot report.
    pub(super) fn list(&self) -> Out {
        Out::List(List {
            stage: ListStage::Head,
            i: 0,
            index: 0,
            installed: (0..).map_while(|i| self.store.entry(i)).count(),
            events: (0..).map_while(|i| self.store.boot_event(i)).count(),
        })
    }

    /// Encodes the next message of a `List` answer; `false` after the last.
    pub(super) fn put_list(&self, tx: &mut Tx, seq: u16, l: &mut List) -> (usize, bool) {
        loop {
            let i = l.i;
            l.i += 1;
            let msg = match l.stage {
                ListStage::Head => {
                    l.stage = ListStage::Installed;
                    l.i = 0;
                    return (self.put_list_head(tx, seq, l), true);
                }
                ListStage::Installed => {
                    match self.store.entry(i).filter(|_| i < l.installed.min(255)) {
                        Some((name, stored)) => Response::Stored(StoredEntry {
                            index: l.index,
                            name,
                            loaded: self.registry.find(name).is_some(),
                            stored: Some(stored),
                        }),
                        None => {
                            l.stage = ListStage::Pushed;
                            l.i = 0;
                            continue;
                        }
                    }
                }
                ListStage::Pushed => match self.registry.iter().nth(i) {
                    Some(_) if l.index == 255 => continue,
                    Some((_, e)) if self.store.find(e.name()).is_some() => continue,
                    Some((_, e)) => Response::Stored(StoredEntry {
                        index: l.index,
                        name: e.name(),
                        loaded: true,
                        stored: None,
                    }),
                    None => {
                        l.stage = ListStage::Events;
                        l.i = 0;
                        continue;
                    }
                },
                ListStage::Events => {
                    if i >= l.events.min(255) {
                        return (0, false);
                    }
                    match self.store.boot_event(i) {
                        Some(ev) => {
                            let ev = BootEventInfo {
                                index: i as u8,
                                ..ev
                            };
                            return (tx.put(seq, &Response::BootEvent(ev)), true);
                        }
                        None => continue,
                    }
                }
            };
            l.index = l.index.saturating_add(1);
            return (tx.put(seq, &msg), true);
        }
    }

    /// Encodes the head of a `List` answer.
    fn put_list_head(&self, tx: &mut Tx, seq: u16, l: &List) -> usize {
        let pushed = self
            .registry
            .iter()
            .filter(|(_, e)| self.store.find(e.name()).is_none())
            .count();
        let slots = self.store.slots();
        let progress = self.store.interrupted();
        let head = ListHead {
            storage: self.store.present(),
            entries: (l.installed + pushed).min(255) as u8,
            boot_events: l.events.min(255) as u8,
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
        tx.put(seq, &Response::ListHead(head))
    }

    /// Runs `Remove`, `Confirm` or `Rollback` once; its answer is kept in `s`.
    pub(super) async fn catalog(
        &mut self,
        s: &mut Session,
        seq: u16,
        op: CatalogOp,
        name: Option<Name>,
    ) -> Result<bool, LinkError> {
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
        s.keep_answer(a);
        s.answer(seq, Out::Answer, false);
        Ok(false)
    }

    /// Encodes (again) the answer to a request that runs once.
    pub(super) fn put_answer(&self, tx: &mut Tx, seq: u16, a: &Answer) -> usize {
        let stored;
        let msg = match a {
            Answer::Value(value) => Response::CallResult { value: *value },
            Answer::Unloaded(use_count) => Response::Unloaded {
                use_count: *use_count,
            },
            Answer::Faulted(f) => Response::CallFaulted(*f),
            Answer::Removed => Response::Removed,
            Answer::Entry(name) => {
                let name = name.as_str();
                stored = StoredEntry {
                    index: 0,
                    name,
                    loaded: self.registry.find(name).is_some(),
                    stored: self.store.find(name),
                };
                Response::Stored(stored)
            }
            Answer::Failed(f) => Response::Error(f),
        };
        tx.put(seq, &msg)
    }
}
