//! A Rust extension calling another's export (`features_add` of `features`).
#![no_std]

use llext_sdk::entry;

unsafe extern "C" {
    fn features_add(a: i32, b: i32) -> i32;
}

#[entry]
fn main() -> i32 {
    // SAFETY: `features` exports `extern "C" fn features_add(i32, i32) -> i32`.
    unsafe { features_add(40, 2) }
}
