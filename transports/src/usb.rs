//! USB CDC-ACM as a device link: `embassy-usb`'s class, with transfers ended by a short or
//! zero-length packet after every frame.
//!
//! The class moves packets of at most the endpoint's max packet size (MPS). A USB host only
//! hands data to the application when a transfer ends, that is on a packet shorter than MPS; a
//! frame whose length is a multiple of MPS is therefore followed by a zero-length packet, sent by
//! [`CdcAcmLink`]'s `flush` (the server flushes after every frame).

use embassy_usb::class::cdc_acm::{BufferedReceiver, CdcAcmClass, CdcAcmError, Sender};
use embassy_usb::driver::{Driver, EndpointError};
use embedded_io_async::{ErrorType, Read, Write};

/// A CDC-ACM class seen as an `embedded_io_async` link for [`crate::server::Device::serve`].
pub struct CdcAcmLink<'d, D: Driver<'d>> {
    tx: Sender<'d, D>,
    rx: BufferedReceiver<'d, D>,
    last_full: bool,
}

impl<'d, D: Driver<'d>> CdcAcmLink<'d, D> {
    /// Wraps `class`; `rx_buf` (at least the max packet size) holds one received packet.
    pub fn new(class: CdcAcmClass<'d, D>, rx_buf: &'d mut [u8]) -> Self {
        let (tx, rx) = class.split();
        Self {
            tx,
            rx: rx.into_buffered(rx_buf),
            last_full: false,
        }
    }

    /// Waits until the USB host has configured the interface (then `serve` can run).
    pub async fn wait_connection(&mut self) {
        self.rx.wait_connection().await;
    }

    /// The max packet size of the endpoints.
    pub fn max_packet_size(&self) -> u16 {
        self.tx.max_packet_size()
    }
}

fn err(e: EndpointError) -> CdcAcmError {
    match e {
        // Packets are never larger than the max packet size here.
        EndpointError::BufferOverflow | EndpointError::Disabled => CdcAcmError::NotConnected,
    }
}

impl<'d, D: Driver<'d>> ErrorType for CdcAcmLink<'d, D> {
    type Error = CdcAcmError;
}

impl<'d, D: Driver<'d>> Read for CdcAcmLink<'d, D> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, CdcAcmError> {
        self.rx.read(buf).await
    }
}

impl<'d, D: Driver<'d>> Write for CdcAcmLink<'d, D> {
    /// Sends one packet: up to the max packet size bytes of `buf`.
    async fn write(&mut self, buf: &[u8]) -> Result<usize, CdcAcmError> {
        let n = buf.len().min(self.tx.max_packet_size() as usize);
        self.tx.write_packet(&buf[..n]).await.map_err(err)?;
        self.last_full = n == self.tx.max_packet_size() as usize;
        Ok(n)
    }

    /// Ends the transfer: a zero-length packet if the last packet was full.
    async fn flush(&mut self) -> Result<(), CdcAcmError> {
        if self.last_full {
            self.tx.write_packet(&[]).await.map_err(err)?;
            self.last_full = false;
        }
        Ok(())
    }
}
