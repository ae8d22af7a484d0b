//! Fault containment for calls, constructors and destructors (`shim.c`; on RISC-V the trap entry
//! is the board's): the server's `Config::guard`.

use llext_transports::protocol::{FaultKind, FaultReport};

/// What the fault handler recorded (`struct fw_fault` in `shim.c`).
#[repr(C)]
struct Recorded {
    /// 1 a fault, 2 the time limit, 3 a panic.
    faulted: u32,
    /// CFSR (Cortex-M), mcause (RISC-V), the panic's line.
    status: u32,
    /// HFSR (Cortex-M), the panic's column.
    aux: u32,
    pc: u32,
    lr: u32,
    sp: u32,
    /// MMFAR (Cortex-M), mtval (RISC-V).
    addr: u32,
    /// BFAR (Cortex-M).
    addr2: u32,
}

unsafe extern "C" {
    static mut fw_last_fault: Recorded;
    fn fw_fault_set_range(i: u32, lo: u32, hi: u32);
    /// Starts (`ms` > 0) or stops (0) the time limit: `shim.c` on Cortex-M, the board on RISC-V.
    fn fw_fault_arm(ms: u32);
    #[cfg(target_arch = "arm")]
    fn fw_fault_tick();
}

/// Counts the time limit down; call it from the 1 kHz tick interrupt.
#[cfg(target_arch = "arm")]
pub fn tick() {
    // SAFETY: called from the tick handler only; the count is a volatile word.
    unsafe { fw_fault_tick() };
}

/// Faults with the PC in one of `code` (at most two ranges: the pool, flash for extensions run
/// in place) are contained; on Cortex-M division by zero traps.
pub fn init(code: &[core::ops::Range<usize>]) {
    for (i, r) in code.iter().enumerate() {
        // SAFETY: plain stores before any extension runs (`shim.c` ignores a third range).
        unsafe { fw_fault_set_range(i as u32, r.start as u32, r.end as u32) };
    }
    // SAFETY: sets CCR.DIV_0_TRP (bit 4): an SDIV/UDIV by zero raises a UsageFault instead of
    // giving 0. Rust code never divides by zero (it checks first).
    #[cfg(target_arch = "arm")]
    unsafe {
        let ccr = 0xE000_ED14 as *mut u32;
        ccr.write_volatile(ccr.read_volatile() | 1 << 4);
    }
}

unsafe extern "C" fn call(ctx: *mut core::ffi::c_void) -> i32 {
    // SAFETY: `ctx` is the `&mut dyn FnMut` `guarded` passes, alive for the whole call.
    let f = unsafe { &mut *(ctx as *mut &mut dyn FnMut() -> i32) };
    f()
}

/// Runs `f` (extension code: a call, constructors, destructors); a fault in extension code, a
/// Rust extension's panic, or `time_limit_ms` passing, ends it with its report.
pub fn guarded(time_limit_ms: u32, mut f: &mut dyn FnMut() -> i32) -> Result<i32, FaultReport> {
    let rec = core::ptr::addr_of_mut!(fw_last_fault);
    // SAFETY: the fault handler writes this only while a guarded call runs, on this thread.
    unsafe { (*rec).faulted = 0 };
    let ctx = core::ptr::addr_of_mut!(f).cast();
    // SAFETY: `call` gets `ctx` back; llext_try returns here whether or not `f` faulted. A
    // fault skips the frames of `f` (nothing in them owns firmware resources: see README).
    let v = unsafe {
        fw_fault_arm(time_limit_ms.max(1));
        let v = crate::api::llext_try(call, ctx, i32::MIN);
        fw_fault_arm(0);
        v
    };
    // SAFETY: the call is over; the handler no longer writes.
    let r = unsafe { core::ptr::read_volatile(rec) };
    if r.faulted == 0 {
        return Ok(v);
    }
    Err(report(&r, time_limit_ms))
}

/// The report of a fault (a timeout's status is the time limit, a panic's its line).
fn report(r: &Recorded, time_limit_ms: u32) -> FaultReport {
    let (kind, status, addr) = match r.faulted {
        2 => (FaultKind::Timeout, time_limit_ms, None),
        3 => (FaultKind::Panic, r.status, None),
        _ => {
            let (kind, addr) = kind(r);
            (kind, r.status, addr)
        }
    };
    FaultReport {
        kind,
        status,
        pc: r.pc.into(),
        lr: r.lr.into(),
        sp: r.sp.into(),
        addr: addr.map(u64::from),
        region: None,
        offset: 0,
    }
}

/// The kind from the CFSR, and the MMFAR or BFAR when it is valid.
#[cfg(target_arch = "arm")]
fn kind(r: &Recorded) -> (FaultKind, Option<u32>) {
    let (mm, bus, usage) = (r.status & 0xff, (r.status >> 8) & 0xff, r.status >> 16);
    if mm != 0 {
        (FaultKind::MemManage, (mm & 0x80 != 0).then_some(r.addr))
    } else if bus != 0 {
        (FaultKind::BusFault, (bus & 0x80 != 0).then_some(r.addr2))
    } else if usage != 0 {
        (FaultKind::UsageFault, None)
    } else {
        (FaultKind::HardFault, None)
    }
}

/// The kind from mcause, and mtval for the causes that put an address there.
#[cfg(target_arch = "riscv32")]
fn kind(r: &Recorded) -> (FaultKind, Option<u32>) {
    let kind = match r.status {
        0 => FaultKind::InstructionMisaligned,
        1 => FaultKind::InstructionAccessFault,
        2 => FaultKind::IllegalInstruction,
        3 => FaultKind::Breakpoint,
        4 => FaultKind::LoadMisaligned,
        5 => FaultKind::LoadAccessFault,
        6 => FaultKind::StoreMisaligned,
        7 => FaultKind::StoreAccessFault,
        _ => FaultKind::OtherException,
    };
    (kind, matches!(r.status, 0 | 1 | 4..=7).then_some(r.addr))
}
