//! What can go wrong talking to a device, each saying the cause and what to do.

use std::fmt;
use std::io;
use std::string::String;
use std::time::Duration;

use crate::protocol::{Cause, ErrorCode, FaultReport};

/// A failed client operation.
#[derive(Debug)]
pub enum ClientError {
    /// The port could not be opened.
    Open {
        /// The port as given.
        port: String,
        /// Why.
        source: io::Error,
    },
    /// Nothing answered `Hello`.
    NoAnswer {
        /// The port.
        port: String,
        /// How long the client waited.
        waited: Duration,
    },
    /// The device speaks another protocol version.
    VersionMismatch {
        /// The device's version.
        device: u16,
        /// This library's version.
        host: u16,
    },
    /// The device refused or failed the request, for `cause` (its `Display` gives the words).
    Device {
        /// The error code.
        code: ErrorCode,
        /// What happened, as the device sent it.
        cause: Cause<String>,
    },
    /// The device answered `Hello` but stopped answering during an operation.
    Timeout {
        /// What was going on (`push`, `call`...).
        what: &'static str,
        /// The port.
        port: String,
        /// How long the client waited.
        waited: Duration,
    },
    /// The link closed (TCP connection closed, serial device gone).
    Disconnected {
        /// The port.
        port: String,
    },
    /// Reading or writing the port failed.
    Io {
        /// The port.
        port: String,
        /// Why.
        source: io::Error,
    },
    /// The file is larger than a push can carry (4 GiB).
    TooLarge {
        /// Its size.
        len: usize,
    },
    /// The call faulted; the device contained the fault and marked the extension faulted.
    Faulted(FaultReport),
    /// The device answered with an error this side cannot read: a cause or code a newer
    /// firmware added, or an answer damaged in a way its CRC did not catch.
    Unreadable {
        /// The port.
        port: String,
    },
}

impl ClientError {
    /// The device's error code, when the device reported the error.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Device { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Open { port, source } => write!(
                f,
                "cannot open {port}: {source} (check the port: a serial device such as /dev/ttyACM0, or tcp:HOST:PORT for sim-device)"
            ),
            ClientError::NoAnswer { port, waited } => write!(
                f,
                "no device answered on {port} within {:.1} s: check that the firmware (or sim-device) is running, that this is its port, the baud rate, and that no other host holds it (a device serves one host at a time)",
                waited.as_secs_f64()
            ),
            ClientError::VersionMismatch { device, host } => write!(
                f,
                "protocol version mismatch: the device speaks version {device}, this host speaks version {host}; update the older side"
            ),
            ClientError::Device { cause, .. } => cause.fmt(f),
            ClientError::Timeout { what, port, waited } => write!(
                f,
                "the device on {port} stopped answering during {what} (nothing for {:.1} s): the link may be broken or the device may have crashed",
                waited.as_secs_f64()
            ),
            ClientError::Disconnected { port } => {
                write!(f, "the connection to {port} was closed by the other side")
            }
            ClientError::Io { port, source } => write!(f, "{port}: {source}"),
            ClientError::TooLarge { len } => {
                write!(f, "{len} bytes is too large to push (at most 4 GiB)")
            }
            ClientError::Unreadable { port } => write!(
                f,
                "the device on {port} answered with an error this host cannot read (a newer firmware?): update host-push"
            ),
            ClientError::Faulted(r) => {
                write!(
                    f,
                    "the extension faulted ({}) at pc {:#010x}",
                    r.kind.name(),
                    r.pc
                )?;
                if let Some(k) = r.region {
                    write!(f, " ({}+{:#x})", k.name(), r.offset)?;
                }
                write!(f, ", lr {:#010x}, sp {:#010x}", r.lr, r.sp)?;
                if let Some(a) = r.addr {
                    write!(f, ", address {a:#010x}")?;
                }
                write!(
                    f,
                    "; the device marked it faulted: unload it or push it again"
                )
            }
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ClientError::Open { source, .. } | ClientError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
