//! The panic handler: message and location to the firmware, which ends the call.

use core::fmt::Write;

use crate::log::Line;

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let mut msg = Line::new();
    let _ = write!(msg, "{}", info.message());
    let (file, line, column) = info
        .location()
        .map_or(("<unknown>", 0, 0), |l| (l.file(), l.line(), l.column()));
    let m = msg.as_bytes();
    // SAFETY: both texts are valid for their lengths during the call; the firmware does not
    // return (it ends the call it made, from its outermost `llext_try`).
    unsafe { crate::api::llext_panic(m.as_ptr(), m.len(), file.as_ptr(), file.len(), line, column) }
}
