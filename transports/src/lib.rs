//! Wire protocol, device server and device-side transports for `llext-loader`, and (feature
//! `std`) the host client that talks to them.
//!
//! - [`protocol`]: frames and messages, shared by both ends (`no_std`, no allocation).
//! - [`server`]: the device side, generic over any `embedded_io_async::Read + Write` link. A
//!   UART is such a link as it is (an `embassy-*` buffered UART, or any driver implementing the
//!   traits); USB CDC-ACM is adapted by [`usb`] (feature `usb`).
//! - `client` (feature `std`): the host side over a serial port or TCP.
#![no_std]
#![warn(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

pub mod protocol;
pub mod server;
#[cfg(feature = "usb")]
pub mod usb;

#[cfg(feature = "std")]
pub mod client;
#[cfg(feature = "std")]
pub mod host_io;
