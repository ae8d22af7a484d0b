//! The server's `Config::guard` on sim-device: a Rust extension's panic ends the call as a fault
//! (`FaultKind::Panic`), and the server marks the extension faulted, as the QEMU firmwares do.
//! Hardware faults are not contained here (a SIGSEGV ends the process; README, "Crash
//! containment") and no time limit is enforced: `Hello` says 0, and host-push warns that a
//! `--timeout-ms` is not enforced.

use std::ffi::c_void;

use llext_transports::protocol::{FaultKind, FaultReport};
use llext_transports::server::Guard;

/// What `llext_panic` recorded (`struct sim_panic` in `shim.c`).
#[repr(C)]
#[derive(Clone, Copy)]
struct Recorded {
    panicked: u32,
    line: u32,
    pc: u64,
    sp: u64,
}

unsafe extern "C" {
    static mut sim_last_panic: Recorded;
}

/// Panics are faults; no time limit (0), so hosts may ask any (it is not enforced).
pub const GUARD: Guard = Guard {
    run,
    time_limit_ms: 0,
    max_time_limit_ms: u32::MAX,
};

unsafe extern "C" fn call(ctx: *mut c_void) -> i32 {
    // SAFETY: `ctx` is the `&mut dyn FnMut` `run` passes, alive for the whole call.
    let f = unsafe { &mut *(ctx as *mut &mut dyn FnMut() -> i32) };
    f()
}

/// Runs `f` in `llext_try`; a panic in it is its fault report.
fn run(_time_limit_ms: u32, mut f: &mut dyn FnMut() -> i32) -> Result<i32, FaultReport> {
    let rec = std::ptr::addr_of_mut!(sim_last_panic);
    // SAFETY: only `llext_panic` writes it, during a call on this thread (the server's).
    unsafe { (*rec).panicked = 0 };
    let ctx = std::ptr::addr_of_mut!(f).cast();
    // SAFETY: `call` gets `ctx` back; a panic longjmps back into this `llext_try`, skipping
    // only `call`, the server's closure and extension frames, which own nothing.
    let v = unsafe { crate::api::llext_try(call, ctx, i32::MIN) };
    // SAFETY: the call is over; nothing writes the record now.
    let r = unsafe { std::ptr::read_volatile(rec) };
    if r.panicked == 0 {
        return Ok(v);
    }
    Err(FaultReport {
        kind: FaultKind::Panic,
        status: r.line,
        pc: r.pc,
        lr: 0,
        sp: r.sp,
        addr: None,
        region: None,
        offset: 0,
    })
}
