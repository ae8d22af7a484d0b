//! A Rust extension exercising what the loader must get right for Rust code: formatting,
//! slices and sorting, iterators and closures, statics and atomics, trait objects (vtables in
//! relocated read-only data), a constructor and a destructor, the firmware API, and an export
//! another extension calls (panics: the `panics` crate).
#![no_std]

use core::fmt::Write;
use core::hint::black_box;
use core::sync::atomic::{AtomicU32, Ordering};

use llext_sdk::{Line, entry, export, fini, info, init};

static CALLS: AtomicU32 = AtomicU32::new(0);
static INIT_VALUE: AtomicU32 = AtomicU32::new(0);

#[init]
fn setup() {
    INIT_VALUE.store(42, Ordering::Relaxed);
}

#[fini]
fn teardown() {
    info!(
        "features: destructor ran after {} counts",
        CALLS.load(Ordering::Relaxed)
    );
}

/// What the constructor stored.
#[export]
fn init_value() -> i32 {
    INIT_VALUE.load(Ordering::Relaxed) as i32
}

/// Formats numbers, text and a tuple; 1 if the line is as expected.
#[export]
fn formatting() -> i32 {
    let mut line = Line::new();
    let (n, x, t) = black_box((42u32, 0xbeef_u32, (1u8, 'c')));
    let _ = write!(line, "[{n:>5}|{x:#x}|{t:?}|{:<4}|{}]", "ab", -7i64);
    info!("{}", core::str::from_utf8(line.as_bytes()).unwrap_or("?"));
    i32::from(line.as_bytes() == b"[   42|0xbeef|(1, 'c')|ab  |-7]")
}

/// Sorts 32 pseudo-random numbers and searches them; the sum of the three smallest.
#[export]
fn sorting() -> i32 {
    let mut v = [0u32; 32];
    let mut seed = black_box(12345u32);
    for slot in v.iter_mut() {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        *slot = (seed >> 16) % 1000;
    }
    v.sort_unstable();
    let sorted = v.windows(2).all(|w| w[0] <= w[1]);
    let found = v.binary_search(&v[17]).is_ok();
    if !(sorted && found) {
        return -1;
    }
    (v[0] + v[1] + v[2]) as i32
}

/// Iterators and a closure capturing a local: squares of even numbers up to 10, plus 1000.
#[export]
fn iterators() -> i32 {
    let offset = black_box(1000);
    let add = |x: u32| x + offset;
    add((1..=10u32).filter(|x| x % 2 == 0).map(|x| x * x).sum())
        .try_into()
        .unwrap_or(-1)
}

/// Counts calls in a static (with a read-modify-write atomic where the target has one).
#[export]
fn count() -> i32 {
    #[cfg(target_has_atomic = "32")]
    let n = CALLS.fetch_add(1, Ordering::Relaxed) + 1;
    #[cfg(not(target_has_atomic = "32"))]
    let n = {
        let n = CALLS.load(Ordering::Relaxed) + 1;
        CALLS.store(n, Ordering::Relaxed);
        n
    };
    n as i32
}

trait Shape {
    fn area(&self) -> u32;
    fn name(&self) -> &'static str;
}

struct Square(u32);
struct Rect(u32, u32);

impl Shape for Square {
    fn area(&self) -> u32 {
        self.0 * self.0
    }
    fn name(&self) -> &'static str {
        "square"
    }
}

impl Shape for Rect {
    fn area(&self) -> u32 {
        self.0 * self.1
    }
    fn name(&self) -> &'static str {
        "rect"
    }
}

/// Calls through trait objects; the total area.
#[export]
fn shapes() -> i32 {
    let shapes: [&dyn Shape; 3] = [&Square(3), &Rect(2, 5), black_box(&Square(4))];
    for s in shapes {
        info!("{} {}", s.name(), s.area());
    }
    shapes.iter().map(|s| s.area()).sum::<u32>() as i32
}

/// For another extension to call.
#[export]
fn features_add(a: i32, b: i32) -> i32 {
    a + b
}

/// Greets through the firmware API.
#[entry]
fn main() -> i32 {
    let mut name = [0u8; 32];
    let name = llext_sdk::device_name(&mut name);
    info!(
        "hello from Rust on {name}, {} ms after start",
        llext_sdk::uptime_ms()
    );
    7
}
