//! Linking on the host, for any architecture: lay an extension out from a chosen address exactly
//! as a device would, and return every relocated section (`host-push link`, GNU ld comparisons,
//! pre-located images for execute-in-place).

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::ptr::NonNull;

use crate::arch::Arch;
use crate::memory::{Block, MemKind, MemoryProvider};
use crate::symbols::Resolve;
use crate::{Error, LoadParams, Registry, Report};

/// Places regions one after another from a base address; the bytes live in host buffers.
pub struct LinkProvider {
    next: u64,
    live: Vec<(usize, Box<[u8]>)>,
}

impl LinkProvider {
    /// Regions start at `base`.
    pub fn new(base: u64) -> Self {
        Self {
            next: base,
            live: Vec::new(),
        }
    }
}

// SAFETY: each block points into its own boxed buffer (over-allocated so the pointer can be
// aligned), kept in `live` until freed.
unsafe impl MemoryProvider for LinkProvider {
    fn alloc(&mut self, kind: MemKind, size: usize, align: usize) -> Option<Block> {
        let mut buf = vec![0u8; size + align].into_boxed_slice();
        let base = buf.as_mut_ptr() as usize;
        let ptr = base.next_multiple_of(align);
        let addr = if kind == MemKind::Metadata {
            ptr as u64
        } else {
            let a = self.next.next_multiple_of(align as u64);
            self.next = a + size as u64;
            a
        };
        self.live.push((ptr, buf));
        Some(Block {
            ptr: NonNull::new(ptr as *mut u8)?,
            addr,
            size,
            align,
        })
    }

    unsafe fn free(&mut self, _kind: MemKind, block: Block) {
        self.live.retain(|(p, _)| *p != block.ptr.as_ptr() as usize);
    }
}

/// One loaded input section after linking.
#[derive(Clone, Debug)]
pub struct LinkedSection {
    /// Its index in the input file.
    pub index: u32,
    /// Its region.
    pub kind: MemKind,
    /// Its run-time address.
    pub addr: u64,
    /// Its size.
    pub size: u64,
    /// Its relocated bytes; `None` for `NOBITS`.
    pub bytes: Option<Vec<u8>>,
}

/// A loader-made area (GOT and stubs, or veneers).
#[derive(Clone, Debug)]
pub struct LinkedExtra {
    /// Its run-time address.
    pub addr: u64,
    /// Its bytes: 8-byte target keys per slot, then the slots.
    pub bytes: Vec<u8>,
}

/// The result of [`link`].
#[derive(Clone, Debug)]
pub struct Linked {
    /// The architecture linked for.
    pub arch: Arch,
    /// Every loaded input section.
    pub sections: Vec<LinkedSection>,
    /// The trampoline area, if any.
    pub extra: Option<LinkedExtra>,
    /// Each region's address and size.
    pub regions: Vec<(MemKind, u64, usize)>,
}

/// Why [`link`] failed: the loader's error, and every missing symbol by name.
#[derive(Clone, Debug)]
pub struct LinkError {
    /// The error.
    pub error: Error,
    /// Names of all missing symbols (when `error` is `MissingSymbols`).
    pub missing: Vec<String>,
}

/// Links `elf` (any section order) against `exports` with regions from `base`.
pub fn link<R: Resolve>(
    elf: &[u8],
    exports: R,
    base: u64,
    arch: Option<Arch>,
) -> Result<Linked, LinkError> {
    let mut reg = Registry::<_, _, 1>::new(LinkProvider::new(base), exports);
    let mut missing = Vec::new();
    let mut placed = Vec::new();
    let params = LoadParams {
        arch,
        ..LoadParams::default()
    };
    let mut read_at = |offset: u64, buf: &mut [u8]| {
        let at = usize::try_from(offset).unwrap_or(usize::MAX);
        let src = at
            .checked_add(buf.len())
            .and_then(|end| elf.get(at..end))
            .ok_or(Error::UnexpectedEof {
                offset: elf.len() as u64,
            })?;
        buf.copy_from_slice(src);
        Ok(())
    };
    let r = reg.load_blocking("link", &mut read_at, &params, &mut |r| match r {
        Report::MissingSymbol(s) => missing.push(s.to_string()),
        Report::Placed {
            section,
            kind,
            offset,
            size,
        } => placed.push((section, kind, offset, size)),
        Report::Relocated { .. } => {}
    });
    let slot = r.map_err(|error| LinkError { error, missing })?;
    let ext = reg.get(slot).expect("just loaded");
    let regions: Vec<_> = ext.regions().map(|r| (r.kind, r.addr, r.size)).collect();
    let sections = placed
        .iter()
        .map(|&(index, kind, offset, size)| {
            let addr =
                ext.regions().find(|r| r.kind == kind).map_or(0, |r| r.addr) + u64::from(offset);
            let bytes = (kind != MemKind::Bss).then(|| {
                let all = ext.region_bytes(kind).unwrap_or(&[]);
                all[offset as usize..(offset + size) as usize].to_vec()
            });
            LinkedSection {
                index,
                kind,
                addr,
                size: size.into(),
                bytes,
            }
        })
        .collect();
    let extra = ext
        .regions()
        .find(|r| r.kind == MemKind::Trampoline)
        .map(|r| LinkedExtra {
            addr: r.addr,
            bytes: ext
                .region_bytes(MemKind::Trampoline)
                .unwrap_or(&[])
                .to_vec(),
        });
    Ok(Linked {
        arch: ext.arch(),
        sections,
        extra,
        regions,
    })
}
