//! llext device firmware for a Raspberry Pi Pico (RP2040): the protocol server and the loader
//! (Thumb back-end only) over native USB CDC-ACM, extensions in a 128 KiB pool in SRAM.
#![no_std]
#![no_main]

mod exports;

use core::mem::MaybeUninit;
use core::panic::PanicInfo;

use embassy_executor::Spawner;
use embassy_futures::join::join;
use embassy_rp::gpio::{Level, Output};
use embassy_rp::peripherals::USB;
use embassy_rp::usb::{Driver, InterruptHandler};
use embassy_usb::class::cdc_acm::{CdcAcmClass, State};
use embassy_usb::{Builder, Config as UsbConfig};
use llext_loader::memory::PoolProvider;
use llext_transports::server::{Config, Device, DeviceInfo, NoLogs};
use llext_transports::usb::CdcAcmLink;

embassy_rp::bind_interrupts!(struct Irqs {
    USBCTRL_IRQ => InterruptHandler<USB>;
});

/// Extension memory.
const POOL_SIZE: usize = 128 << 10;
/// Full-speed bulk endpoints.
const MAX_PACKET: u16 = 64;

static mut POOL: [MaybeUninit<u8>; POOL_SIZE] = [MaybeUninit::uninit(); POOL_SIZE];

#[embassy_executor::main]
async fn main(_spawner: Spawner) {
    let p = embassy_rp::init(Default::default());
    exports::set_led(Output::new(p.PIN_25, Level::Low));

    let mut usb_config = UsbConfig::new(0x1209, 0x0001);
    usb_config.manufacturer = Some("llext");
    usb_config.product = Some("llext loader (RP2040)");
    usb_config.max_power = 100;
    usb_config.max_packet_size_0 = 64;

    let mut config_descriptor = [0; 256];
    let mut bos_descriptor = [0; 256];
    let mut control_buf = [0; 64];
    let mut rx_buf = [0; MAX_PACKET as usize];
    let mut state = State::new();
    let mut builder = Builder::new(
        Driver::new(p.USB, Irqs),
        usb_config,
        &mut config_descriptor,
        &mut bos_descriptor,
        &mut [],
        &mut control_buf,
    );
    let class = CdcAcmClass::new(&mut builder, &mut state, MAX_PACKET);
    let mut usb = builder.build();

    // SAFETY: `main` runs once; nothing else refers to POOL.
    let pool = unsafe { &mut *core::ptr::addr_of_mut!(POOL) };
    let info = DeviceInfo {
        name: "usb-board-rp2040",
        float_abi: Some("soft"),
        exports: exports::EXPORTS,
    };
    let mut device: Device<_, _, 4> =
        Device::new(PoolProvider::new(pool), info, Config::default(), NoLogs);
    let mut link = CdcAcmLink::new(class, &mut rx_buf);
    let serve = async {
        loop {
            link.wait_connection().await;
            let _ = device.serve(&mut link).await;
        }
    };
    join(usb.run(), serve).await;
}

#[panic_handler]
fn panic(_info: &PanicInfo) -> ! {
    cortex_m::interrupt::disable();
    loop {
        cortex_m::asm::wfi();
    }
}
