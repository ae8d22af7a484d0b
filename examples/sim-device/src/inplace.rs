//! Execute in place on a PC: the flash file mapped read-only and executable at a fixed address
//! (programming goes through the file, which the shared mapping sees at once, as a memory-mapped
//! flash reads what was just programmed), and a fixed RAM area for installed extensions' data
//! and bss. Images linked in place hold absolute addresses of both and of the firmware, so the
//! process runs without address randomisation, as a firmware image does.

use std::io;
use std::os::unix::process::CommandExt as _;
use std::path::Path;

use llext_storage::XipConfig;

/// Where the flash file is mapped.
pub const FLASH_AT: u64 = 0x6000_0000_0000;
/// The RAM reserved for installed extensions' data and bss (within 2 GiB of the flash, so x86-64
/// code reaches its data PC-relative).
pub const RAM_AT: u64 = FLASH_AT + (1 << 30);
/// Bytes of that RAM.
pub const RAM_SIZE: usize = 8 << 20;

const ADDR_NO_RANDOMIZE: libc::c_ulong = 0x0040000;
/// Set in the environment of the re-executed process, so it never loops.
const REEXEC: &str = "SIM_DEVICE_FIXED_ADDRESSES";

/// Makes the firmware's addresses the same at every start: re-executes this program without
/// address randomisation unless it already runs so. Returns only if it does (or cannot).
pub fn fixed_addresses() {
    // SAFETY: `personality(0xffffffff)` only queries.
    let now = unsafe { libc::personality(0xffff_ffff) };
    if now < 0
        || (now as libc::c_ulong) & ADDR_NO_RANDOMIZE != 0
        || std::env::var_os(REEXEC).is_some()
    {
        return;
    }
    // SAFETY: sets a flag of this process's execution domain, read at the next exec.
    if unsafe { libc::personality(now as libc::c_ulong | ADDR_NO_RANDOMIZE) } < 0 {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(REEXEC, "1")
        .exec();
    eprintln!(
        "sim-device: cannot run without address randomisation ({err}); installs in place will not survive a restart"
    );
}

fn map(
    addr: u64,
    len: usize,
    prot: libc::c_int,
    flags: libc::c_int,
    fd: libc::c_int,
) -> io::Result<()> {
    // SAFETY: a new mapping at an address nothing else in this process uses (`NOREPLACE` fails
    // rather than replace one); the result is checked.
    let p = unsafe {
        libc::mmap(
            addr as usize as *mut libc::c_void,
            len,
            prot,
            flags | libc::MAP_FIXED_NOREPLACE,
            fd,
            0,
        )
    };
    if p == libc::MAP_FAILED || p as u64 != addr {
        return Err(io::Error::other(format!(
            "cannot map {len} bytes at 0x{addr:x}: {}",
            io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// Maps the flash file `path` and the reserved RAM; `table_id` is the firmware's exports table.
pub fn config(path: &Path, table_id: u32) -> io::Result<XipConfig> {
    use std::os::fd::AsRawFd as _;
    let file = std::fs::File::open(path)?;
    let len = file.metadata()?.len() as usize;
    let shared = libc::MAP_SHARED;
    map(
        FLASH_AT,
        len,
        libc::PROT_READ | libc::PROT_EXEC,
        shared,
        file.as_raw_fd(),
    )?;
    let anon = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
    map(
        RAM_AT,
        RAM_SIZE,
        libc::PROT_READ | libc::PROT_WRITE,
        anon,
        -1,
    )?;
    Ok(XipConfig {
        mapped: FLASH_AT,
        ram: RAM_AT..RAM_AT + RAM_SIZE as u64,
        table_id,
        verify_code_at_boot: true,
    })
}
