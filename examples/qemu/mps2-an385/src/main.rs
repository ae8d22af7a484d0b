//! llext device firmware for QEMU's mps2-an385 (Cortex-M3): the protocol server and the loader
//! over the CMSDK UART0, extensions in a pool in data SSRAM (`0x2000_0000`+), the firmware in
//! code SSRAM at 0, so extension calls into it go through veneers.
#![no_std]
#![no_main]

mod irq;
mod time;
mod uart;

use core::fmt::Write as _;
use core::panic::PanicInfo;

use embassy_executor::Spawner;

use crate::uart::Uart;

#[cfg(feature = "loader")]
mod device {
    use core::mem::MaybeUninit;

    use llext_loader::memory::PoolProvider;
    use llext_transports::server::{Device, DeviceInfo, Guard};
    use qemu_common::log::Logs;
    use qemu_common::measure::Measured;

    use crate::uart::Uart;

    /// Extension memory.
    const POOL_SIZE: usize = 3 << 20;

    #[unsafe(link_section = ".uninit.POOL")]
    static mut POOL: [MaybeUninit<u8>; POOL_SIZE] = [MaybeUninit::uninit(); POOL_SIZE];

    /// Serves hosts over `uart` forever.
    pub async fn run(uart: Uart) -> ! {
        qemu_common::measure::set_counter(crate::time::core_clocks);
        // SAFETY: `run` is called once; nothing else refers to POOL.
        let pool = unsafe { &mut *core::ptr::addr_of_mut!(POOL) };
        qemu_common::api::set_name("mps2-an385");
        let info = DeviceInfo {
            name: "mps2-an385",
            float_abi: Some("soft"),
            exports: qemu_common::exports::EXPORTS,
        };
        #[cfg_attr(not(feature = "bench"), allow(unused_mut))]
        let mut memory = Measured(PoolProvider::new(pool));
        #[cfg(feature = "bench")]
        let uart = {
            let mut uart = uart;
            // Bytes a host sends meanwhile wait: no receive interrupt inside the count.
            uart.pause_rx();
            let insns = crate::time::guest_instructions;
            let outcome = qemu_common::bench::run(&mut memory.0, insns).await;
            uart.resume_rx();
            qemu_common::bench::Announce::new(uart, outcome)
        };
        let mut link = uart;
        // Faults with the PC in the pool (extension code) end the call, not the firmware.
        let lo = core::ptr::addr_of!(POOL) as usize;
        qemu_common::fault::init(core::slice::from_ref(&(lo..lo + POOL_SIZE)));
        let config = llext_transports::server::Config {
            guard: Some(Guard::new(qemu_common::fault::guarded)),
            ..qemu_common::trust::config()
        };
        let mut device: Device<_, _, 8> = Device::new(memory, info, config, Logs);
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
    let p = cortex_m::Peripherals::take().unwrap();
    time::init(p.SYST);
    device::run(Uart::new()).await
}

#[panic_handler]
fn panic(info: &PanicInfo) -> ! {
    cortex_m::interrupt::disable();
    let _ = write!(uart::PanicWriter, "\r\nfirmware panic: {info}\r\n");
    loop {
        cortex_m::asm::wfi();
    }
}
