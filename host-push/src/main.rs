//! `host-push`: push, pack, check and link ELF extensions for llext-loader devices.

mod cmd;

use clap::Parser;

fn main() -> anyhow::Result<()> {
    cmd::Cli::parse().run()
}
