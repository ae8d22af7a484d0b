//! The one place the device runs extension code: constructors, destructors and `int f(void)` calls.
//!
//! Pushing an extension is, by design, running code on the device: whoever can talk to the
//! server can run anything. The loader only accepts objects for this processor (the registry's
//! `LoadParams::arch` is the native one) and links them against this firmware's exports; it cannot
//! check what the code does. These three functions are the whole `unsafe` boundary of the server.

use llext_loader::Extension;

/// Runs the constructors of a freshly loaded extension.
pub(crate) fn bringup(ext: &Extension) {
    // SAFETY: the extension was just loaded by the registry for this processor and linked
    // against this firmware's exports (see the module doc for the trust this implies).
    unsafe { ext.bringup() }
}

/// Runs the destructors of an extension about to be unloaded.
pub(crate) fn teardown(ext: &Extension) {
    // SAFETY: as for `bringup`; the extension is still loaded.
    unsafe { ext.teardown() }
}

/// Calls the `int f(void)` at `addr`, a symbol exported by a loaded extension.
pub(crate) fn call_int(addr: u64) -> i32 {
    // SAFETY: `addr` was found in a loaded extension's exports (so it is code mapped for as
    // long as the extension stays loaded, which it does during the call); the host vouches that
    // the symbol is an `int (void)` function, as the `Call` message documents.
    unsafe { llext_loader::extension::call_int(addr) }
}

/// Runs `f` under the firmware's `guard` (directly without one) for `time_limit_ms` (0: the
/// guard's default); a fault's report says where in `ext` the PC was.
pub(crate) fn guarded(
    guard: Option<super::Guard>,
    time_limit_ms: u32,
    ext: &Extension,
    f: &mut dyn FnMut() -> i32,
) -> Result<i32, crate::protocol::FaultReport> {
    let Some(guard) = guard else {
        return Ok(f());
    };
    let limit = match time_limit_ms {
        0 => guard.time_limit_ms,
        ms => ms,
    };
    (guard.run)(limit, f).map_err(|mut fault| {
        if let Some(r) = ext
            .regions()
            .find(|r| fault.pc >= r.addr && fault.pc < r.addr + r.size as u64)
        {
            fault.region = Some(crate::protocol::RegionKind::from_mem(r.kind));
            fault.offset = (fault.pc - r.addr) as u32;
        }
        fault
    })
}
