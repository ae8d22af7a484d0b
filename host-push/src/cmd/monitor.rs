//! `host-push monitor`: print the device's log lines until Ctrl-C or until the device goes away.

use std::time::{Duration, Instant};

use anyhow::Result;
use clap::Args;
use serde_json::json;

use crate::device::{self, DeviceArgs};
use crate::exit::{Failure, UNREACHABLE};
use crate::output;

/// How often the monitor asks for the device's status to keep its link from going idle.
const KEEP_ALIVE: Duration = Duration::from_secs(5);

/// Print the device's log lines until Ctrl-C or until the device goes away.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    #[command(flatten)]
    device: DeviceArgs,
    /// One JSON object per line on stdout (`{"line": ...}`)
    #[arg(long)]
    pub json: bool,
}

/// Runs `host-push monitor`.
pub fn run(args: &MonitorArgs) -> Result<()> {
    let mut conn = device::connect(&args.device)?;
    let json = args.json;
    conn.client.set_log_handler(move |line| {
        if json {
            output::json(&json!({"line": line}));
        } else {
            println!("{}", output::printable(line));
        }
    });
    eprintln!(
        "monitoring {} on {} (Ctrl-C to stop)",
        device::describe(&conn.info),
        conn.port
    );
    let mut pinged = Instant::now();
    loop {
        let mut polled = conn.client.poll_logs(Duration::from_millis(500));
        // A device ends links that send no request for its idle timeout (30 s by default):
        // ask for its status now and then to stay connected.
        if polled.is_ok() && pinged.elapsed() >= KEEP_ALIVE {
            polled = conn.client.status().map(|_| ());
            pinged = Instant::now();
        }
        if let Err(e) = polled {
            let f = Failure::client(e, "monitor");
            return Err(Failure::new(
                UNREACHABLE,
                format!("the device on {} went away ({})", conn.port, f.message),
            )
            .into());
        }
    }
}
