//! What the firmware exports to extensions: the firmware API of Rust extensions (`llext-api`,
//! implemented in `api.rs`), C library basics, `puts`/`printf` into the log.

use core::ffi::{c_char, c_int, c_void};

use llext_loader::symbols::ExportTable;

unsafe extern "C" {
    // Provided by compiler_builtins.
    fn memcpy(d: *mut c_void, s: *const c_void, n: usize) -> *mut c_void;
    fn memset(d: *mut c_void, c: c_int, n: usize) -> *mut c_void;
    fn memmove(d: *mut c_void, s: *const c_void, n: usize) -> *mut c_void;
    fn memcmp(a: *const c_void, b: *const c_void, n: usize) -> c_int;
    // shim.c
    fn fw_strlen(s: *const c_char) -> usize;
    fn fw_strcmp(a: *const c_char, b: *const c_char) -> c_int;
    fn fw_strncmp(a: *const c_char, b: *const c_char, n: usize) -> c_int;
    fn fw_strcpy(d: *mut c_char, s: *const c_char) -> *mut c_char;
    fn fw_strchr(s: *const c_char, c: c_int) -> *mut c_char;
    fn fw_puts(s: *const c_char) -> c_int;
    fn fw_printf(fmt: *const c_char, ...) -> c_int;
    fn fw_snprintf(buf: *mut c_char, n: usize, fmt: *const c_char, ...) -> c_int;
}

/// The firmware's exports: the API (each function under its plain and its fingerprinted name),
/// then the C library.
pub const EXPORTS: ExportTable = llext_api::firmware_exports!(crate::api;
    "memcpy" => memcpy,
    "memset" => memset,
    "memmove" => memmove,
    "memcmp" => memcmp,
    "strlen" => fw_strlen,
    "strcmp" => fw_strcmp,
    "strncmp" => fw_strncmp,
    "strcpy" => fw_strcpy,
    "strchr" => fw_strchr,
    "snprintf" => fw_snprintf,
    "puts" => fw_puts,
    "printf" => fw_printf,
);
