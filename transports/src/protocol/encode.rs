//! The device's encoder of its messages: the bytes postcard makes of `(seq, Response)` (varints,
//! zig-zag for signed numbers, a length before each string, an index before each variant),
//! written by hand. serde's derived serialisers cost a function per type and field in the
//! firmware; this is one small function per message. The host decodes with serde, and the tests
//! check both make the same bytes for every message.

use super::{
    DeviceHello, ErrorReply, ExtensionInfo, FaultReport, ImageInfo, InstallInfo, ListHead, Loaded,
    RegionInfo, Response, StatusHead, StoredEntry,
};

/// Writes postcard's encoding into a buffer; once something does not fit, nothing more is
/// written and [`Enc::finish`] says so.
pub struct Enc<'a> {
    buf: &'a mut [u8],
    len: usize,
    full: bool,
}

// `#[inline(never)]` where it cuts the firmware (measured, docs/PERFORMANCE.md): helpers called
// from many places, each of which carried an inlined copy.
impl<'a> Enc<'a> {
    /// An encoder writing from the start of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self {
            buf,
            len: 0,
            full: false,
        }
    }

    /// The length written, or `None` when it did not fit.
    pub fn finish(self) -> Option<usize> {
        (!self.full).then_some(self.len)
    }

    #[inline(never)]
    fn bytes(&mut self, b: &[u8]) {
        match self.buf.get_mut(self.len..self.len + b.len()) {
            Some(out) if !self.full => {
                out.copy_from_slice(b);
                self.len += b.len();
            }
            _ => self.full = true,
        }
    }

    /// A `u8` (one byte as it is).
    #[inline(never)]
    pub fn u8(&mut self, v: u8) {
        self.bytes(&[v]);
    }

    /// An unsigned number as a varint (`u16`, `u32`, `u64`, variant indices, lengths).
    #[inline(never)]
    pub fn var(&mut self, mut v: u64) {
        let mut out = [0u8; 10];
        let mut n = 0;
        loop {
            let low = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out[n] = low;
                n += 1;
                break;
            }
            out[n] = low | 0x80;
            n += 1;
        }
        self.bytes(&out[..n]);
    }

    /// An `i32`, zig-zag then varint.
    pub fn i32(&mut self, v: i32) {
        self.var(((v << 1) ^ (v >> 31)) as u32 as u64);
    }

    /// A `bool`.
    #[inline(never)]
    pub fn bool(&mut self, v: bool) {
        self.u8(v as u8);
    }

    /// A string: its length, then its bytes.
    #[inline(never)]
    pub fn str(&mut self, s: &str) {
        self.var(s.len() as u64);
        self.bytes(s.as_bytes());
    }

    /// An `Option`'s tag; the value follows when it is `true`.
    pub fn some(&mut self, present: bool) -> bool {
        self.bool(present);
        present
    }

    fn opt_var(&mut self, v: Option<u64>) {
        match v {
            Some(v) => {
                self.u8(1);
                self.var(v);
            }
            None => self.u8(0),
        }
    }

    fn opt_str(&mut self, v: Option<&str>) {
        match v {
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
            None => self.u8(0),
        }
    }
}

impl<S: AsRef<str>> ErrorReply<S> {
    /// Writes it as postcard does.
    pub fn encode(&self, e: &mut Enc<'_>) {
        e.var(self.code as u64);
        let w = self.cause.words();
        e.u8(w.tag);
        for n in w.n {
            e.var(n);
        }
        for s in w.s {
            e.str(s);
        }
        if e.some(w.fault.is_some())
            && let Some(f) = &w.fault
        {
            f.encode(e);
        }
    }
}

impl FaultReport {
    fn encode(&self, e: &mut Enc<'_>) {
        e.var(self.kind as u64);
        e.var(self.status.into());
        e.var(self.pc);
        e.var(self.lr);
        e.var(self.sp);
        e.opt_var(self.addr);
        e.opt_var(self.region.map(|r| r as u64));
        e.var(self.offset.into());
    }
}

impl DeviceHello<'_> {
    fn encode(&self, e: &mut Enc<'_>) {
        e.var(self.version.into());
        e.str(self.name);
        e.str(self.arch);
        e.opt_str(self.float_abi);
        e.var(self.max_frame.into());
        e.var(self.window.into());
        e.opt_var(self.free_memory);
        e.var(self.used_memory);
        e.var(self.exports_id.into());
        e.var(self.exports.into());
        e.u8(self.max_extensions);
        e.var(self.push_timeout_ms.into());
        e.var(self.time_limit_ms.into());
    }
}

