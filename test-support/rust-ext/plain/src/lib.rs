//! A Rust extension that uses no SDK: formatting into a buffer, a sorted slice, a static
//! counter, `puts` from the firmware, 64-bit division (a compiler builtin on 32-bit targets).
#![no_std]

use core::fmt::Write;
use core::sync::atomic::{AtomicU32, Ordering};

unsafe extern "C" {
    fn puts(s: *const u8) -> i32;
}

static CALLS: AtomicU32 = AtomicU32::new(0);

struct Line {
    buf: [u8; 96],
    len: usize,
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for &b in s.as_bytes() {
            if self.len + 1 < self.buf.len() {
                self.buf[self.len] = b;
                self.len += 1;
            }
        }
        Ok(())
    }
}

/// Sorts five numbers, prints them with the call count, returns smallest + largest.
#[unsafe(no_mangle)]
pub extern "C" fn plain_main() -> i32 {
    let mut v = [5u32, 3, 9, 1, 7];
    v.sort_unstable();
    let calls = CALLS.load(Ordering::Relaxed) + 1;
    CALLS.store(calls, Ordering::Relaxed);
    let big = core::hint::black_box(10_000_000_000u64) / u64::from(calls * 7);
    let mut line = Line {
        buf: [0; 96],
        len: 0,
    };
    let _ = write!(line, "sorted {v:?}, call {calls}, {big}");
    // SAFETY: `line.buf` is NUL-terminated (zeroed, and never filled to the last byte).
    unsafe { puts(line.buf.as_ptr()) };
    (v[0] + v[4]) as i32
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}
