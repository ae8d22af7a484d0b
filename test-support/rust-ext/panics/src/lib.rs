//! A Rust extension whose `boom` panics (a fault: the call ends, the extension is marked
//! faulted) and whose `five` does not.
#![no_std]

use core::hint::black_box;

use llext_sdk::export;

/// Indexes out of bounds.
#[export]
fn boom() -> i32 {
    let v = [1, 2, 3];
    v[black_box(7)]
}

/// Returns 5.
#[export]
fn five() -> i32 {
    5
}