impl StatusHead<'_> {
    fn encode(&self, e: &mut Enc<'_>) {
        e.str(self.name);
        e.str(self.arch);
        e.var(self.used_memory);
        e.opt_var(self.free_memory);
        e.u8(self.extensions);
        e.u8(self.max_extensions);
        e.var(self.pushes_ok.into());
        e.var(self.pushes_failed.into());
        e.var(self.bad_frames.into());
        let t = &self.trust;
        for b in [
            t.unsigned_pushes,
            t.unsigned_installs,
            t.allow_rollback,
            t.verify_at_boot,
        ] {
            e.bool(b);
        }
        e.u8(t.keys);
        for id in &t.key_ids {
            if e.some(id.is_some())
                && let Some(id) = id
            {
                e.bytes(id);
            }
        }
    }
}

impl ExtensionInfo<'_> {
    fn encode(&self, e: &mut Enc<'_>) {
        e.u8(self.index);
        e.u8(self.slot);
        e.str(self.name);
        e.var(self.state as u64);
        e.var(self.use_count.into());
        e.var(self.deps.into());
        e.var(self.image_bytes.into());
        for r in &self.regions {
            if e.some(r.is_some())
                && let Some(RegionInfo { kind, addr, size }) = r
            {
                e.var(*kind as u64);
                e.var(*addr);
                e.var((*size).into());
            }
        }
        if e.some(self.fault.is_some())
            && let Some(f) = &self.fault
        {
            f.encode(e);
        }
    }
}

impl Loaded {
    fn encode(&self, e: &mut Enc<'_>) {
        e.u8(self.slot);
        e.var(self.image_bytes.into());
        e.var(self.relocations.into());
        e.var(self.symbols.into());
    }
}

impl InstallInfo {
    fn encode(&self, e: &mut Enc<'_>) {
        e.var(self.version.into());
        e.var(self.slot.into());
        e.var(self.state as u64);
        e.bool(self.unchanged);
        e.bool(self.boot);
        e.opt_var(self.previous.map(u64::from));
    }
}

impl ImageInfo {
    fn encode(&self, e: &mut Enc<'_>) {
        e.var(self.version.into());
        e.var(self.state as u64);
        e.var(self.slot.into());
        e.var(self.len.into());
        e.var(self.crc32.into());
        e.bool(self.in_place);
    }
}

impl ListHead<'_> {
    fn encode(&self, e: &mut Enc<'_>) {
        e.bool(self.storage);
        e.u8(self.entries);
        e.u8(self.boot_events);
        e.var(self.slots.into());
        e.var(self.free_slots.into());
        e.var(self.slot_size.into());
        if e.some(self.interrupted.is_some())
            && let Some(i) = &self.interrupted
        {
            e.str(i.name);
            e.var(i.total_len.into());
            e.var(i.crc32.into());
            e.var(i.offset.into());
        }
    }
}

impl StoredEntry<'_> {
    fn encode(&self, e: &mut Enc<'_>) {
        e.u8(self.index);
        e.str(self.name);
        e.bool(self.loaded);
        if e.some(self.stored.is_some())
            && let Some(s) = &self.stored
        {
            e.bool(s.boot);
            s.active.encode(e);
            if e.some(s.previous.is_some())
                && let Some(p) = &s.previous
            {
                p.encode(e);
            }
            for d in s.deps {
                e.opt_str(d);
            }
        }
    }
}

