//! The virt board's NS16550 UART as an `embedded_io_async` link: receive by interrupt (PLIC
//! source 10) into a ring, with the waiting reader woken by the interrupt; transmit by waiting
//! for an empty holding register.

use core::cell::RefCell;
use core::convert::Infallible;
use core::future::poll_fn;
use core::ptr::{read_volatile, write_volatile};
use core::task::Poll;

use critical_section::Mutex;
use embassy_sync::waitqueue::AtomicWaker;
use embedded_io_async::{ErrorType, Read, Write};
use riscv::interrupt::Interrupt;

const BASE: usize = 0x1000_0000;
const RBR_THR: usize = BASE;
const IER: usize = BASE + 1;
const FCR: usize = BASE + 2;
const LSR: usize = BASE + 5;
const LSR_DR: u8 = 1 << 0;
const LSR_THRE: u8 = 1 << 5;

const PLIC: usize = 0x0c00_0000;
const UART_IRQ: usize = 10;
const PLIC_ENABLE_CTX0: usize = PLIC + 0x2000;
const PLIC_THRESHOLD_CTX0: usize = PLIC + 0x20_0000;
const PLIC_CLAIM_CTX0: usize = PLIC + 0x20_0004;

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

fn reg8(addr: usize) -> u8 {
    // SAFETY: `addr` is a UART register; this module alone drives the UART.
    unsafe { read_volatile(addr as *const u8) }
}

fn set8(addr: usize, v: u8) {
    // SAFETY: as for `reg8`.
    unsafe { write_volatile(addr as *mut u8, v) }
}

fn set32(addr: usize, v: u32) {
    // SAFETY: `addr` is a PLIC register of hart 0's machine context, set up only here.
    unsafe { write_volatile(addr as *mut u32, v) }
}

fn get32(addr: usize) -> u32 {
    // SAFETY: as for `set32`.
    unsafe { read_volatile(addr as *const u32) }
}

/// The UART, owned by the protocol server.
pub struct Uart(());

impl Uart {
    /// Enables the FIFO, the receive interrupt and its PLIC source.
    pub fn new() -> Self {
        set8(FCR, 0x07);
        set8(IER, 0x01);
        set32(PLIC + 4 * UART_IRQ, 1);
        set32(PLIC_ENABLE_CTX0, 1 << UART_IRQ);
        set32(PLIC_THRESHOLD_CTX0, 0);
        // SAFETY: the handler only touches RX under a critical section.
        unsafe { riscv::register::mie::set_mext() };
        Uart(())
    }

    /// Leaves received bytes in the UART's FIFO (and QEMU's character device): no receive
    /// interrupt until [`Uart::resume_rx`].
    #[cfg(feature = "bench")]
    pub fn pause_rx(&mut self) {
        // SAFETY: only masks the external interrupt.
        unsafe { riscv::register::mie::clear_mext() };
    }

    /// Takes the receive interrupt again.
    #[cfg(feature = "bench")]
    pub fn resume_rx(&mut self) {
        // SAFETY: as in `new`.
        unsafe { riscv::register::mie::set_mext() };
    }
}

/// Moves bytes waiting in the UART into the ring while it has room. Bytes left in the UART
/// hold QEMU's character device back until the reader makes room: no byte is lost.
fn drain(rx: &mut Rx) {
    while rx.len < RING && reg8(LSR) & LSR_DR != 0 {
        let at = (rx.head + rx.len) % RING;
        rx.buf[at] = reg8(RBR_THR);
        rx.len += 1;
    }
    // With the ring full, stop the interrupt until the reader drains (it re-enables it).
    set8(IER, if rx.len < RING { 0x01 } else { 0x00 });
}

#[riscv_rt::core_interrupt(Interrupt::MachineExternal)]
fn machine_external() {
    let irq = get32(PLIC_CLAIM_CTX0);
    if irq as usize == UART_IRQ {
        critical_section::with(|cs| drain(&mut RX.borrow_ref_mut(cs)));
        RX_WAKER.wake();
    }
    if irq != 0 {
        set32(PLIC_CLAIM_CTX0, irq);
    }
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
                drain(&mut rx);
                Poll::Ready(Ok(n))
            })
        })
        .await
    }
}

fn put(b: u8) {
    while reg8(LSR) & LSR_THRE == 0 {}
    set8(RBR_THR, b);
}

impl Write for Uart {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        buf.iter().for_each(|&b| put(b));
        Ok(buf.len())
    }

    async fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// Writes straight to the UART, for the panic handler.
pub struct PanicWriter;

impl core::fmt::Write for PanicWriter {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        s.bytes().for_each(put);
        Ok(())
    }
}
