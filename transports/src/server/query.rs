//! The requests that only read: `Hello`, `Status`, `Sections`, `Exports`.

use llext_loader::Name;
use llext_loader::memory::MemoryProvider;

use super::failure::fail;
use super::link::Tx;
use super::outbox::Out;
use super::{Device, ExtStore, LogSource, MemoryInfo, arch_name, trust};
use crate::protocol::{
    Cause, DeviceHello, ExtState, ExtensionInfo, RegionInfo, RegionKind, Response, SectionInfo,
    SectionsEnd, StatusHead, VERSION,
};

impl<P, G, const N: usize, const F: usize, S> Device<P, G, N, F, S>
where
    P: MemoryProvider + MemoryInfo,
    G: LogSource,
    S: ExtStore,
{
    pub(super) fn hello(&self) -> DeviceHello<'static> {
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
            time_limit_ms: self.config.guard.map_or(0, |g| g.time_limit_ms),
        }
    }

    /// Encodes the next message of a `Status` answer (see [`Out::Status`]); `false` after the
    /// last.
    pub(super) fn put_status(
        &self,
        tx: &mut Tx,
        seq: u16,
        bad: &mut Option<u32>,
        slot: &mut usize,
        index: &mut u8,
    ) -> (usize, bool) {
        if let Some(bad_frames) = bad.take() {
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
                bad_frames,
                trust: trust::info(&self.config.trust),
            };
            return (tx.put(seq, &Response::Status(head)), true);
        }
        let Some((at, ext)) = self.registry.iter().find(|(i, _)| *i >= *slot) else {
            return (0, false);
        };
        let mut regions = [None; 5];
        for (r, out) in ext.regions().zip(regions.iter_mut()) {
            *out = Some(RegionInfo {
                kind: RegionKind::from_mem(r.kind),
                addr: r.addr,
                size: r.size as u32,
            });
        }
        let info = ExtensionInfo {
            index: *index,
            slot: at as u8,
            name: ext.name(),
            state: if self.faults[at].is_some() {
                ExtState::Faulted
            } else {
                ExtState::Ready
            },
            fault: self.faults[at],
            use_count: ext.use_count(),
            deps: ext.dependencies(),
            image_bytes: ext.image_bytes() as u32,
            regions,
        };
        *slot = at + 1;
        *index = index.wrapping_add(1);
        (tx.put(seq, &Response::Extension(info)), true)
    }

    /// Starts a `Sections` answer: where each section of extension `name` went (or why not,
    /// encoded in `tx`).
    pub(super) fn sections(&self, seq: u16, name: Option<Name>, tx: &mut Tx) -> Out {
        let found = name
            .ok_or_else(|| fail(Cause::NoSuchExtension))
            .and_then(|n| self.find(&n));
        match found {
            Ok(slot) => Out::Sections { slot, next: 0 },
            Err(f) => Out::Ready(tx.put(seq, &Response::Error(&f))),
        }
    }

    /// Encodes the `next`-th placed section of the extension in `slot`, or the end; `false`
    /// after the end.
    pub(super) fn put_section(
        &self,
        tx: &mut Tx,
        seq: u16,
        slot: usize,
        next: &mut u16,
    ) -> (usize, bool) {
        let p = &self.placed[slot];
        let Some(s) = p.iter().nth(*next as usize) else {
            let end = SectionsEnd {
                sections: *next,
                dropped: p.dropped,
                total_len: p.total_len,
                crc32: p.crc32,
                trampolines: p.trampolines.into(),
            };
            return (tx.put(seq, &Response::SectionsEnd(end)), false);
        };
        let base = self.registry.get(slot).map_or(0, |ext| {
            ext.regions()
                .find(|r| r.kind == s.kind)
                .map_or(0, |r| r.addr)
        });
        let info = SectionInfo {
            index: *next,
            section: s.section,
            kind: RegionKind::from_mem(s.kind),
            addr: base + u64::from(s.offset),
            size: s.size,
            relocations: s.relocations.into(),
        };
        *next += 1;
        (tx.put(seq, &Response::Section(info)), true)
    }

    /// Starts an `Exports` answer: up to `max` of the firmware's exports from index `start`,
    /// then the total.
    pub(super) fn exports(&self, start: u32, max: u32) -> Out {
        let all = self.info.exports.entries().len();
        let start = (start as usize).min(all);
        let end = start.saturating_add(max as usize).min(all);
        Out::Exports {
            next: start as u32,
            end: end as u32,
        }
    }

    /// Encodes export `next` (below `end`), or the total; `false` after the total.
    pub(super) fn put_export(
        &self,
        tx: &mut Tx,
        seq: u16,
        next: &mut u32,
        end: u32,
    ) -> (usize, bool) {
        let all = self.info.exports.entries();
        if *next >= end {
            let total = all.len() as u32;
            return (tx.put(seq, &Response::ExportsEnd { total }), false);
        }
        let e = &all[*next as usize];
        let msg = Response::Export {
            index: *next,
            name: e.name,
            addr: e.addr as usize as u64,
        };
        *next += 1;
        (tx.put(seq, &msg), true)
    }
}
