//! The requests that only read: `Hello`, `Status`, `Sections`, `Exports`.

use embedded_io_async::{Read, Write};
use llext_loader::Name;
use llext_loader::memory::MemoryProvider;

use super::failure::fail;
use super::link::{FrameLink, LinkError};
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

    pub(super) async fn status<L: Read + Write>(
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
                state: if self.faults[slot].is_some() {
                    ExtState::Faulted
                } else {
                    ExtState::Ready
                },
                fault: self.faults[slot],
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
    pub(super) async fn sections<L: Read + Write>(
        &mut self,
        link: &mut FrameLink<L, F>,
        seq: u16,
        name: Option<Name>,
    ) -> Result<(), LinkError> {
        let found = name
            .ok_or_else(|| fail(Cause::NoSuchExtension))
            .and_then(|n| self.find(&n));
        let slot = match found {
            Ok(s) => s,
            Err(f) => return link.send(seq, &Response::Error(&f)).await,
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
                relocations: s.relocations.into(),
            };
            link.send(seq, &Response::Section(info)).await?;
            sent += 1;
        }
        let end = SectionsEnd {
            sections: sent,
            dropped: p.dropped,
            total_len: p.total_len,
            crc32: p.crc32,
            trampolines: p.trampolines.into(),
        };
        link.send(seq, &Response::SectionsEnd(end)).await
    }

    /// Answers `Exports`: up to `max` of the firmware's exports from index `start`, then the
    /// total.
    pub(super) async fn exports<L: Read + Write>(
        &mut self,
        link: &mut FrameLink<L, F>,
        seq: u16,
        start: u32,
        max: u32,
    ) -> Result<(), LinkError> {
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
        link.send(seq, &Response::ExportsEnd { total }).await
    }
}
