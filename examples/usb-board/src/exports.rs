//! What the firmware exports to extensions: memory functions and the Pico's LED.

use core::cell::RefCell;
use core::ffi::{c_int, c_void};

use critical_section::Mutex;
use embassy_rp::gpio::Output;
use llext_loader::exports;
use llext_loader::symbols::ExportTable;

unsafe extern "C" {
    // Provided by compiler_builtins.
    fn memcpy(d: *mut c_void, s: *const c_void, n: usize) -> *mut c_void;
    fn memset(d: *mut c_void, c: c_int, n: usize) -> *mut c_void;
    fn memmove(d: *mut c_void, s: *const c_void, n: usize) -> *mut c_void;
    fn memcmp(a: *const c_void, b: *const c_void, n: usize) -> c_int;
}

/// The on-board LED (GPIO 25 on a Pico), once `set_led` has been given it.
static LED: Mutex<RefCell<Option<Output<'static>>>> = Mutex::new(RefCell::new(None));

/// Hands the LED to the exports.
pub fn set_led(led: Output<'static>) {
    critical_section::with(|cs| *LED.borrow_ref_mut(cs) = Some(led));
}

/// `void led_set(int on)`.
extern "C" fn led_set(on: c_int) {
    critical_section::with(|cs| {
        if let Some(led) = LED.borrow_ref_mut(cs).as_mut() {
            led.set_level((on != 0).into());
        }
    });
}

/// `void delay_ms(int ms)`: busy-waits (extension calls run to completion on the server's task).
extern "C" fn delay_ms(ms: c_int) {
    embassy_time::block_for(embassy_time::Duration::from_millis(ms.max(0) as u64));
}

/// The firmware's exports.
pub const EXPORTS: ExportTable = exports![
    "memcpy" => memcpy,
    "memset" => memset,
    "memmove" => memmove,
    "memcmp" => memcmp,
    "led_set" => led_set,
    "delay_ms" => delay_ms,
];
