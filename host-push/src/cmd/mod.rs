//! The command line: one module per subcommand.

mod check;
mod link;
mod pack;

use clap::{Parser, Subcommand};

/// Push, pack, check and link ELF extensions for llext-loader devices.
#[derive(Debug, Parser)]
#[command(name = "host-push", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Rewrite an ELF object into stream order.
    Pack(pack::PackArgs),
    /// List every problem that would stop an extension loading on a device.
    Check(check::CheckArgs),
    /// Link an extension at an address, as a device would, and write the images.
    Link(link::LinkArgs),
}

/// An error already reported to the user: exit non-zero without printing more.
#[derive(Debug)]
pub struct Quiet;

impl std::fmt::Display for Quiet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("problems found")
    }
}

impl std::error::Error for Quiet {}

impl Cli {
    /// Runs the chosen subcommand.
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Pack(args) => pack::run(&args),
            Command::Check(args) => check::run(&args),
            Command::Link(args) => link::run(&args),
        }
    }
}
