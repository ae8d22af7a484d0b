//! The firmware API (`llext-api`) as sim-device implements it.

use std::ffi::c_void;
use std::sync::OnceLock;
use std::time::Instant;

unsafe extern "C" {
    /// Calls `f(ctx)`; `on_panic` if a panic ended it (`shim.c`, setjmp/longjmp).
    pub fn llext_try(
        f: unsafe extern "C" fn(*mut c_void) -> i32,
        ctx: *mut c_void,
        on_panic: i32,
    ) -> i32;
    /// `llext_panic`: logs the panic (`sim_panic_log`), records it for the guarded call
    /// (`guard.rs`) and ends that call (`shim.c`, which knows the return address).
    pub fn llext_panic(
        msg: *const u8,
        msg_len: usize,
        file: *const u8,
        file_len: usize,
        line: u32,
        column: u32,
    ) -> !;
}

static START: OnceLock<Instant> = OnceLock::new();
static NAME: OnceLock<&'static str> = OnceLock::new();

/// Records the device's name and start time.
pub fn start(name: &'static str) {
    let _ = NAME.set(name);
    let _ = START.set(Instant::now());
}

/// # Safety
/// `ptr` must be valid for `len` bytes (or `len` 0).
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: per the contract.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// `llext_log`: one line to the device log.
pub extern "C" fn llext_log(text: *const u8, len: usize) {
    // SAFETY: the API's contract: `text` is valid for `len` bytes.
    let text = unsafe { bytes(text, len) };
    crate::log::line(&String::from_utf8_lossy(text));
}

/// Logs `panicked at FILE:LINE:COLUMN: MESSAGE`, for `llext_panic` in `shim.c`.
#[unsafe(no_mangle)]
extern "C" fn sim_panic_log(
    msg: *const u8,
    msg_len: usize,
    file: *const u8,
    file_len: usize,
    line: u32,
    column: u32,
) {
    // SAFETY: the API's contract: both texts are valid for their lengths.
    let (msg, file) = unsafe { (bytes(msg, msg_len), bytes(file, file_len)) };
    crate::log::line(&format!(
        "panicked at {}:{line}:{column}: {}",
        String::from_utf8_lossy(file),
        String::from_utf8_lossy(msg)
    ));
}

/// `llext_uptime_ms`.
pub extern "C" fn llext_uptime_ms() -> u32 {
    START.get_or_init(Instant::now).elapsed().as_millis() as u32
}

/// `llext_device_name`.
pub extern "C" fn llext_device_name(buf: *mut u8, len: usize) -> usize {
    let name = NAME.get().copied().unwrap_or("sim-device").as_bytes();
    let n = name.len().min(len);
    if !buf.is_null() {
        // SAFETY: the API's contract: `buf` is valid for `len` bytes, and `n <= len`.
        unsafe { std::ptr::copy_nonoverlapping(name.as_ptr(), buf, n) };
    }
    n
}
