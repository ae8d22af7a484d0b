//! Shared test helpers: compile C with the system compiler, a provider that checks every write
//! stays inside its block, and a blocking runner for the async loader.
#![allow(dead_code)]

pub mod gnu_ld;

use std::collections::HashMap;
use std::path::PathBuf;
use std::ptr::NonNull;

use llext_loader::memory::{Block, MemKind, MemoryProvider};
use llext_loader::source::{SliceSource, StreamSource};
use llext_loader::symbols::ExportList;
use llext_loader::{Error, LoadParams, Registry, Report};

/// A fresh scratch directory under the target dir.
pub fn scratch(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Compiles C `source` with `cc -c FLAGS`, returning the object's bytes.
pub fn cc(dir: &std::path::Path, stem: &str, source: &str, flags: &[&str]) -> Vec<u8> {
    let o = test_support::compile_in(dir, "cc", stem, source, flags).expect("cc is needed");
    std::fs::read(&o).unwrap()
}

const GUARD: usize = 64;
const CANARY: u8 = 0xa5;

/// Hands out blocks with canary bytes on both sides and checks them when a block comes back:
/// a write outside a block, a double free or a leak fails the test. Blocks come from one arena,
/// so they sit within ±2 GiB of each other as on a device.
pub struct GuardProvider {
    arena: Vec<u8>,
    live: HashMap<usize, (usize, MemKind)>,
    pub held: usize,
    pub peak: usize,
    pub limit: Option<usize>,
}

const ARENA: usize = 8 << 20;

impl Default for GuardProvider {
    fn default() -> Self {
        Self {
            arena: Vec::with_capacity(ARENA),
            live: HashMap::new(),
            held: 0,
            peak: 0,
            limit: None,
        }
    }
}

impl GuardProvider {
    pub fn with_limit(limit: usize) -> Self {
        Self {
            limit: Some(limit),
            ..Self::default()
        }
    }

    /// Checks every live block's canaries.
    pub fn check(&self) {
        for (&start, &(size, kind)) in &self.live {
            check_canaries(&self.arena, start - self.base(), size, kind);
        }
    }

    pub fn live_blocks(&self) -> usize {
        self.live.len()
    }

    fn base(&self) -> usize {
        self.arena.as_ptr() as usize
    }
}

fn check_canaries(v: &[u8], front: usize, size: usize, kind: MemKind) {
    assert!(
        v[front - GUARD..front].iter().all(|&b| b == CANARY),
        "write before a {kind:?} block"
    );
    assert!(
        v[front + size..front + size + GUARD]
            .iter()
            .all(|&b| b == CANARY),
        "write after a {kind:?} block"
    );
}

// SAFETY: blocks are disjoint ranges of the arena, which never reallocates (its capacity is
// reserved up front and never exceeded) and lives as long as the provider.
unsafe impl MemoryProvider for GuardProvider {
    fn alloc(&mut self, kind: MemKind, size: usize, align: usize) -> Option<Block> {
        if self.limit.is_some_and(|l| self.held + size > l) {
            return None;
        }
        let base = self.base();
        let start = (base + self.arena.len() + GUARD).next_multiple_of(align) - base;
        let end = start + size + GUARD;
        if end > ARENA {
            return None;
        }
        self.arena.resize(end, CANARY);
        let ptr = NonNull::new((base + start) as *mut u8)?;
        self.live.insert(base + start, (size, kind));
        self.held += size;
        self.peak = self.peak.max(self.held);
        Some(Block {
            ptr,
            addr: (base + start) as u64,
            size,
            align,
        })
    }

    unsafe fn free(&mut self, kind: MemKind, block: Block) {
        let (size, k) = self
            .live
            .remove(&(block.addr as usize))
            .expect("free of a block not handed out (double free?)");
        assert_eq!(k, kind, "block freed as a different kind");
        assert_eq!(size, block.size);
        check_canaries(&self.arena, block.addr as usize - self.base(), size, kind);
        self.held -= block.size;
    }
}

/// Exports at made-up addresses (loads are not run with this table).
pub fn libc_like_exports() -> ExportList {
    let names = [
        "memcpy", "memset", "memmove", "memcmp", "strlen", "strcmp", "strncmp", "strcpy", "strchr",
        "puts", "printf", "snprintf", "malloc", "calloc", "free", "abort",
    ];
    ExportList::new(
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, 0x1000 + 16 * i as u64)),
    )
}

pub type GuardRegistry = Registry<GuardProvider, ExportList, 8>;

pub fn registry() -> GuardRegistry {
    Registry::new(GuardProvider::default(), libc_like_exports())
}

/// Loads `bytes` through the seekable path; returns the slot or the error and the missing names.
pub fn load_slice(
    reg: &mut GuardRegistry,
    name: &str,
    bytes: &[u8],
) -> Result<usize, (Error, Vec<String>)> {
    let mut missing = Vec::new();
    let r = futures::executor::block_on(reg.load(
        name,
        &mut SliceSource::new(bytes),
        &LoadParams::default(),
        &mut |r| {
            if let Report::MissingSymbol(s) = r {
                missing.push(s.to_string());
            }
        },
    ));
    r.map_err(|e| (e, missing))
}

/// Loads `bytes` through the forward-only path.
pub fn load_stream(
    reg: &mut GuardRegistry,
    name: &str,
    bytes: &[u8],
) -> Result<usize, (Error, Vec<String>)> {
    let mut missing = Vec::new();
    let mut src = StreamSource::new(bytes);
    let r =
        futures::executor::block_on(reg.load(name, &mut src, &LoadParams::default(), &mut |r| {
            if let Report::MissingSymbol(s) = r {
                missing.push(s.to_string());
            }
        }));
    r.map_err(|e| (e, missing))
}

/// A small extension with code, data, strings, a jump table, a constructor and libc calls.
pub const SAMPLE: &str = r#"
#include <stdio.h>
#include <string.h>
static int counter = 5;
const char *msg = "hello";
int big[1000];
int helper(int x) { return x * 3 + counter; }
static int table(int k) { switch (k) { case 0: return 11; case 1: return 22; case 2: return 33; case 3: return 44;
  case 4: return 55; case 5: return 66; case 6: return 77; case 7: return 88; default: return -1; } }
__attribute__((constructor)) static void ctor(void) { counter += 100; }
__attribute__((destructor)) static void dtor(void) { puts("bye"); }
int go(void) { char buf[32]; snprintf(buf, sizeof buf, "%s-%d", msg, helper(2)); big[999] = 1;
  return (int)strlen(buf) * 1000 + table(3) + helper(1) + big[999]; }
"#;

/// The flag sets the corpus is compiled at.
pub const FLAG_SETS: &[&[&str]] = &[
    &["-O0"],
    &["-O2"],
    &["-Os", "-ffunction-sections", "-fdata-sections", "-fcommon"],
    &["-O2", "-fPIC"],
];
