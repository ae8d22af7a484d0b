//! The `embassy-time` driver: SysTick at 1 kHz from the 25 MHz core clock, with the timer queue
//! checked on every tick.

use core::cell::RefCell;
use core::task::Waker;

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m::peripheral::{SCB, SYST};
use cortex_m_rt::exception;
use critical_section::Mutex;
use embassy_time_driver::Driver;
use embassy_time_queue_utils::Queue;

/// Core clock of the board.
const CORE_HZ: u32 = 25_000_000;
/// Core clocks per tick (1 ms).
const RELOAD: u32 = CORE_HZ / 1000;

struct State {
    ticks: u64,
    alarm: u64,
    queue: Queue,
}

struct SysTickDriver {
    state: Mutex<RefCell<State>>,
}

embassy_time_driver::time_driver_impl!(static DRIVER: SysTickDriver = SysTickDriver {
    state: Mutex::new(RefCell::new(State { ticks: 0, alarm: u64::MAX, queue: Queue::new() })),
});

/// Starts SysTick.
pub fn init(mut syst: SYST) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(RELOAD - 1);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}

/// Core clocks since start (the counter the firmware reads around loads). Under QEMU's
/// `-icount shift=0` a core clock is 40 guest nanoseconds, that is 40 instructions.
#[cfg_attr(not(feature = "loader"), allow(dead_code))]
pub fn core_clocks() -> u64 {
    critical_section::with(|cs| {
        let ticks = DRIVER.state.borrow_ref(cs).ticks;
        let cvr = SYST::get_current();
        // A wrap not yet handled: the tick is pending.
        let extra = if SCB::is_pendst_pending() { 1 } else { 0 };
        let cvr = if extra == 1 { SYST::get_current() } else { cvr };
        (ticks + extra) * RELOAD as u64 + (RELOAD - 1 - cvr) as u64
    })
}

/// Guest instructions since start, exact to 40 under QEMU's `-icount shift=0` (one instruction
/// per virtual nanosecond, one 25 MHz core clock per 40 ns). QEMU has no DWT cycle counter.
#[cfg(feature = "bench")]
pub fn guest_instructions() -> u64 {
    core_clocks() * u64::from(1_000_000_000 / CORE_HZ)
}

#[exception]
fn SysTick() {
    critical_section::with(|cs| {
        let mut s = DRIVER.state.borrow_ref_mut(cs);
        s.ticks += 1;
        if s.ticks >= s.alarm {
            let now = s.ticks;
            s.alarm = s.queue.next_expiration(now);
        }
    });
    // The time limit of extension calls.
    #[cfg(feature = "loader")]
    qemu_common::fault::tick();
}

impl Driver for SysTickDriver {
    fn now(&self) -> u64 {
        critical_section::with(|cs| self.state.borrow_ref(cs).ticks)
    }

    fn schedule_wake(&self, at: u64, waker: &Waker) {
        critical_section::with(|cs| {
            let mut s = self.state.borrow_ref_mut(cs);
            if s.queue.schedule_wake(at, waker) {
                let now = s.ticks;
                s.alarm = s.queue.next_expiration(now);
            }
        });
    }
}
