//! Loads arbitrary bytes through the seekable and the forward-only path into a provider that
//! puts canaries around every block: any write outside a block, leak or panic is a finding.
#![no_main]

use std::collections::HashMap;
use std::ptr::NonNull;

use libfuzzer_sys::fuzz_target;
use llext_loader::memory::{Block, MemKind, MemoryProvider};
use llext_loader::source::{SliceSource, StreamSource};
use llext_loader::symbols::ExportList;
use llext_loader::{LoadParams, Registry};

const GUARD: usize = 32;

#[derive(Default)]
struct Checked {
    live: HashMap<usize, (Vec<u8>, usize)>,
}

// SAFETY: each block is its own heap buffer with GUARD canary bytes on each side, kept alive in
// `live` until freed.
unsafe impl MemoryProvider for Checked {
    fn alloc(&mut self, _kind: MemKind, size: usize, align: usize) -> Option<Block> {
        if size > 16 << 20 {
            return None;
        }
        let mut v = vec![0xa5u8; GUARD + align + size + GUARD];
        let base = v.as_mut_ptr() as usize;
        let start = (base + GUARD).next_multiple_of(align);
        self.live.insert(start, (v, start - base));
        Some(Block { ptr: NonNull::new(start as *mut u8)?, addr: start as u64, size, align })
    }

    unsafe fn free(&mut self, _kind: MemKind, block: Block) {
        let (v, front) = self.live.remove(&(block.addr as usize)).expect("double free");
        assert!(v[front - GUARD..front].iter().all(|&b| b == 0xa5), "write before block");
        let end = front + block.size;
        assert!(v[end..end + GUARD].iter().all(|&b| b == 0xa5), "write after block");
    }
}

fuzz_target!(|data: &[u8]| {
    let exports = ExportList::new([
        ("memcpy", 0x1000u64),
        ("puts", 0x2000),
        ("printf", 0x3000),
        // The seeds' other imports, so they load and their relocations are fuzzed too.
        ("snprintf", 0x4000),
        ("strlen", 0x5001),
    ]);
    // The host's back-end, then any (the ARM and RISC-V relocation paths, from their seeds).
    let any = LoadParams { arch: None, ..LoadParams::default() };
    for (stream, params) in [(false, LoadParams::default()), (true, LoadParams::default()), (false, any), (true, any)] {
        let mut reg = Registry::<_, _, 2>::new(Checked::default(), exports.clone());
        let r = if stream {
            futures::executor::block_on(reg.load("f", &mut StreamSource::new(data), &params, &mut |_| {}))
        } else {
            futures::executor::block_on(reg.load("f", &mut SliceSource::new(data), &params, &mut |_| {}))
        };
        if let Ok(slot) = r {
            reg.unload(slot).unwrap();
        }
        assert!(reg.provider().live.is_empty(), "leak");
    }
});
