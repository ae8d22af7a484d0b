//! Reaching a device: `--port`/`--baud`, finding the only USB serial port when `--port` is left
//! out, listing serial ports, and connecting with device log lines shown on stderr.

use std::io;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use clap::Args;
use llext_transports::client::{Client, DeviceInfo, Link, OpenOptions, open};
use serde_json::json;
use serialport::SerialPortType;

use crate::exit::{Failure, OTHER, UNREACHABLE};
use crate::output;

/// Where the device is.
#[derive(Debug, Args, Clone)]
pub struct DeviceArgs {
    /// Serial device (/dev/ttyACM0, /dev/pts/3) or tcp:HOST:PORT [default: the only USB serial port]
    #[arg(long, short = 'p', value_name = "PORT")]
    pub port: Option<String>,
    /// Baud rate of a UART (USB CDC-ACM, ptys and TCP ignore it)
    #[arg(long, default_value_t = 115_200, value_name = "BAUD")]
    pub baud: u32,
}

/// One serial port, as `ports` lists it.
#[derive(Debug)]
pub struct PortInfo {
    /// Device path.
    pub name: String,
    /// `usb`, `pci`, `bluetooth` or `unknown`.
    pub kind: &'static str,
    /// USB vendor id.
    pub vid: Option<u16>,
    /// USB product id.
    pub pid: Option<u16>,
    /// USB serial number.
    pub serial_number: Option<String>,
    /// USB manufacturer string.
    pub manufacturer: Option<String>,
    /// USB product string.
    pub product: Option<String>,
}

impl PortInfo {
    /// The port as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "name": self.name,
            "type": self.kind,
            "vid": self.vid,
            "pid": self.pid,
            "serial_number": self.serial_number,
            "manufacturer": self.manufacturer,
            "product": self.product,
        })
    }

    /// One line: `/dev/ttyACM0  USB 2e8a:000a  Raspberry Pi Pico (serial E6614C)`.
    pub fn describe(&self) -> String {
        let mut s = format!("{:<16} {}", self.name, self.kind.to_uppercase());
        if let (Some(v), Some(p)) = (self.vid, self.pid) {
            s += &format!(" {v:04x}:{p:04x}");
        }
        let words: Vec<&str> = [&self.manufacturer, &self.product]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        if !words.is_empty() {
            s += &format!("  {}", words.join(" "));
        }
        if let Some(sn) = &self.serial_number {
            s += &format!(" (serial {sn})");
        }
        s
    }
}

