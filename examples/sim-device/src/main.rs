//! `sim-device`: the device stack (the same protocol server and loader a firmware runs) on a PC.
//!
//! `sim-device [--listen tcp:HOST:PORT|pty] [--flash FILE]` prints `listening on ADDRESS` once
//! ready and serves clients one after another; extensions are x86-64 objects that run in this
//! process. With `--flash`, installs go into FILE and what is marked for boot loads at start
//! (the boot report is printed before `listening on`).

mod api;
mod budget;
mod exports;
mod flash;
mod guard;
mod inplace;
mod log;
mod trust;

use std::io::{self, Write as _};
use std::net::{Shutdown, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use futures::executor::block_on;
use llext_loader::memory::{Counting, HostProvider};
use llext_transports::host_io::thread_link;
use llext_transports::server::{Config, DEFAULT_FRAME, Device, DeviceInfo, ExtStore, NoStore};

use crate::budget::Budget;
use crate::log::SimLogs;

/// Run the llext device stack on this PC and serve host-push over TCP or a pseudo-terminal.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Where to listen: `tcp:HOST:PORT` (port 0 picks a free one) or `pty`.
    #[arg(long, default_value = "tcp:127.0.0.1:0")]
    listen: String,
    /// The device name reported to hosts.
    #[arg(long, default_value = "sim-device")]
    name: String,
    /// Extension memory, in bytes.
    #[arg(long, default_value_t = 16 << 20)]
    memory: usize,
    /// A push with no data for this many milliseconds is dropped (at least 1).
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    push_timeout_ms: u64,
    /// A host that sends no request for this many milliseconds is disconnected, so the next
    /// one can connect (clients are served one at a time; at least 1).
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout_ms: u64,
    /// Push bytes a host may have in flight.
    #[arg(long, default_value_t = 8192)]
    window: u32,
    /// Keep installed extensions in FILE, a simulated 2 MiB NOR flash (created erased on first
    /// use; 4 KiB pages, a 128 KiB catalog and fifteen 128 KiB slots), and load those marked
    /// for boot at start. The file is also mapped executable at 0x600000000000, with 8 MiB of
    /// RAM at 0x600040000000 for the data of extensions installed in place (`install --xip`)
    #[arg(long, value_name = "FILE")]
    flash: Option<PathBuf>,
    /// Trust extensions signed by this Ed25519 public key (PEM, as `host-push keygen --public`
    /// or `imgtool getpub -e pem` writes; repeatable, for key rotation)
    #[arg(long, value_name = "PUB.pem")]
    trust: Vec<PathBuf>,
    /// Refuse unsigned pushes and installs (production); without it they are accepted
    #[arg(long)]
    require_signed: bool,
    /// Let an install replace a signed version with an older one
    #[arg(long)]
    allow_rollback: bool,
    /// Do not check signatures again when loading installed extensions at boot
    #[arg(long)]
    no_boot_verify: bool,
    /// Print connections and device log lines on standard error.
    #[arg(long, short)]
    verbose: bool,
}

type Sim<S> = Device<Counting<Budget<HostProvider>>, SimLogs, 32, DEFAULT_FRAME, S>;

fn main() -> ExitCode {
    let args = Args::parse();
    if args.flash.is_some() {
        inplace::fixed_addresses();
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sim-device: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> io::Result<()> {
    let name: &'static str = Box::leak(args.name.clone().into_boxed_str());
    api::start(name);
    let info = DeviceInfo {
        name,
        float_abi: None,
        exports: exports::EXPORTS,
    };
    let config = Config {
        window: args.window,
        push_timeout: embassy_time::Duration::from_millis(args.push_timeout_ms),
        idle_timeout: embassy_time::Duration::from_millis(args.idle_timeout_ms),
        trust: trust::policy(
            &args.trust,
            args.require_signed,
            args.allow_rollback,
            !args.no_boot_verify,
        )?,
        guard: Some(guard::GUARD),
        ..Config::default()
    };
    if !args.trust.is_empty() || args.require_signed {
        println!("{}", trust::describe(&config.trust));
    }
    let memory = Counting::new(Budget::new(HostProvider::new(), args.memory));
    match &args.flash {
        None => {
            let mut device: Sim<NoStore> = Device::new(memory, info, config, SimLogs);
            listen(&mut device, args)
        }
        Some(path) => {
            let store = flash::open(path)?;
            let mut device: Sim<flash::SimFlash> =
                Device::with_store(memory, info, config, SimLogs, store);
            let booted = block_on(device.boot());
            let mut out = io::stdout().lock();
            let lines = flash::report_lines(device.store());
            for line in &lines {
                writeln!(out, "{line}")?;
            }
            if device.store().boot_event(0).is_some() {
                // Also to the first host that connects, as `[device] boot: ...`.
                lines.iter().for_each(|l| log::line(l));
            }
            if let Err(e) = booted {
                writeln!(out, "boot: stopped: {e}")?;
            }
            drop(out);
            listen(&mut device, args)
        }
    }
}

fn listen<S: ExtStore>(device: &mut Sim<S>, args: &Args) -> io::Result<()> {
    match args.listen.as_str() {
        "pty" => serve_pty(device, args.verbose),
        l => match l.strip_prefix("tcp:") {
            Some(addr) => serve_tcp(device, addr, args.verbose),
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("--listen {l}: expected tcp:HOST:PORT or pty"),
            )),
        },
    }
}

fn ready(address: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "listening on {address}")?;
    out.flush()
}

fn serve_tcp<S: ExtStore>(device: &mut Sim<S>, addr: &str, verbose: bool) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    ready(&format!("tcp:{}", listener.local_addr()?))?;
    for conn in listener.incoming() {
        let stream = match conn {
            Ok(s) => s,
            Err(e) => {
                eprintln!("sim-device: accept: {e}");
                continue;
            }
        };
        let peer = stream.peer_addr().ok();
        let _ = stream.set_nodelay(true);
        let link = thread_link(stream.try_clone()?, stream.try_clone()?, 4096, 16);
        if verbose {
            eprintln!("sim-device: client {peer:?} connected");
        }
        let end = block_on(device.serve(link));
        let _ = stream.shutdown(Shutdown::Both);
        if verbose {
            eprintln!("sim-device: client {peer:?} gone ({end})");
        }
    }
    Ok(())
}

fn serve_pty<S: ExtStore>(device: &mut Sim<S>, verbose: bool) -> io::Result<()> {
    let (mut master, slave) = serialport::TTYPort::pair().map_err(io::Error::from)?;
    let path = serialport::SerialPort::name(&slave)
        .ok_or_else(|| io::Error::other("the pty has no name"))?;
    // Only clients hold the slave open, so each one gets the terminal to itself.
    drop(slave);
    serialport::SerialPort::set_timeout(&mut master, Duration::from_secs(2))
        .map_err(io::Error::from)?;
    let reader = master.try_clone_native().map_err(io::Error::from)?;
    let mut link = thread_link(WaitForClient(reader), master, 4096, 16);
    ready(&path)?;
    loop {
        let end = block_on(device.serve(&mut link));
        if verbose {
            eprintln!("sim-device: link ended ({end}); serving again");
        }
    }
}

/// Reads the pty master; while no client has the terminal open (reads fail with `EIO`) or
/// nothing arrives, waits instead of ending.
struct WaitForClient<R>(R);

impl<R: io::Read> io::Read for WaitForClient<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.0.read(buf) {
                Ok(0) => std::thread::sleep(Duration::from_millis(20)),
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::TimedOut => {}
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}
