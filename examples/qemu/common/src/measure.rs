//! The extension pool with load accounting: the RAM a load holds beyond its final image and the
//! instructions it takes, written to the log after each load.

use core::cell::RefCell;
use core::fmt::Write as _;

use critical_section::Mutex;
use llext_loader::memory::{Block, MemKind, MemoryProvider, SealError};
use llext_transports::server::MemoryInfo;

/// A load in progress: from the loader's first allocation to its last allocation or release.
#[derive(Clone, Copy)]
struct Window {
    base: usize,
    peak: usize,
    first: u64,
    last: u64,
}

struct State {
    used: usize,
    load: Option<Window>,
    counter: fn() -> u64,
}

fn zero() -> u64 {
    0
}

static STATE: Mutex<RefCell<State>> = Mutex::new(RefCell::new(State {
    used: 0,
    load: None,
    counter: zero,
}));

/// Sets the board's instruction (or cycle) counter read around loads.
pub fn set_counter(counter: fn() -> u64) {
    critical_section::with(|cs| STATE.borrow_ref_mut(cs).counter = counter);
}

fn event(delta: isize, alloc: bool) {
    critical_section::with(|cs| {
        let mut s = STATE.borrow_ref_mut(cs);
        let now = (s.counter)();
        let before = s.used;
        s.used = before.wrapping_add_signed(delta);
        let used = s.used;
        match &mut s.load {
            Some(w) => {
                w.peak = w.peak.max(used);
                w.last = now;
            }
            None if alloc => {
                s.load = Some(Window {
                    base: before,
                    peak: used,
                    first: now,
                    last: now,
                })
            }
            None => {}
        }
    });
}

/// Called when the server reads the log (never during a push): a finished load is reported.
pub(crate) fn report() {
    let done = critical_section::with(|cs| {
        let mut s = STATE.borrow_ref_mut(cs);
        let used = s.used;
        s.load.take().map(|w| (w, used))
    });
    if let Some((w, used)) = done {
        let _ = writeln!(
            crate::log::Writer,
            "llext-fw: load held={} transient_peak={} count={}",
            used.saturating_sub(w.base),
            w.peak - used.max(w.base),
            w.last.wrapping_sub(w.first)
        );
    }
}

/// A memory provider whose loads are measured.
pub struct Measured<P>(pub P);

// SAFETY: blocks come unchanged from the inner provider; this only counts them.
unsafe impl<P: MemoryProvider> MemoryProvider for Measured<P> {
    fn alloc(&mut self, kind: MemKind, size: usize, align: usize) -> Option<Block> {
        let b = self.0.alloc(kind, size, align)?;
        event(b.size as isize, true);
        Some(b)
    }

    unsafe fn free(&mut self, kind: MemKind, block: Block) {
        event(-(block.size as isize), false);
        // SAFETY: the caller's guarantee is passed on unchanged.
        unsafe { self.0.free(kind, block) }
    }

    fn seal(&mut self, kind: MemKind, block: &Block) -> Result<(), SealError> {
        self.0.seal(kind, block)
    }

    fn free_bytes(&self) -> Option<usize> {
        self.0.free_bytes()
    }
}

impl<P: MemoryInfo> MemoryInfo for Measured<P> {
    fn used_memory(&self) -> u64 {
        self.0.used_memory()
    }

    fn free_memory(&self) -> Option<u64> {
        self.0.free_memory()
    }
}
