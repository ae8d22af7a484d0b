//! `host-push`: push, pack, check and link ELF extensions for llext-loader devices.

mod cmd;
mod elfinfo;
mod exports;

use clap::Parser;

fn main() -> std::process::ExitCode {
    match cmd::Cli::parse().run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if e.is::<cmd::Quiet>() => std::process::ExitCode::FAILURE,
        Err(e) => {
            // One line with the whole cause chain, e.g.
            // "error: cannot pack a.o: section 7 (.rela.text): ...", never a backtrace.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
