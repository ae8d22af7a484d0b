//! llext device firmware for QEMU's RISC-V virt board (RV32IMAC): the protocol server and the
//! loader over the NS16550 UART, extensions in a pool in RAM, installs in the CFI flash.
#![no_std]
#![no_main]

#[cfg(feature = "loader")]
mod fault;
#[cfg(feature = "flash")]
mod flash;
#[cfg(feature = "flash")]
mod store;
mod time;
mod uart;
#[cfg(feature = "bench-xip")]
mod xip_bench;

use core::fmt::Write as _;
use core::panic::PanicInfo;

use embassy_executor::Spawner;

use crate::uart::Uart;

#[cfg(feature = "loader")]
mod device {
    use core::mem::MaybeUninit;

    use llext_loader::memory::PoolProvider;
    #[cfg(feature = "flash")]
    use llext_transports::server::DEFAULT_FRAME;
    use llext_transports::server::{Device, DeviceInfo, Guard};
    use qemu_common::log::Logs;
    use qemu_common::measure::Measured;

    use crate::time;
    use crate::uart::Uart;

    /// Extension memory.
    const POOL_SIZE: usize = 8 << 20;

    static mut POOL: [MaybeUninit<u8>; POOL_SIZE] = [MaybeUninit::uninit(); POOL_SIZE];

    /// Serves hosts over `uart` forever.
    pub async fn run(uart: Uart) -> ! {
        qemu_common::measure::set_counter(time::instret);
        // SAFETY: `run` is called once; nothing else refers to POOL.
        let pool = unsafe { &mut *core::ptr::addr_of_mut!(POOL) };
        qemu_common::api::set_name("riscv32-virt");
        let info = DeviceInfo {
            name: "riscv32-virt",
            float_abi: Some("soft"),
            exports: qemu_common::exports::EXPORTS,
        };
        #[cfg_attr(not(feature = "bench"), allow(unused_mut))]
        let mut memory = Measured(PoolProvider::new(pool));
        #[cfg(feature = "bench-xip")]
        let xip_figures = crate::xip_bench::run(&mut memory.0).await;
        #[cfg(feature = "bench")]
        let uart = {
            let mut uart = uart;
            // Bytes a host sends meanwhile wait: no receive interrupt inside the count.
            uart.pause_rx();
            let outcome = qemu_common::bench::run(&mut memory.0, time::instret).await;
            uart.resume_rx();
            #[cfg(feature = "bench-xip")]
            let outcome = crate::xip_bench::Both(outcome, xip_figures);
            qemu_common::bench::Announce::new(uart, outcome)
        };
        let mut link = uart;
        // Faults with the PC in the pool or the flash (extension code, in place with `--xip`)
        // end the call, not the firmware.
        let lo = core::ptr::addr_of!(POOL) as usize;
        #[cfg(feature = "flash")]
        let xip = crate::flash::BASE..crate::flash::BASE + crate::flash::CAPACITY;
        #[cfg(not(feature = "flash"))]
        let xip = 0..0;
        qemu_common::fault::init(&[lo..lo + POOL_SIZE, xip]);
        let config = llext_transports::server::Config {
            guard: Some(Guard::new(qemu_common::fault::guarded)),
            ..qemu_common::trust::config()
        };
        #[cfg(not(feature = "flash"))]
        let mut device: Device<_, _, 8> = Device::new(memory, info, config, Logs);
        #[cfg(feature = "flash")]
        let mut device: Device<_, _, 8, DEFAULT_FRAME, _> = {
            let store = crate::store::open().await;
            let mut device = Device::with_store(memory, info, config, Logs, store);
            let booted = device.boot().await;
            crate::store::report(device.store(), booted);
            device
        };
        loop {
            let _ = device.serve(&mut link).await;
        }
    }
}

/// Without the loader: the same board support, echoing the UART (the size baseline).
#[cfg(not(feature = "loader"))]
mod device {
    use embedded_io_async::{Read, Write};

    use crate::uart::Uart;

    pub async fn run(mut uart: Uart) -> ! {
        let mut buf = [0u8; 64];
        loop {
            let n = uart.read(&mut buf).await.unwrap_or(0);
            let _ = uart.write_all(&buf[..n]).await;
        }
    }
}

#[embassy_executor::main]
async fn main(_spawner: Spawner) {
    time::init();
    let uart = Uart::new();
    // SAFETY: interrupts are enabled once their handlers' state is set up (above).
    unsafe { riscv::interrupt::enable() };
    device::run(uart).await
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    riscv::interrupt::disable();
    let _ = write!(uart::PanicWriter, "\r\nfirmware panic: {info}\r\n");
    loop {
        riscv::asm::wfi();
    }
}
