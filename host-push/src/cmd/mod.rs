//! The command line: one module per subcommand.

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
    Pack(pack::PackArgs),
}

impl Cli {
    /// Runs the chosen subcommand.
    pub fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Pack(args) => pack::run(&args),
        }
    }
}
