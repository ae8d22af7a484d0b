//! `host-push monitor`: print the device's log lines until Ctrl-C or until the device goes away.

use std::time::Duration;

use anyhow::Result;
use clap::Args;
use serde_json::json;

use crate::device::{self, DeviceArgs};
use crate::exit::{Failure, UNREACHABLE};
use crate::output;

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
            println!("{line}");
        }
    });
    eprintln!(
        "monitoring {} on {} (Ctrl-C to stop)",
        device::describe(&conn.info),
        conn.port
    );
    loop {
        if let Err(e) = conn.client.poll_logs(Duration::from_millis(500)) {
            let f = Failure::client(e, "monitor");
            return Err(Failure::new(
                UNREACHABLE,
                format!("the device on {} went away ({})", conn.port, f.message),
            )
            .into());
        }
    }
}
