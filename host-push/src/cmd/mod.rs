//! The command line: one module per subcommand. `host-push EXT` with no subcommand is a push.

mod build;
mod call;
mod check;
mod confirm;
mod gdb;
mod install;
mod keygen;
mod link;
mod list;
mod monitor;
mod pack;
mod ports;
mod prepare;
mod push;
mod remove;
mod rollback;
mod run;
mod sign;
mod status;
mod unload;

use clap::{Parser, Subcommand};

use crate::exit;

/// Push ELF extensions to llext-loader devices and run them; manage what is loaded; pack, check
/// and link extensions on the PC.
///
/// `host-push EXT --port PORT [--call SYM]` packs EXT, checks it against the device's exports and
/// architecture (every problem listed before a byte is sent), pushes it with a progress bar,
/// loads it and calls SYM. PORT is a serial device (/dev/ttyACM0, /dev/pts/3) or tcp:HOST:PORT;
/// without --port the only USB serial port is used.
#[derive(Debug, Parser)]
#[command(
    name = "host-push",
    version,
    about,
    long_about,
    after_help = exit::HELP,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    push: push::PushArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Push an extension, load it and optionally call it (the default: `host-push EXT`)
    Push(push::PushArgs),
    /// Show the device and its loaded extensions (state, regions, sizes, dependencies)
    Status(status::StatusArgs),
    /// Call `int SYM(void)` in a loaded extension and print `SYM = VALUE`
    Call(call::CallArgs),
    /// Unload an extension
    Unload(unload::UnloadArgs),
    /// Install an extension into the device's flash (resumes an install cut off)
    Install(install::InstallArgs),
    /// List the extensions installed in flash and loaded, with versions, states and the boot report
    List(list::ListArgs),
    /// Remove an extension from the device's flash
    Remove(remove::RemoveArgs),
    /// Confirm the active version of an installed extension
    Confirm(confirm::ConfirmArgs),
    /// Go back to the previous version of an installed extension
    Rollback(rollback::RollbackArgs),
    /// List every problem that would stop an extension loading (against a device or a file)
    Check(check::CheckArgs),
    /// Write a GDB script adding a loaded extension's symbols where its sections were placed
    Gdb(gdb::GdbArgs),
    /// Print the device's log lines until Ctrl-C
    Monitor(monitor::MonitorArgs),
    /// List serial ports with USB VID:PID
    Ports(ports::PortsArgs),
    /// Rewrite an ELF object into stream order
    Pack(pack::PackArgs),
    /// Link an extension at an address, as a device would, and write the images
    Link(link::LinkArgs),
    /// Build a Rust extension crate into one relocatable object (its path: the last line)
    Build(build::BuildArgs),
    /// Make an Ed25519 signing key and print its public key (PEM and a Rust array)
    Keygen(keygen::KeygenArgs),
    /// Pack and sign an extension with an Ed25519 key
    Sign(sign::SignArgs),
    /// Build a Rust extension, push it in place of the running one, call its entry (`cargo run`)
    Run(run::RunArgs),
}

impl Cli {
    /// Whether the chosen command prints JSON (errors are then JSON too).
    pub fn json(&self) -> bool {
        match &self.command {
            None => self.push.json,
            Some(Command::Push(a)) => a.json,
            Some(Command::Status(a)) => a.json,
            Some(Command::Call(a)) => a.json,
            Some(Command::Unload(a)) => a.json,
            Some(Command::Install(a)) => a.json,
            Some(Command::List(a)) => a.json,
            Some(Command::Remove(a)) => a.json,
            Some(Command::Confirm(a)) => a.json,
            Some(Command::Rollback(a)) => a.json,
            Some(Command::Check(a)) => a.json,
            Some(Command::Gdb(a)) => a.json,
            Some(Command::Monitor(a)) => a.json,
            Some(Command::Ports(a)) => a.json,
            Some(Command::Pack(a)) => a.json,
            Some(Command::Link(a)) => a.json,
            Some(Command::Build(a)) => a.json,
            Some(Command::Keygen(a)) => a.json,
            Some(Command::Sign(a)) => a.json,
            Some(Command::Run(a)) => a.json,
        }
    }

    /// Runs the chosen command.
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            None => push::run(&self.push),
            Some(Command::Push(args)) => push::run(&args),
            Some(Command::Status(args)) => status::run(&args),
            Some(Command::Call(args)) => call::run(&args),
            Some(Command::Unload(args)) => unload::run(&args),
            Some(Command::Install(args)) => install::run(&args),
            Some(Command::List(args)) => list::run(&args),
            Some(Command::Remove(args)) => remove::run(&args),
            Some(Command::Confirm(args)) => confirm::run(&args),
            Some(Command::Rollback(args)) => rollback::run(&args),
            Some(Command::Check(args)) => check::run(&args),
            Some(Command::Gdb(args)) => gdb::run(&args),
            Some(Command::Monitor(args)) => monitor::run(&args),
            Some(Command::Ports(args)) => ports::run(&args),
            Some(Command::Pack(args)) => pack::run(&args),
            Some(Command::Link(args)) => link::run(&args),
            Some(Command::Build(args)) => build::run(&args),
            Some(Command::Keygen(args)) => keygen::run(&args),
            Some(Command::Sign(args)) => sign::run(&args),
            Some(Command::Run(args)) => run::run(&args),
        }
    }
}
