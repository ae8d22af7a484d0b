//! `host-push`: push ELF extensions to llext-loader devices and manage them; pack, check and link
//! extensions on the PC. Exit codes: see `exit.rs` (and `host-push --help`).

mod bootfault;
mod cmd;
mod device;
mod elfinfo;
mod exit;
mod exports;
mod faultreport;
mod fingerprint;
mod kept;
mod logfaults;
mod output;
mod placed;
mod rustext;
mod symbolize;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    output::mark_start();
    let cli = match cmd::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::OTHER
            } else {
                exit::OK
            });
        }
    };
    let json = cli.json();
    match cli.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(exit::report(&e, json)),
    }
}
