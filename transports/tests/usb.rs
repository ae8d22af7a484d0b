//! The device server over USB CDC-ACM: `embassy-usb`'s real `CdcAcmClass` on a fake
//! `embassy-usb-driver` whose endpoints move packets in memory. The fake checks what a USB
//! controller would (no packet larger than the max packet size, receive buffers large enough),
//! and the host side reassembles transfers as a USB host does: a transfer ends on a packet
//! shorter than the max packet size, possibly a zero-length one.

mod common;

use std::future::pending;
use std::rc::Rc;

use common::{HostEnd, LIB, Queue, RawHost, Shared, build, device, run_with, scenario};
// Links the host implementation of critical sections (embassy-sync, under embassy-usb, needs one).
use critical_section as _;
use embassy_usb::class::cdc_acm::{CdcAcmClass, State};
use embassy_usb::driver::{
    Bus, ControlPipe, Driver, Endpoint, EndpointAddress, EndpointAllocError, EndpointError,
    EndpointIn, EndpointInfo, EndpointOut, EndpointType, Event, Unsupported,
};
use embassy_usb::{Builder, Config};
use llext_transports::usb::CdcAcmLink;

const MPS: u16 = 64;

/// Packets from the host (OUT) and to the host (IN), for the bulk endpoints.
struct Wires {
    out: Shared<Vec<u8>>,
    inn: Shared<Vec<u8>>,
}

struct FakeDriver {
    wires: Rc<Wires>,
    next_ep: u8,
}

struct FakeOut {
    info: EndpointInfo,
    wires: Rc<Wires>,
    bulk: bool,
}

struct FakeIn {
    info: EndpointInfo,
    wires: Rc<Wires>,
    bulk: bool,
}

impl Endpoint for FakeOut {
    fn info(&self) -> &EndpointInfo {
        &self.info
    }
    async fn wait_enabled(&mut self) {}
}

impl EndpointOut for FakeOut {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, EndpointError> {
        if !self.bulk {
            return pending().await;
        }
        let p = self.wires.out.take(1).await.remove(0);
        assert!(p.len() <= self.info.max_packet_size as usize);
        if p.len() > buf.len() {
            return Err(EndpointError::BufferOverflow);
        }
        buf[..p.len()].copy_from_slice(&p);
        Ok(p.len())
    }
}

impl Endpoint for FakeIn {
    fn info(&self) -> &EndpointInfo {
        &self.info
    }
    async fn wait_enabled(&mut self) {}
}

impl EndpointIn for FakeIn {
    async fn write(&mut self, buf: &[u8]) -> Result<(), EndpointError> {
        if buf.len() > self.info.max_packet_size as usize {
            return Err(EndpointError::BufferOverflow);
        }
        if self.bulk {
            self.wires.inn.push(buf.to_vec());
        }
        Ok(())
    }
}

/// Never used: the test does not run the USB device's control task.
struct NoBus;
struct NoControl;

impl Bus for NoBus {
    async fn enable(&mut self) {}
    async fn disable(&mut self) {}
    async fn poll(&mut self) -> Event {
        pending().await
    }
    fn endpoint_set_enabled(&mut self, _: EndpointAddress, _: bool) {}
    fn endpoint_set_stalled(&mut self, _: EndpointAddress, _: bool) {}
    fn endpoint_is_stalled(&mut self, _: EndpointAddress) -> bool {
        false
    }
    async fn remote_wakeup(&mut self) -> Result<(), Unsupported> {
        Err(Unsupported)
    }
}

impl ControlPipe for NoControl {
    fn max_packet_size(&self) -> usize {
        64
    }
    async fn setup(&mut self) -> [u8; 8] {
        pending().await
    }
    async fn data_out(&mut self, _: &mut [u8], _: bool, _: bool) -> Result<usize, EndpointError> {
        pending().await
    }
    async fn data_in(&mut self, _: &[u8], _: bool, _: bool) -> Result<(), EndpointError> {
        pending().await
    }
    async fn accept(&mut self) {}
    async fn reject(&mut self) {}
    async fn accept_set_address(&mut self, _: u8) {}
}

impl<'a> Driver<'a> for FakeDriver {
    type EndpointOut = FakeOut;
    type EndpointIn = FakeIn;
    type ControlPipe = NoControl;
    type Bus = NoBus;

