//! Fault containment on RISC-V: an exception (illegal instruction, access fault, misaligned
//! access, `ebreak`...) or the end of the time limit in extension code of a guarded call ends the
//! call (`qemu_common::fault`, `shim.c`); any other exception stops the firmware, as before.

use core::cell::Cell;

use critical_section::Mutex;
use riscv::register::{mcause, mepc, mtval};

use crate::time;

// riscv-rt's `pre-default-start-trap` hook: keeps the interrupted `sp` and `ra` before the trap
// frame is pushed (interrupt handlers are not told where that frame is). Clobbers nothing.
core::arch::global_asm!(
    r#"
    .section .trap.start, "ax"
    .global _pre_default_start_trap
_pre_default_start_trap:
    csrw mscratch, t0
    la t0, FW_TRAP_REGS
    sw sp, 0(t0)
    sw ra, 4(t0)
    csrr t0, mscratch
    j _pre_default_start_trap_ret
"#
);

/// `sp` and `ra` of the code the last trap interrupted (written by the hook above).
#[unsafe(no_mangle)]
static mut FW_TRAP_REGS: [u32; 2] = [0; 2];

unsafe extern "C" {
    fn fw_fault_in_extension(pc: u32) -> i32;
    fn fw_fault_record(how: u32, pc: u32, lr: u32, sp: u32, status: u32, addr: u32) -> u32;
    fn fw_fault_fatal() -> !;
}

/// `mtime` counts per millisecond (the CLINT runs at 10 MHz).
const MTIME_PER_MS: u64 = 10_000;

/// When the running call's time limit ends, in `mtime` counts (`u64::MAX`: none runs).
static LIMIT_AT: Mutex<Cell<u64>> = Mutex::new(Cell::new(u64::MAX));

fn trap_regs() -> (u32, u32) {
    // SAFETY: written by the trap entry of the trap being handled (traps do not nest).
    let r = unsafe { core::ptr::read_volatile(core::ptr::addr_of!(FW_TRAP_REGS)) };
    (r[0], r[1])
}

/// Ends the guarded call: the trap returns into `shim.c`'s resume path.
fn redirect(how: u32, pc: u32, status: u32, addr: u32) {
    let (sp, ra) = trap_regs();
    // SAFETY: only records the fault; `pc` is extension code of a guarded call.
    let to = unsafe { fw_fault_record(how, pc, ra, sp, status, addr) };
    // SAFETY: `mret` goes to the resume path, which jumps to the call's `llext_try` frame.
    unsafe { mepc::write(to as usize) };
}

fn in_extension(pc: u32) -> bool {
    // SAFETY: reads the guarded range and the `llext_try` chain.
    unsafe { fw_fault_in_extension(pc) != 0 }
}

/// Every exception of the firmware (riscv-rt calls it for all causes).
#[unsafe(export_name = "ExceptionHandler")]
extern "C" fn exception(_frame: &riscv_rt::TrapFrame) {
    let cause = mcause::read().code() as u32;
    let (pc, tval) = (mepc::read() as u32, mtval::read() as u32);
    // A call through a bad pointer faults at its target: where it came from is `ra`.
    let from = if cause == 1 && pc == tval {
        trap_regs().1
    } else {
        pc
    };
    if !in_extension(from) {
        // SAFETY: logs and stops.
        unsafe { fw_fault_fatal() }
    }
    redirect(1, pc, cause, tval);
}

/// Starts (`ms` > 0) or stops (0) the time limit of a guarded call (`qemu_common::fault`).
#[unsafe(no_mangle)]
extern "C" fn fw_fault_arm(ms: u32) {
    let at = match ms {
        0 => u64::MAX,
        ms => time::mtime() + u64::from(ms) * MTIME_PER_MS,
    };
    critical_section::with(|cs| LIMIT_AT.borrow(cs).set(at));
    time::rearm();
}

/// The earliest `mtime` the timer must fire at for the time limit.
pub fn limit_at() -> u64 {
    critical_section::with(|cs| LIMIT_AT.borrow(cs).get())
}

/// From the machine timer interrupt: past the limit, ends the call if extension code was
/// interrupted; otherwise (a firmware export runs) looks again 1 ms later.
pub fn on_timer(now: u64) {
    critical_section::with(|cs| {
        let at = LIMIT_AT.borrow(cs);
        if now < at.get() {
            return;
        }
        let pc = mepc::read() as u32;
        if in_extension(pc) {
            at.set(u64::MAX);
            redirect(2, pc, 0, 0);
        } else {
            at.set(now + MTIME_PER_MS);
        }
    });
}
