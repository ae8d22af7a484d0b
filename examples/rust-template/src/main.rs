//! Not the extension (that is the library): a stub so that `cargo run` builds something and
//! hands it to the runner, `host-push run`, which builds, pushes and runs the library.
#![no_std]
#![no_main]

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    loop {}
}

#[unsafe(no_mangle)]
extern "C" fn main() -> i32 {
    0
}

// For a PC target (sim-device): the C start-up code that calls `main` needs the C library.
#[cfg(target_os = "linux")]
#[link(name = "c")]
unsafe extern "C" {}
