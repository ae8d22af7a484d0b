//! What the simulated firmware exports to extensions: C library basics, with `puts` and `printf`
//! going to the device log (sent to the host as `Log` frames), and the firmware API of Rust
//! extensions (`api.rs`).

use std::ffi::{c_char, c_int};

use llext_loader::symbols::ExportTable;

unsafe extern "C" {
    /// `puts`, writing to the device log (`shim.c`).
    fn sim_puts(s: *const c_char) -> c_int;
    /// `printf`, writing to the device log (`shim.c`).
    fn sim_printf(fmt: *const c_char, ...) -> c_int;
}

/// The exports of the simulated firmware: the firmware API (`llext-api`, each function under
/// its plain and its fingerprinted name), then the C library.
pub const EXPORTS: ExportTable = llext_api::firmware_exports!(crate::api;
    "memcpy" => libc::memcpy,
    "memset" => libc::memset,
    "memmove" => libc::memmove,
    "memcmp" => libc::memcmp,
    "strlen" => libc::strlen,
    "strcmp" => libc::strcmp,
    "strncmp" => libc::strncmp,
    "strcpy" => libc::strcpy,
    "strchr" => libc::strchr,
    "snprintf" => libc::snprintf,
    "puts" => sim_puts,
    "printf" => sim_printf,
);
