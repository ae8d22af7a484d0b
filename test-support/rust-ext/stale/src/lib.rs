//! A Rust extension built against a changed firmware API: its `llext_uptime_ms` returns `u64`
//! where the firmware's returns `u32`. Devices must refuse it, naming the function.
#![no_std]

use llext_sdk::entry;

#[allow(dead_code)] // only `llext_uptime_ms` is used
mod old_api {
    llext_sdk::api::declare! {
        /// Milliseconds since start, as an older API had it.
        pub fn llext_uptime_ms() -> u64;
    }
}

#[entry]
fn main() -> i32 {
    // SAFETY: no arguments, no preconditions.
    unsafe { old_api::llext_uptime_ms() as i32 }
}