    fn alloc_endpoint_out(
        &mut self,
        ep_type: EndpointType,
        _addr: Option<EndpointAddress>,
        max_packet_size: u16,
        interval_ms: u8,
    ) -> Result<FakeOut, EndpointAllocError> {
        self.next_ep += 1;
        Ok(FakeOut {
            info: EndpointInfo {
                addr: EndpointAddress::from_parts(
                    self.next_ep as usize,
                    embassy_usb::driver::Direction::Out,
                ),
                ep_type,
                max_packet_size,
                interval_ms,
            },
            wires: self.wires.clone(),
            bulk: ep_type == EndpointType::Bulk,
        })
    }

    fn alloc_endpoint_in(
        &mut self,
        ep_type: EndpointType,
        _addr: Option<EndpointAddress>,
        max_packet_size: u16,
        interval_ms: u8,
    ) -> Result<FakeIn, EndpointAllocError> {
        self.next_ep += 1;
        Ok(FakeIn {
            info: EndpointInfo {
                addr: EndpointAddress::from_parts(
                    self.next_ep as usize,
                    embassy_usb::driver::Direction::In,
                ),
                ep_type,
                max_packet_size,
                interval_ms,
            },
            wires: self.wires.clone(),
            bulk: ep_type == EndpointType::Bulk,
        })
    }

    fn start(self, _control_max_packet_size: u16) -> (NoBus, NoControl) {
        (NoBus, NoControl)
    }
}

/// The USB host: writes transfers as packets (with a ZLP after a full last packet), reads
/// transfers, and records every transfer it received.
struct UsbHost {
    wires: Rc<Wires>,
    transfers: Vec<Vec<u8>>,
}

impl HostEnd for UsbHost {
    async fn send(&mut self, bytes: &[u8]) {
        for p in bytes.chunks(MPS as usize) {
            self.wires.out.push(p.to_vec());
        }
        if bytes.len().is_multiple_of(MPS as usize) {
            self.wires.out.push(Vec::new());
        }
    }

    async fn recv(&mut self) -> Vec<u8> {
        let mut transfer = Vec::new();
        loop {
            let p = self.wires.inn.take(1).await.remove(0);
            assert!(p.len() <= MPS as usize, "packet over the max packet size");
            transfer.extend_from_slice(&p);
            if p.len() < MPS as usize {
                self.transfers.push(transfer.clone());
                return transfer;
            }
        }
    }
}

/// A CDC-ACM link on the fake driver, and the wires its packets travel on.
fn usb_link() -> (CdcAcmLink<'static, FakeDriver>, Rc<Wires>) {
    let wires = Rc::new(Wires {
        out: Rc::new(Queue::default()),
        inn: Rc::new(Queue::default()),
    });
    let driver = FakeDriver {
        wires: wires.clone(),
        next_ep: 0,
    };
    // Buffers live as long as the USB device, as in a firmware (`static_cell` there).
    let buf = |n: usize| Box::leak(vec![0u8; n].into_boxed_slice());
    let mut builder = Builder::new(
        driver,
        Config::new(0x1209, 0x0001),
        buf(256),
        buf(256),
        buf(256),
        buf(64),
    );
    let class = CdcAcmClass::new(&mut builder, Box::leak(Box::new(State::new())), MPS);
    let link = CdcAcmLink::new(class, buf(MPS as usize));
    assert_eq!(link.max_packet_size(), MPS);
    (link, wires)
}

#[test]
fn serves_push_call_status_and_unload_over_usb_cdc_acm() {
    let image = build("usb_lib", LIB);
    let (link, wires) = usb_link();
    let mut host = RawHost::new(UsbHost {
        wires,
        transfers: Vec::new(),
    });
    let mut dev = device();
    run_with(&mut dev, link, async { scenario(&mut host, &image).await });
    let transfers = &host.io.transfers;
    assert!(!transfers.is_empty());
    // The device ends a transfer after every frame, so each one ends on a frame delimiter.
    for t in transfers {
        assert_eq!(t.last(), Some(&0), "a transfer ended inside a frame");
    }
}

#[test]
fn a_transfer_of_whole_packets_ends_with_a_zero_length_packet() {
    use embedded_io_async::Write;
    let (mut link, wires) = usb_link();
    futures::executor::block_on(async {
        link.write_all(&[7u8; 128]).await.unwrap();
        link.flush().await.unwrap();
        link.write_all(&[9u8; 100]).await.unwrap();
        link.flush().await.unwrap();
    });
    let sizes: Vec<usize> = futures::executor::block_on(wires.inn.take(100))
        .iter()
        .map(Vec::len)
        .collect();
    assert_eq!(sizes, [64, 64, 0, 64, 36]);
}
