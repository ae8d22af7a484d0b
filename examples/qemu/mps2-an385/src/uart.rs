//! The CMSDK APB UART0 as an `embedded_io_async` link: receive by interrupt into a ring, with
//! the waiting reader woken by the interrupt; transmit by waiting for room in the one-byte
//! transmit register.

use core::cell::RefCell;
use core::convert::Infallible;
use core::future::poll_fn;
use core::ptr::{read_volatile, write_volatile};
use core::task::Poll;

use critical_section::Mutex;
use embassy_sync::waitqueue::AtomicWaker;
use embedded_io_async::{ErrorType, Read, Write};

use crate::irq::UART0_RX;

const BASE: usize = 0x4000_4000;
const DATA: usize = BASE;
const STATE: usize = BASE + 0x04;
const CTRL: usize = BASE + 0x08;
const INTCLEAR: usize = BASE + 0x0c;
const BAUDDIV: usize = BASE + 0x10;

const STATE_TX_FULL: u32 = 1 << 0;
const STATE_RX_FULL: u32 = 1 << 1;
const CTRL_TX_EN: u32 = 1 << 0;
const CTRL_RX_EN: u32 = 1 << 1;
const CTRL_RX_INT: u32 = 1 << 3;
const INT_RX: u32 = 1 << 1;

/// Received bytes not yet read; more than the host's push window.
const RING: usize = 8192;

struct Rx {
    buf: [u8; RING],
    head: usize,
    len: usize,
}

static RX: Mutex<RefCell<Rx>> = Mutex::new(RefCell::new(Rx {
    buf: [0; RING],
    head: 0,
    len: 0,
}));
static RX_WAKER: AtomicWaker = AtomicWaker::new();

fn reg_read(addr: usize) -> u32 {
    // SAFETY: `addr` is a register of UART0, which this module alone drives.
    unsafe { read_volatile(addr as *const u32) }
}

fn reg_write(addr: usize, v: u32) {
    // SAFETY: as for `reg_read`.
    unsafe { write_volatile(addr as *mut u32, v) }
}

/// UART0, owned by the protocol server.
pub struct Uart(());

impl Uart {
    /// Enables UART0 with its receive interrupt.
    pub fn new() -> Self {
        // QEMU's model refuses to run with a divider below 16.
        reg_write(BAUDDIV, 16);
        reg_write(CTRL, CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INT);
        // SAFETY: the handler (`on_rx_interrupt`) only touches RX under a critical section.
        unsafe { cortex_m::peripheral::NVIC::unmask(UART0_RX) };
        Uart(())
    }

    /// Leaves received bytes in the UART (and QEMU's character device): no receive interrupt
    /// until [`Uart::resume_rx`].
    #[cfg(feature = "bench")]
    pub fn pause_rx(&mut self) {
        cortex_m::peripheral::NVIC::mask(UART0_RX);
    }

    /// Takes the receive interrupt again.
    #[cfg(feature = "bench")]
    pub fn resume_rx(&mut self) {
        // SAFETY: as in `new`.
        unsafe { cortex_m::peripheral::NVIC::unmask(UART0_RX) };
    }
}

/// Moves bytes waiting in the UART into the ring while it has room. A byte left in the UART
/// holds QEMU's character device back until the reader makes room: no byte is lost.
fn drain(rx: &mut Rx) {
    while rx.len < RING && reg_read(STATE) & STATE_RX_FULL != 0 {
        let at = (rx.head + rx.len) % RING;
        rx.buf[at] = reg_read(DATA) as u8;
        rx.len += 1;
    }
}

/// UART0 receive interrupt: moves the waiting bytes into the ring and wakes the reader.
pub extern "C" fn on_rx_interrupt() {
    critical_section::with(|cs| {
        // Cleared first: a byte arriving while draining raises the interrupt again.
        reg_write(INTCLEAR, INT_RX);
        drain(&mut RX.borrow_ref_mut(cs));
    });
    RX_WAKER.wake();
}

impl ErrorType for Uart {
    type Error = Infallible;
}

impl Read for Uart {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        if buf.is_empty() {
            return Ok(0);
        }
        poll_fn(|cx| {
            RX_WAKER.register(cx.waker());
            critical_section::with(|cs| {
                let mut rx = RX.borrow_ref_mut(cs);
                if rx.len == 0 {
                    return Poll::Pending;
                }
                let n = buf.len().min(rx.len);
                for b in buf[..n].iter_mut() {
                    *b = rx.buf[rx.head];
                    rx.head = (rx.head + 1) % RING;
                }
                rx.len -= n;
                // Room again: take a byte the interrupt left in the UART.
                drain(&mut rx);
                Poll::Ready(Ok(n))
            })
        })
        .await
    }
}

impl Write for Uart {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        for &b in buf {
            while reg_read(STATE) & STATE_TX_FULL != 0 {}
            reg_write(DATA, b as u32);
        }
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// Writes straight to UART0, for the panic handler.
pub struct PanicWriter;

impl core::fmt::Write for PanicWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for b in s.bytes() {
            while reg_read(STATE) & STATE_TX_FULL != 0 {}
            reg_write(DATA, b as u32);
        }
        Ok(())
    }
}