/// The serial ports of this machine (scanning /sys on Linux: no libudev needed).
pub fn ports() -> Result<Vec<PortInfo>, Failure> {
    // serialport panics when /sys/class/tty is missing (some containers): no ports, then.
    if cfg!(target_os = "linux") && !std::path::Path::new("/sys/class/tty").is_dir() {
        return Ok(Vec::new());
    }
    let found = serialport::available_ports()
        .map_err(|e| Failure::new(OTHER, format!("cannot list serial ports: {e}")))?;
    let mut out: Vec<PortInfo> = found
        .into_iter()
        .map(|p| {
            let mut info = PortInfo {
                name: p.port_name,
                kind: "unknown",
                vid: None,
                pid: None,
                serial_number: None,
                manufacturer: None,
                product: None,
            };
            match p.port_type {
                SerialPortType::UsbPort(u) => {
                    info.kind = "usb";
                    info.vid = Some(u.vid);
                    info.pid = Some(u.pid);
                    info.serial_number = u.serial_number;
                    info.manufacturer = u.manufacturer;
                    info.product = u.product;
                }
                SerialPortType::PciPort => info.kind = "pci",
                SerialPortType::BluetoothPort => info.kind = "bluetooth",
                SerialPortType::Unknown => {}
            }
            info
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// `--port`, or the only USB serial port (saying so on stderr).
pub fn resolve_port(args: &DeviceArgs) -> Result<String, Failure> {
    if let Some(p) = &args.port {
        return Ok(p.clone());
    }
    let usb = only_usb(ports()?)?;
    output::note(&format!(
        "using {}, the only USB serial port",
        usb.describe()
    ));
    Ok(usb.name)
}

/// The only USB port among `ports`; an error listing them when there are none or several.
fn only_usb(ports: Vec<PortInfo>) -> Result<PortInfo, Failure> {
    let mut usb: Vec<PortInfo> = ports.into_iter().filter(|p| p.kind == "usb").collect();
    match usb.len() {
        1 => Ok(usb.remove(0)),
        0 => Err(Failure::new(UNREACHABLE, "no USB serial port found").hint(
            "plug the device in, or pass --port PORT (a serial device such as /dev/ttyACM0, or tcp:HOST:PORT for sim-device)",
        )),
        n => Err(Failure::new(
            OTHER,
            format!("{n} USB serial ports found: pass --port with one of them"),
        )
        .details(usb.iter().map(PortInfo::describe).collect())),
    }
}

/// When the first bytes left for the device.
#[derive(Default)]
pub struct Marks {
    push_armed: std::sync::atomic::AtomicBool,
    first_byte: OnceLock<Duration>,
    first_push_byte: OnceLock<Duration>,
}

impl Marks {
    /// From now on the next byte sent is the push's first.
    pub fn arm_push(&self) {
        self.push_armed
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Time from `host-push` start to the first byte sent (the handshake).
    pub fn first_byte(&self) -> Option<Duration> {
        self.first_byte.get().copied()
    }

    /// Time from `host-push` start to the first byte of the push (its `PushBegin` frame).
    pub fn first_push_byte(&self) -> Option<Duration> {
        self.first_push_byte.get().copied()
    }
}

/// A link that notes when bytes first leave.
struct TimedLink {
    inner: Box<dyn Link>,
    marks: Arc<Marks>,
}

impl Link for TimedLink {
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        let r = self.inner.send(bytes);
        let t = output::since_start();
        let _ = self.marks.first_byte.set(t);
        if self
            .marks
            .push_armed
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            let _ = self.marks.first_push_byte.set(t);
        }
        r
    }

    fn recv(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        self.inner.recv(buf, timeout)
    }

    fn discard_input(&mut self) {
        self.inner.discard_input();
    }
}

/// A device that answered `Hello`.
pub struct Connection {
    /// The client.
    pub client: Client,
    /// The port it answered on.
    pub port: String,
    /// Its `Hello` answer.
    pub info: DeviceInfo,
    /// When bytes first left.
    pub marks: Arc<Marks>,
}

/// Opens the port, says `Hello`, and shows the device's log lines on stderr from then on.
pub fn connect(args: &DeviceArgs) -> Result<Connection, Failure> {
    connect_with(args, output::device_line)
}

/// [`connect`] with `on_log` receiving the device's log lines from the first (the `Hello`
/// answer may be preceded by lines the device kept for the first host, such as its boot report).
pub fn connect_with(
    args: &DeviceArgs,
    on_log: impl FnMut(&str) + Send + 'static,
) -> Result<Connection, Failure> {
    let port = resolve_port(args)?;
    let opts = OpenOptions {
        baud: args.baud,
        ..OpenOptions::default()
    };
    let link = open(&port, &opts).map_err(|e| Failure::client(e, "connect"))?;
    let marks = Arc::new(Marks::default());
    let mut client = Client::new(
        Box::new(TimedLink {
            inner: link,
            marks: marks.clone(),
        }),
        &port,
    );
    client.set_log_handler(on_log);
    let info = client.hello().map_err(|e| Failure::client(e, "connect"))?;
    Ok(Connection {
        client,
        port,
        info,
        marks,
    })
}

/// `name (arch, float ABI)` of a device.
pub fn describe(info: &DeviceInfo) -> String {
    match &info.float_abi {
        Some(f) => format!("{} ({}, {f}-float)", info.name, info.arch),
        None => format!("{} ({})", info.name, info.arch),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(name: &str, usb: bool) -> PortInfo {
        PortInfo {
            name: name.into(),
            kind: if usb { "usb" } else { "unknown" },
            vid: usb.then_some(0x2e8a),
            pid: usb.then_some(0x000a),
            serial_number: None,
            manufacturer: None,
            product: Some("Pico".into()),
        }
    }

    #[test]
    fn the_only_usb_port_is_chosen_and_others_are_ignored() {
        let p = only_usb(vec![port("/dev/ttyS0", false), port("/dev/ttyACM0", true)]).unwrap();
        assert_eq!(p.name, "/dev/ttyACM0");
    }

    #[test]
    fn no_usb_port_or_several_is_an_error_that_says_to_pass_port() {
        let none = only_usb(vec![port("/dev/ttyS0", false)]).unwrap_err();
        assert_eq!(none.code, UNREACHABLE);
        assert!(none.hint.unwrap().contains("--port"));
        let two =
            only_usb(vec![port("/dev/ttyACM0", true), port("/dev/ttyACM1", true)]).unwrap_err();
        assert!(two.message.contains("--port"));
        assert_eq!(two.details.len(), 2);
        assert!(two.details[1].contains("/dev/ttyACM1 ") && two.details[1].contains("2e8a:000a"));
    }
}