/// Writes `result` as serde's `Result` (`Ok` 0, `Err` 1).
fn result<T, S: AsRef<str>>(
    e: &mut Enc<'_>,
    result: &Result<T, &ErrorReply<S>>,
    ok: impl FnOnce(&T, &mut Enc<'_>),
) {
    match result {
        Ok(v) => {
            e.var(0);
            ok(v, e);
        }
        Err(f) => {
            e.var(1);
            f.encode(e);
        }
    }
}

impl<S: AsRef<str>> Response<'_, &ErrorReply<S>> {
    /// Writes `(seq, self)` as postcard does.
    pub fn encode(&self, seq: u16, e: &mut Enc<'_>) {
        use Response as R;
        e.var(seq.into());
        e.var(self.index());
        match self {
            R::Hello(h) => h.encode(e),
            R::Ack {
                push_id,
                next_offset,
                window,
                resend,
            } => {
                e.var((*push_id).into());
                e.var((*next_offset).into());
                e.var((*window).into());
                e.bool(*resend);
            }
            R::PushDone { push_id, result: r } => {
                e.var((*push_id).into());
                result(e, r, Loaded::encode);
            }
            R::Status(h) => h.encode(e),
            R::Extension(x) => x.encode(e),
            R::CallResult { value } => e.i32(*value),
            R::Unloaded { use_count } => e.var((*use_count).into()),
            R::Export { index, name, addr } => {
                e.var((*index).into());
                e.str(name);
                e.var(*addr);
            }
            R::ExportsEnd { total } => e.var((*total).into()),
            R::Log { line } => e.str(line),
            R::Error(f) => f.encode(e),
            R::InstallDone { push_id, result: r } => {
                e.var((*push_id).into());
                result(e, r, InstallInfo::encode);
            }
            R::ListHead(h) => h.encode(e),
            R::Stored(s) => s.encode(e),
            R::BootEvent(b) => {
                e.u8(b.index);
                e.str(b.name);
                e.var(b.kind as u64);
                e.var(b.version.into());
                e.var(b.to_version.into());
                e.str(b.reason);
            }
            R::Removed => {}
            R::Section(s) => {
                e.var(s.index.into());
                e.var(s.section.into());
                e.var(s.kind as u64);
                e.var(s.addr);
                e.var(s.size.into());
                e.var(s.relocations.into());
            }
            R::SectionsEnd(s) => {
                e.var(s.sections.into());
                e.var(s.dropped.into());
                e.var(s.total_len.into());
                e.var(s.crc32.into());
                e.var(s.trampolines.into());
            }
            R::CallFaulted(f) => f.encode(e),
        }
    }
}

