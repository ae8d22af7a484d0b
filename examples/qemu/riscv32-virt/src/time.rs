//! The `embassy-time` driver: the CLINT's 10 MHz `mtime` (1 MHz ticks), woken by `mtimecmp`,
//! which also ends the time limit of extension calls (`fault.rs`).

use core::cell::RefCell;
use core::ptr::{read_volatile, write_volatile};
use core::task::Waker;

use critical_section::Mutex;
use embassy_time_driver::Driver;
use embassy_time_queue_utils::Queue;
use riscv::interrupt::Interrupt;

const MTIMECMP: usize = 0x0200_4000;
const MTIME: usize = 0x0200_bff8;
/// `mtime` counts per embassy tick (10 MHz / 1 MHz).
const PER_TICK: u64 = 10;

/// The CLINT's 10 MHz counter.
pub fn mtime() -> u64 {
    loop {
        // SAFETY: the CLINT's mtime registers are always readable.
        let (hi, lo, hi2) = unsafe {
            (
                read_volatile((MTIME + 4) as *const u32),
                read_volatile(MTIME as *const u32),
                read_volatile((MTIME + 4) as *const u32),
            )
        };
        if hi == hi2 {
            return ((hi as u64) << 32) | lo as u64;
        }
    }
}

fn set_mtimecmp(at: u64) {
    // SAFETY: hart 0's mtimecmp, written only here (high word first at all ones, so no
    // spurious match between the two writes).
    unsafe {
        write_volatile((MTIMECMP + 4) as *mut u32, u32::MAX);
        write_volatile(MTIMECMP as *mut u32, at as u32);
        write_volatile((MTIMECMP + 4) as *mut u32, (at >> 32) as u32);
    }
}

struct ClintDriver {
    queue: Mutex<RefCell<Queue>>,
}

embassy_time_driver::time_driver_impl!(static DRIVER: ClintDriver = ClintDriver {
    queue: Mutex::new(RefCell::new(Queue::new())),
});

impl ClintDriver {
    fn rearm(&self, queue: &mut Queue) {
        let next = queue.next_expiration(self.now()).saturating_mul(PER_TICK);
        // The time limit of extension calls shares the timer.
        #[cfg(feature = "loader")]
        let next = next.min(crate::fault::limit_at());
        set_mtimecmp(next);
    }
}

/// Enables the machine timer interrupt.
pub fn init() {
    set_mtimecmp(u64::MAX);
    // SAFETY: the handler below only takes the queue under a critical section.
    unsafe { riscv::register::mie::set_mtimer() };
}

/// Sets `mtimecmp` again (the time limit changed).
#[cfg(feature = "loader")]
pub fn rearm() {
    critical_section::with(|cs| DRIVER.rearm(&mut DRIVER.queue.borrow_ref_mut(cs)));
}

#[riscv_rt::core_interrupt(Interrupt::MachineTimer)]
fn machine_timer() {
    #[cfg(feature = "loader")]
    crate::fault::on_timer(mtime());
    critical_section::with(|cs| DRIVER.rearm(&mut DRIVER.queue.borrow_ref_mut(cs)));
}

impl Driver for ClintDriver {
    fn now(&self) -> u64 {
        mtime() / PER_TICK
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            let mut q = self.queue.borrow_ref_mut(cs);
            if q.schedule_wake(at, waker) {
                self.rearm(&mut q);
            }
        });
    }
}

/// Instructions retired since reset (exact under QEMU's `-icount`).
#[cfg_attr(not(feature = "loader"), allow(dead_code))]
pub fn instret() -> u64 {
    riscv::register::minstret::read64() as u64
}
