//! The device log: a byte ring that extensions (`puts`, `printf`) and the firmware write to, read
//! line by line by the protocol server as `Log` frames.

use core::cell::RefCell;
use core::ffi::c_char;

use critical_section::Mutex;
use llext_transports::server::LogSource;

const RING: usize = 4096;

struct Ring {
    buf: [u8; RING],
    head: usize,
    len: usize,
}

static LOG: Mutex<RefCell<Ring>> = Mutex::new(RefCell::new(Ring {
    buf: [0; RING],
    head: 0,
    len: 0,
}));

/// Appends bytes to the log; when it is full the oldest bytes are dropped.
pub fn write(bytes: &[u8]) {
    critical_section::with(|cs| {
        let mut r = LOG.borrow_ref_mut(cs);
        for &b in bytes {
            let at = (r.head + r.len) % RING;
            r.buf[at] = b;
            if r.len == RING {
                r.head = (r.head + 1) % RING;
            } else {
                r.len += 1;
            }
        }
    });
}

/// `core::fmt` into the log.
pub struct Writer;

impl core::fmt::Write for Writer {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        write(s.as_bytes());
        Ok(())
    }
}

/// Called by `shim.c` with text an extension printed.
#[unsafe(no_mangle)]
pub extern "C" fn fw_log_write(s: *const c_char, n: usize) {
    if s.is_null() || n == 0 {
        return;
    }
    // SAFETY: `shim.c` passes a pointer to `n` initialised bytes that stay valid during the call.
    write(unsafe { core::slice::from_raw_parts(s.cast::<u8>(), n) });
}

/// The log as the server reads it: whole lines, or what is there when no line end is waiting.
pub struct Logs;

impl LogSource for Logs {
    fn next_line(&mut self, buf: &mut [u8]) -> Option<usize> {
        crate::measure::report();
        critical_section::with(|cs| {
            let mut r = LOG.borrow_ref_mut(cs);
            if r.len == 0 {
                return None;
            }
            let mut n = 0;
            let mut taken = 0;
            while taken < r.len {
                let b = r.buf[(r.head + taken) % RING];
                taken += 1;
                if b == b'\n' {
                    break;
                }
                if n < buf.len() {
                    buf[n] = b;
                    n += 1;
                }
            }
            r.head = (r.head + taken) % RING;
            r.len -= taken;
            Some(n)
        })
    }
}
