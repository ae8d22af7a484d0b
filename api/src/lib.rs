//! The firmware API of llext-rs devices, declared once for both sides.
//!
//! Extensions (usually through `llext-sdk`) call these functions as ordinary Rust functions;
//! each is linked under `name#FINGERPRINT`, the FNV-1a hash of its signature, so an extension
//! built against another version of a function is refused before it runs, by `host-push
//! check` and by the device, naming the function. The firmware implements them and builds its
//! export table with [`firmware_exports!`]: every function under its plain name too, so C
//! extensions (which carry no fingerprint) keep linking.
//!
//! ```ignore
//! // In the firmware:
//! pub const EXPORTS: ExportTable =
//!     llext_api::firmware_exports!(crate::api_impl; "memcpy" => memcpy, "puts" => puts);
//! ```
#![no_std]

/// Declares functions of a firmware API (see the crate docs); this crate's own API is declared
/// with it.
pub use llext_sdk_macros::api as declare;

/// What an entry returns when a panic ended it (`llext_try`'s `on_panic` in the SDK).
pub const PANICKED: i32 = i32::MIN;

llext_sdk_macros::api! {
    /// Writes one line (`len` bytes at `text`, no newline) to the device log.
    pub fn llext_log(text: *const u8, len: usize);

    /// Reports a panic (message and location) to the device log, then ends the call the
    /// firmware made (its `llext_try` returns `on_panic`; llext-rs firmwares report the call
    /// as a fault of kind `panic`); never returns.
    pub fn llext_panic(
        msg: *const u8,
        msg_len: usize,
        file: *const u8,
        file_len: usize,
        line: u32,
        column: u32,
    ) -> !;

    /// Calls `f(ctx)` and returns what it returns, or `on_panic` if a panic ended it.
    pub fn llext_try(
        f: unsafe extern "C" fn(*mut ::core::ffi::c_void) -> i32,
        ctx: *mut ::core::ffi::c_void,
        on_panic: i32,
    ) -> i32;

    /// Milliseconds since the device started (wraps after 49 days).
    pub fn llext_uptime_ms() -> u32;

    /// Copies the device's name into `buf` (at most `len` bytes); returns its length.
    pub fn llext_device_name(buf: *mut u8, len: usize) -> usize;
}
