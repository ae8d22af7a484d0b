//! The firmware API (`llext-api`) as the QEMU firmwares implement it.

use core::cell::Cell;

use critical_section::Mutex;

unsafe extern "C" {
    /// Calls `f(ctx)`; `on_panic` if a panic or fault ended it (`shim.c`).
    pub fn llext_try(
        f: unsafe extern "C" fn(*mut core::ffi::c_void) -> i32,
        ctx: *mut core::ffi::c_void,
        on_panic: i32,
    ) -> i32;
    /// `llext_panic`: logs the panic (`fw_panic_log`), records it as a fault of the guarded call
    /// and ends that call (`shim.c`, which knows the return address into the extension).
    pub fn llext_panic(
        msg: *const u8,
        msg_len: usize,
        file: *const u8,
        file_len: usize,
        line: u32,
        column: u32,
    ) -> !;
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

/// Logs `panicked at FILE:LINE:COLUMN: MESSAGE`, for `llext_panic` in `shim.c`.
#[unsafe(no_mangle)]
extern "C" fn fw_panic_log(
    msg: *const u8,
    msg_len: usize,
    file: *const u8,
    file_len: usize,
    line: u32,
    column: u32,
) {
    use core::fmt::Write;
    // SAFETY: the API's contract: both texts are valid for their lengths.
    let (msg, file) = unsafe { (bytes(msg, msg_len), bytes(file, file_len)) };
    crate::log::write(b"panicked at ");
    crate::log::write(file);
    let _ = write!(crate::log::Writer, ":{line}:{column}: ");
    crate::log::write(msg);
    crate::log::write(b"\n");
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
