//! The device part of the vector table: the CMSDK UART0 receive interrupt (IRQ 0), the rest
//! unused.

use cortex_m::interrupt::InterruptNumber;

/// An interrupt line of the board.
#[derive(Clone, Copy)]
pub struct Irq(pub u16);

// SAFETY: the numbers used are interrupt lines of the mps2-an385 (0..32).
unsafe impl InterruptNumber for Irq {
    fn number(self) -> u16 {
        self.0
    }
}

/// UART0 receive.
pub const UART0_RX: Irq = Irq(0);

unsafe extern "C" {
    fn DefaultHandler();
}

#[unsafe(link_section = ".vector_table.interrupts")]
#[unsafe(no_mangle)]
static __INTERRUPTS: [unsafe extern "C" fn(); 32] = {
    let mut v = [DefaultHandler as unsafe extern "C" fn(); 32];
    v[0] = crate::uart::on_rx_interrupt;
    v
};
