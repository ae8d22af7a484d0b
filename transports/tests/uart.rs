//! The device server over a UART: any `embedded_io_async::Read + Write`. The double here
//! delivers bytes in small random chunks, as a UART driver's ring buffer does, and accepts at
//! most a FIFO's worth per write.

mod common;

use std::rc::Rc;

use common::{HostEnd, LIB, Queue, RawHost, Shared, build, device, run_with, scenario};
use embedded_io_async::{ErrorType, Read, Write};

struct Uart {
    rx: Shared<u8>,
    tx: Shared<u8>,
    rng: u32,
}

impl ErrorType for Uart {
    type Error = core::convert::Infallible;
}

impl Read for Uart {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 17;
        self.rng ^= self.rng << 5;
        let max = 1 + (self.rng % 48) as usize;
        let bytes = self.rx.take(max.min(buf.len())).await;
        buf[..bytes.len()].copy_from_slice(&bytes);
        Ok(bytes.len())
    }
}

impl Write for Uart {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(16);
        for &b in &buf[..n] {
            self.tx.push(b);
        }
        Ok(n)
    }

    async fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

struct UartHost {
    to_device: Shared<u8>,
    from_device: Shared<u8>,
}

impl HostEnd for UartHost {
    async fn send(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.to_device.push(b);
        }
    }

    async fn recv(&mut self) -> Vec<u8> {
        self.from_device.take(4096).await
    }
}

#[test]
fn serves_push_call_status_and_unload_over_a_uart() {
    let image = build("uart_lib", LIB);
    let (down, up) = (Rc::new(Queue::default()), Rc::new(Queue::default()));
    let uart = Uart {
        rx: down.clone(),
        tx: up.clone(),
        rng: 0x1234_5678,
    };
    let mut host = RawHost::new(UartHost {
        to_device: down,
        from_device: up,
    });
    let mut dev = device();
    run_with(&mut dev, uart, async { scenario(&mut host, &image).await });
    assert_eq!(dev.registry().iter().count(), 0);
}
