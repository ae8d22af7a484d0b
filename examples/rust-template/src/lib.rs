//! A Rust extension: `cargo run` builds it, pushes it to the device and calls `main`.
#![no_std]

use core::sync::atomic::{AtomicU32, Ordering};

use llext_sdk::{entry, export, info, init};

static RUNS: AtomicU32 = AtomicU32::new(0);

#[init]
fn loaded() {
    info!("hello-rust loaded");
}

/// Other extensions (and `host-push call hello_rust answer`) can call this.
#[export]
fn answer() -> i32 {
    42
}

/// What `cargo run` calls.
#[entry]
fn main() -> i32 {
    let runs = RUNS.load(Ordering::Relaxed) + 1;
    RUNS.store(runs, Ordering::Relaxed);
    let mut name = [0u8; 32];
    let device = llext_sdk::device_name(&mut name);
    info!("hello from Rust on {device}, {} ms after start", llext_sdk::uptime_ms());
    let mut squares = [9u32, 1, 4, 16];
    squares.sort_unstable();
    info!("sorted: {squares:?}");
    answer()
}
