//! The host's side of a link: a serial port (`/dev/ttyACM0`, `/dev/pts/3`) or `tcp:HOST:PORT`.

use std::boxed::Box;
use std::io::{self, Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs};
use std::string::{String, ToString};
use std::time::Duration;

use super::ClientError;

/// A byte link to a device, as the client uses it.
pub trait Link: Send {
    /// Writes all of `bytes`.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Reads what has arrived, waiting up to `timeout` (zero: do not wait). `Ok(0)` when nothing
    /// arrived; an `UnexpectedEof` error when the link is closed.
    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
    /// Drops bytes received but not yet read (stale answers from before this client).
    fn discard_input(&mut self) {}
}

/// How to open a port.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// Baud rate of a serial port (ignored by USB CDC-ACM, ptys and TCP).
    pub baud: u32,
    /// How long to wait for a TCP connection.
    pub connect_timeout: Duration,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self {
            baud: 115_200,
            connect_timeout: Duration::from_secs(3),
        }
    }
}

/// Opens `port`: `tcp:HOST:PORT`, or the path of a serial device.
pub fn open(port: &str, opts: &OpenOptions) -> Result<Box<dyn Link>, ClientError> {
    let err = |source| ClientError::Open {
        port: port.to_string(),
        source,
    };
    if let Some(addr) = port.strip_prefix("tcp:") {
        let addrs = addr.to_socket_addrs().map_err(err)?;
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        for a in addrs {
            match TcpStream::connect_timeout(&a, opts.connect_timeout) {
                Ok(s) => {
                    s.set_nodelay(true).map_err(err)?;
                    return Ok(Box::new(TcpLink::new(s)));
                }
                Err(e) => last = e,
            }
        }
        return Err(err(last));
    }
    let p = serialport::new(port, opts.baud)
        .timeout(Duration::from_secs(5))
        .open()
        .map_err(|e| err(io::Error::from(e)))?;
    Ok(Box::new(SerialLink { port: p }))
}

/// A TCP connection (to `sim-device`, or a firmware behind a TCP bridge).
pub struct TcpLink {
    stream: TcpStream,
    nonblocking: bool,
    timeout: Option<Duration>,
}

impl TcpLink {
    /// Wraps a connected stream.
    pub fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            nonblocking: false,
            timeout: None,
        }
    }

    fn mode(&mut self, nonblocking: bool) -> io::Result<()> {
        if self.nonblocking != nonblocking {
            self.stream.set_nonblocking(nonblocking)?;
            self.nonblocking = nonblocking;
        }
        Ok(())
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "link closed")
}

impl Link for TcpLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.mode(false)?;
        if self.timeout.is_some() {
            self.stream.set_read_timeout(None)?;
            self.timeout = None;
        }
        self.stream.write_all(bytes)
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if timeout.is_zero() {
            self.mode(true)?;
        } else {
            self.mode(false)?;
            if self.timeout != Some(timeout) {
                self.stream.set_read_timeout(Some(timeout))?;
                self.timeout = Some(timeout);
            }
        }
        match self.stream.read(buf) {
            Ok(0) => Err(closed()),
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }
}

/// A serial port: a UART adapter, a USB CDC-ACM device, a pty.
pub struct SerialLink {
    port: Box<dyn serialport::SerialPort>,
}

impl Link for SerialLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.port.set_timeout(Duration::from_secs(5))?;
        self.port.write_all(bytes)?;
        self.port.flush()
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if timeout.is_zero() && self.port.bytes_to_read()? == 0 {
            return Ok(0);
        }
        self.port
            .set_timeout(timeout.max(Duration::from_millis(1)))?;
        match self.port.read(buf) {
            Ok(0) => Err(closed()),
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    fn discard_input(&mut self) {
        let _ = self.port.clear(serialport::ClearBuffer::Input);
    }
}

/// The name shown for a port in messages.
pub(crate) fn port_name(port: &str) -> String {
    port.to_string()
}
