//! A minimal Cortex-M3 firmware. With the `loader` feature it loads an extension from a byte
//! stream into a static pool and calls it; without, it only spins. The difference in text size
//! is what the loader costs (docs/PERFORMANCE.md).
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use panic_halt as _;

#[cfg(feature = "loader")]
mod with_loader {
    use core::mem::MaybeUninit;
    use llext_loader::memory::PoolProvider;
    use llext_loader::source::StreamSource;
    use llext_loader::{LoadParams, Registry, exports};

    extern "C" fn fw_puts(_s: *const u8) -> i32 {
        0
    }

    static mut POOL: [MaybeUninit<u8>; 16 * 1024] = [MaybeUninit::uninit(); 16 * 1024];

    /// The state a caller keeps for a load (the loader's own promise: at most 1 KiB here).
    const STATE: usize = size_of::<
        llext_loader::load::Loader<
            'static,
            PoolProvider,
            llext_loader::symbols::ExportTable,
            llext_loader::load::Streamed,
        >,
    >();
    const _: () = assert!(STATE <= 1024, "the loader's state grew past 1 KiB");

    /// Loads whatever `bytes` holds and calls its `main`.
    pub fn run(bytes: &'static [u8]) -> i32 {
        // SAFETY: `run` is called once, from `main`, before anything else touches POOL.
        let pool = unsafe { &mut *core::ptr::addr_of_mut!(POOL) };
        let mut reg = Registry::<_, _, 4>::new(PoolProvider::new(pool), exports!["puts" => fw_puts]);
        let mut src = StreamSource::new(bytes);
        let params = LoadParams::default();
        let mut report = |_: llext_loader::Report<'_>| {};
        let slot = {
            let fut = reg.load("ext", &mut src, &params, &mut report);
            let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
            let mut fut = core::pin::pin!(fut);
            loop {
                if let core::task::Poll::Ready(r) = fut.as_mut().poll(&mut cx) {
                    break r;
                }
            }
        };
        let Ok(slot) = slot else { return -1 };
        let r = match reg.get(slot).and_then(|e| e.find_symbol("main")) {
            // SAFETY: the extension was built for this firmware; calling it is the point.
            Some(addr) => unsafe { llext_loader::extension::call_int(addr) },
            None => -2,
        };
        let _ = reg.unload(slot);
        r
    }
}

#[entry]
fn main() -> ! {
    #[cfg(feature = "loader")]
    {
        // The bytes would come from a UART; here they sit in flash (opaque to the optimiser).
        static EXT: [u8; 64] = [0; 64];
        let r = with_loader::run(core::hint::black_box(&EXT));
        core::hint::black_box(r);
    }
    loop {
        cortex_m::asm::nop();
    }
}
