//! Write llext-rs extensions in Rust.
//!
//! An extension is a `#![no_std]` library crate (`crate-type = ["staticlib"]`) that
//! `host-push build` turns into one relocatable object. This crate gives it:
//! - [`macro@export`]: a function other code calls by name (the `LL_EXTENSION_SYMBOL` table the
//!   loader reads, `.exported_sym`), [`macro@entry`] for the function `bootstrap` and
//!   `cargo run` call (`llext_main`), [`macro@init`] and [`macro@fini`] for constructors and
//!   destructors (`.init_array`, `.fini_array`);
//! - a panic handler that reports the message and location to the firmware, which ends the
//!   call it made without stopping the device (llext-rs firmwares report it as a fault; its
//!   `llext_try` returns [`PANICKED`]);
//! - [`info!`], [`warn!`], [`error!`]: a formatted line to the device log.
//!
//! ```ignore
//! #![no_std]
//! use llext_sdk::{entry, info};
//!
//! #[entry]
//! fn main() -> i32 {
//!     info!("hello from Rust, {} ms after boot", llext_sdk::uptime_ms());
//!     0
//! }
//! ```
#![no_std]

mod log;
#[cfg(all(feature = "panic-handler", not(test)))]
mod panic;

pub use llext_api as api;
pub use llext_api::PANICKED;
pub use llext_sdk_macros::{entry, export, fini, init};
pub use log::{Line, write_line};

/// Milliseconds since the device started (the firmware's `llext_uptime_ms`).
pub fn uptime_ms() -> u32 {
    // SAFETY: a firmware API function without arguments or preconditions.
    unsafe { api::llext_uptime_ms() }
}

/// The device's name, copied into `buf`; the part that fits.
pub fn device_name(buf: &mut [u8]) -> &str {
    // SAFETY: the firmware writes at most `buf.len()` bytes into `buf`.
    let n = unsafe { api::llext_device_name(buf.as_mut_ptr(), buf.len()) };
    let bytes = &buf[..n.min(buf.len())];
    match core::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => core::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
    }
}

#[doc(hidden)]
pub mod __private {
    use core::ffi::c_void;

    /// One `LL_EXTENSION_SYMBOL` entry: `{const char *name; void *addr}`.
    #[repr(C)]
    pub struct ExportedSym {
        name: *const u8,
        addr: *const (),
    }

    // SAFETY: read-only addresses, never written after the loader relocates them.
    unsafe impl Sync for ExportedSym {}

    impl ExportedSym {
        /// An entry for the NUL-terminated `name` at `addr`.
        pub const fn new(name: &'static [u8], addr: *const ()) -> Self {
            Self {
                name: name.as_ptr(),
                addr,
            }
        }
    }

    /// Runs `f` through the firmware's `llext_try`: a panic inside ends it with
    /// [`crate::PANICKED`].
    pub fn guard<F: FnOnce() -> i32>(f: F) -> i32 {
        unsafe extern "C" fn call<F: FnOnce() -> i32>(ctx: *mut c_void) -> i32 {
            // SAFETY: `ctx` is the `Option<F>` below, alive for the whole `llext_try` call.
            let f = unsafe { &mut *ctx.cast::<Option<F>>() };
            f.take().map_or(crate::PANICKED, |f| f())
        }
        let mut f = Some(f);
        let ctx = (&mut f as *mut Option<F>).cast::<c_void>();
        // SAFETY: `call::<F>` reads `ctx` as the `Option<F>` it is.
        unsafe { crate::api::llext_try(call::<F>, ctx, crate::PANICKED) }
    }
}
