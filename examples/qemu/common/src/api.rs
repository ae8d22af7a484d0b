//! The firmware API (`llext-api`) as the QEMU firmwares implement it.

use core::cell::Cell;

use critical_section::Mutex;

unsafe extern "C" {
    /// Calls `f(ctx)`; `on_panic` if `fw_llext_unwind` ended it (`shim.c`).
    pub fn llext_try(
        f: unsafe extern "C" fn(*mut core::ffi::c_void) -> i32,
        ctx: *mut core::ffi::c_void,
        on_panic: i32,
    ) -> i32;
    /// Jumps back to the innermost `llext_try`; returns 0 only when there is none (`shim.c`).
    fn fw_llext_unwind() -> i32;
}

static NAME: Mutex<Cell<&'static str>> = Mutex::new(Cell::new("llext-fw"));

/// Sets the name `llext_device_name` gives.
pub fn set_name(name: &'static str) {
    critical_section::with(|cs| NAME.borrow(cs).set(name));
}

/// # Safety
/// `ptr` must be valid for `len` bytes (or `len` 0).
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: per the contract.
    unsafe { core::slice::from_raw_parts(ptr, len) }
}

/// `llext_log`: one line to the device log.
pub extern "C" fn llext_log(text: *const u8, len: usize) {
    // SAFETY: the API's contract: `text` is valid for `len` bytes.
    crate::log::write(unsafe { bytes(text, len) });
    crate::log::write(b"\n");
}

/// `llext_panic`: `panicked at FILE:LINE:COLUMN: MESSAGE` to the log, then the call ends.
pub extern "C" fn llext_panic(
    msg: *const u8,
    msg_len: usize,
    file: *const u8,
    file_len: usize,
    line: u32,
    column: u32,
) -> ! {
    use core::fmt::Write;
    // SAFETY: the API's contract: both texts are valid for their lengths.
    let (msg, file) = unsafe { (bytes(msg, msg_len), bytes(file, file_len)) };
    crate::log::write(b"panicked at ");
    crate::log::write(file);
    let _ = write!(crate::log::Writer, ":{line}:{column}: ");
    crate::log::write(msg);
    crate::log::write(b"\n");
    // SAFETY: jumps to the `llext_try` frame the firmware's call runs in; only extension frames
    // and this one (which owns nothing) are skipped.
    unsafe { fw_llext_unwind() };
    crate::log::write(b"panic outside any llext_try: the firmware stops\n");
    loop {
        core::hint::spin_loop();
    }
}

/// `llext_uptime_ms`.
pub extern "C" fn llext_uptime_ms() -> u32 {
    embassy_time::Instant::now().as_millis() as u32
}

/// `llext_device_name`.
pub extern "C" fn llext_device_name(buf: *mut u8, len: usize) -> usize {
    let name = critical_section::with(|cs| NAME.borrow(cs).get()).as_bytes();
    let n = name.len().min(len);
    if !buf.is_null() {
        // SAFETY: the API's contract: `buf` is valid for `len` bytes, and `n <= len`.
        unsafe { core::ptr::copy_nonoverlapping(name.as_ptr(), buf, n) };
    }
    n
}
