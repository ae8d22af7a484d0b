//! The execute-in-place image: a 256-byte header, then text, rodata and trampolines at the flash
//! addresses they were linked for, then the initial values of `.data` and the export index.
//!
//! ```text
//! 0    magic "LXIP", format 1, arch, pointer size, 0
//! 8    exports table id (u32), export count (u32)
//! 16   5 x (address u64, size u64): text, rodata, data, bss, trampolines
//! 96   data initial values offset (u32), export index offset (u32)
//! 104  4 x (offset u32, length u32) in rodata: preinit, init, fini arrays, exported symbols
//! 136  image length (u32)
//! ```
//! Little-endian; offsets count from the image's first byte.

use crate::arch::Arch;
use crate::load::Span;
use crate::{Error, memory::MemKind};

/// Bytes before the first region (the header, padded).
pub const HEADER: usize = 256;
const MAGIC: &[u8; 4] = b"LXIP";
const FORMAT: u8 = 1;

/// What the header says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The architecture linked for.
    pub arch: Arch,
    /// Bytes of a pointer (4 or 8).
    pub ptr_size: u8,
    /// The firmware exports table id the image was linked against.
    pub table_id: u32,
    /// Entries in the export index.
    pub n_exports: u32,
    /// Address and size of each region, in [`MemKind::ALL`] order.
    pub regions: [(u64, u64); 5],
    /// Where the initial values of `.data` start in the image.
    pub data_init: u32,
    /// Where the export index (16 bytes per entry: name hash, address) starts, 8-aligned.
    pub exports: u32,
    /// The preinit, init and fini arrays and the exported-symbols table, in rodata.
    pub spans: [Span; 4],
    /// Bytes of the whole image.
    pub len: u32,
}

fn arch_code(a: Arch) -> u8 {
    match a {
        Arch::X86_64 => 0,
        Arch::Arm => 1,
        Arch::RiscV32 => 2,
        Arch::RiscV64 => 3,
    }
}

fn arch_of(c: u8) -> Option<Arch> {
    Some(match c {
        0 => Arch::X86_64,
        1 => Arch::Arm,
        2 => Arch::RiscV32,
        3 => Arch::RiscV64,
        _ => return None,
    })
}

fn bad(what: &'static str, value: u64) -> Error {
    Error::Malformed {
        what,
        section: None,
        value,
    }
}

impl Header {
    /// The header bytes (the rest of the 256 are zero).
    pub fn to_bytes(&self) -> [u8; HEADER] {
        let mut b = [0u8; HEADER];
        b[..4].copy_from_slice(MAGIC);
        b[4] = FORMAT;
        b[5] = arch_code(self.arch);
        b[6] = self.ptr_size;
        b[8..12].copy_from_slice(&self.table_id.to_le_bytes());
        b[12..16].copy_from_slice(&self.n_exports.to_le_bytes());
        for (i, (a, s)) in self.regions.iter().enumerate() {
            b[16 + i * 16..24 + i * 16].copy_from_slice(&a.to_le_bytes());
            b[24 + i * 16..32 + i * 16].copy_from_slice(&s.to_le_bytes());
        }
        b[96..100].copy_from_slice(&self.data_init.to_le_bytes());
        b[100..104].copy_from_slice(&self.exports.to_le_bytes());
        for (i, s) in self.spans.iter().enumerate() {
            b[104 + i * 8..108 + i * 8].copy_from_slice(&s.off.to_le_bytes());
            b[108 + i * 8..112 + i * 8].copy_from_slice(&s.len.to_le_bytes());
        }
        b[136..140].copy_from_slice(&self.len.to_le_bytes());
        b
    }

    /// Reads a header; only its own fields are checked here (see [`super::load_in_place`]).
    pub fn parse(b: &[u8]) -> Result<Self, Error> {
        let b = b
            .get(..HEADER)
            .ok_or(bad("execute-in-place image shorter than its header", 0))?;
        if &b[..4] != MAGIC || b[4] != FORMAT {
            return Err(bad(
                "not an execute-in-place image (magic or format)",
                b[4].into(),
            ));
        }
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let u64_at = |o: usize| u64::from(u32_at(o)) | (u64::from(u32_at(o + 4)) << 32);
        let arch = arch_of(b[5]).ok_or(bad("execute-in-place image architecture", b[5].into()))?;
        let mut regions = [(0, 0); 5];
        for (i, r) in regions.iter_mut().enumerate() {
            *r = (u64_at(16 + i * 16), u64_at(24 + i * 16));
        }
        let mut spans = [Span::default(); 4];
        for (i, s) in spans.iter_mut().enumerate() {
            *s = Span {
                off: u32_at(104 + i * 8),
                len: u32_at(108 + i * 8),
            };
        }
        Ok(Header {
            arch,
            ptr_size: b[6],
            table_id: u32_at(8),
            n_exports: u32_at(12),
            regions,
            data_init: u32_at(96),
            exports: u32_at(100),
            spans,
            len: u32_at(136),
        })
    }

    /// Address and size of the region of `kind`.
    pub fn region(&self, kind: MemKind) -> (u64, u64) {
        self.regions[kind.index()]
    }

    /// The RAM range of `.data` and `.bss` together (from the lower start to the higher end);
    /// empty when both are.
    pub fn ram(&self) -> (u64, u64) {
        let live = [MemKind::Data, MemKind::Bss]
            .map(|k| self.region(k))
            .into_iter()
            .filter(|r| r.1 > 0);
        let (mut lo, mut hi) = (u64::MAX, 0);
        for (a, s) in live {
            lo = lo.min(a);
            hi = hi.max(a.saturating_add(s));
        }
        if lo > hi { (0, 0) } else { (lo, hi - lo) }
    }
}
