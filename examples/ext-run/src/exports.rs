//! What this host exports to extensions: the C library basics, taken from the C library itself.

use llext_loader::exports;
use llext_loader::symbols::ExportTable;

/// The C library functions extensions may call.
pub const EXPORTS: ExportTable = exports![
    "memcpy" => libc::memcpy,
    "memset" => libc::memset,
    "memmove" => libc::memmove,
    "memcmp" => libc::memcmp,
    "strlen" => libc::strlen,
    "strcmp" => libc::strcmp,
    "strncmp" => libc::strncmp,
    "strcpy" => libc::strcpy,
    "strchr" => libc::strchr,
    "puts" => libc::puts,
    "printf" => libc::printf,
    "snprintf" => libc::snprintf,
    "malloc" => libc::malloc,
    "calloc" => libc::calloc,
    "free" => libc::free,
    "abort" => libc::abort,
];