impl<E> Response<'_, E> {
    /// Its variant's index on the wire.
    fn index(&self) -> u64 {
        use Response as R;
        match self {
            R::Hello(_) => 0,
            R::Ack { .. } => 1,
            R::PushDone { .. } => 2,
            R::Status(_) => 3,
            R::Extension(_) => 4,
            R::CallResult { .. } => 5,
            R::Unloaded { .. } => 6,
            R::Export { .. } => 7,
            R::ExportsEnd { .. } => 8,
            R::Log { .. } => 9,
            R::Error(_) => 10,
            R::InstallDone { .. } => 11,
            R::ListHead(_) => 12,
            R::Stored(_) => 13,
            R::BootEvent(_) => 14,
            R::Removed => 15,
            R::Section(_) => 16,
            R::SectionsEnd(_) => 17,
            R::CallFaulted(_) => 18,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{
        BootEventInfo, BootEventKind, Cause, ErrorCode, ExtState, FaultKind, ImageState,
        Interrupted, LoadError, RegionKind, SectionInfo, SectionsEnd, StoredInfo, TrustInfo,
    };

    type Msg<'a> = Response<'a, &'a ErrorReply<&'a str>>;

    /// The hand encoder and postcard make the same bytes.
    fn same(seq: u16, msg: &Msg<'_>) {
        let (mut a, mut b) = ([0u8; 512], [0u8; 512]);
        let mut e = Enc::new(&mut a);
        msg.encode(seq, &mut e);
        let n = e.finish().expect("fits");
        let want = postcard::to_slice(&(seq, msg), &mut b).unwrap();
        assert_eq!(&a[..n], &*want, "{msg:?}");
    }

    fn fault(addr: Option<u64>) -> FaultReport {
        FaultReport {
            kind: FaultKind::StoreAccessFault,
            status: u32::MAX,
            pc: u64::MAX,
            lr: 0x2000_0101,
            sp: 0,
            addr,
            region: addr.map(|_| RegionKind::Trampoline),
            offset: 300,
        }
    }

    fn image(version: u32) -> ImageInfo {
        ImageInfo {
            version,
            state: ImageState::Failed,
            slot: 3,
            len: 70_000,
            crc32: 0xdead_beef,
            in_place: true,
        }
    }

    #[test]
    fn every_message_encodes_as_postcard_does() {
        let errors = [
            ErrorReply {
                code: ErrorCode::MissingSymbols,
                cause: Cause::MissingSymbols {
                    count: 2,
                    names: "foo, bär",
                },
            },
            ErrorReply {
                code: ErrorCode::LoadFailed,
                cause: Cause::ConstructorFaulted {
                    ext: "e",
                    fault: fault(Some(7)),
                },
            },
            ErrorReply {
                code: ErrorCode::BadElf,
                cause: Cause::Load(LoadError {
                    tag: 9,
                    n: [1, u64::MAX, 0, 5],
                    s: ".text",
                }),
            },
        ];
        let mut trust = TrustInfo {
            unsigned_pushes: true,
            keys: 2,
            ..TrustInfo::default()
        };
        trust.key_ids[1] = Some([1, 2, 3, 0, 255, 6, 7, 8]);
        let stored = StoredInfo {
            boot: true,
            active: image(2),
            previous: Some(image(1)),
            deps: [Some("lib"), None, Some(""), None],
        };
        let msgs = [
            Msg::Hello(DeviceHello {
                version: 2,
                name: "dev",
                arch: "arm",
                float_abi: Some("soft"),
                max_frame: 1088,
                window: 4096,
                free_memory: None,
                used_memory: 1 << 40,
                exports_id: 0x8000_0000,
                exports: 12,
                max_extensions: 8,
                push_timeout_ms: 5000,
                time_limit_ms: 0,
            }),
            Msg::Ack {
                push_id: 1,
                next_offset: 128,
                window: 4096,
                resend: true,
            },
            Msg::PushDone {
                push_id: 7,
                result: Ok(Loaded {
                    slot: 1,
                    image_bytes: 300,
                    relocations: 0,
                    symbols: 99,
                }),
            },
            Msg::Status(StatusHead {
                name: "dev",
                arch: "riscv32",
                used_memory: 0,
                free_memory: Some(3 << 20),
                extensions: 1,
                max_extensions: 8,
                pushes_ok: 3,
                pushes_failed: 200,
                bad_frames: 1,
                trust,
            }),
            Msg::Extension(ExtensionInfo {
                index: 0,
                slot: 4,
                name: "hello",
                state: ExtState::Faulted,
                use_count: 300,
                deps: 0b101,
                image_bytes: 1024,
                regions: [
                    Some(RegionInfo {
                        kind: RegionKind::Text,
                        addr: 0x2000_0000,
                        size: 100,
                    }),
                    None,
                    Some(RegionInfo {
                        kind: RegionKind::Bss,
                        addr: 0,
                        size: 0,
                    }),
                    None,
                    None,
                ],
                fault: Some(fault(None)),
            }),
            Msg::CallResult { value: -1 },
            Msg::CallResult { value: i32::MIN },
            Msg::CallResult { value: 42 },
            Msg::Unloaded { use_count: 0 },
            Msg::Export {
                index: 5,
                name: "puts",
                addr: 0x1234_5678,
            },
            Msg::ExportsEnd { total: 1000 },
            Msg::Log { line: "" },
            Msg::Error(&errors[0]),
            Msg::InstallDone {
                push_id: 2,
                result: Ok(InstallInfo {
                    version: 3,
                    slot: 1,
                    state: ImageState::Pending,
                    unchanged: false,
                    boot: true,
                    previous: Some(2),
                }),
            },
            Msg::InstallDone {
                push_id: 2,
                result: Err(&errors[1]),
            },
            Msg::ListHead(ListHead {
                storage: true,
                entries: 2,
                boot_events: 1,
                slots: 8,
                free_slots: 7,
                slot_size: 65536,
                interrupted: Some(Interrupted {
                    name: "half",
                    total_len: 9000,
                    crc32: 1,
                    offset: 4096,
                }),
            }),
            Msg::Stored(StoredEntry {
                index: 1,
                name: "lib",
                loaded: false,
                stored: Some(stored),
            }),
            Msg::Stored(StoredEntry {
                index: 2,
                name: "x",
                loaded: true,
                stored: None,
            }),
            Msg::BootEvent(BootEventInfo {
                index: 0,
                name: "x",
                kind: BootEventKind::RolledBack,
                version: 3,
                to_version: 2,
                reason: "corrupt",
            }),
            Msg::Removed,
            Msg::Section(SectionInfo {
                index: 3,
                section: 17,
                kind: RegionKind::Rodata,
                addr: 0x2000_0040,
                size: 12,
                relocations: 65535,
            }),
            Msg::SectionsEnd(SectionsEnd {
                sections: 4,
                dropped: 0,
                total_len: 2000,
                crc32: 0xffff_ffff,
                trampolines: 2,
            }),
            Msg::CallFaulted(fault(Some(0))),
            Msg::PushDone {
                push_id: u32::MAX,
                result: Err(&errors[2]),
            },
        ];
        for (i, m) in msgs.iter().enumerate() {
            same(i as u16 * 1000, m);
        }
    }

    #[test]
    fn a_message_that_does_not_fit_is_refused() {
        let mut buf = [0u8; 8];
        let mut e = Enc::new(&mut buf);
        Msg::Log {
            line: "longer than eight bytes",
        }
        .encode(1, &mut e);
        assert_eq!(e.finish(), None);
    }
}
