//! `host-push remove NAME`: remove an extension from the device's flash.

use anyhow::Result;
use clap::Args;
use serde_json::json;

use crate::device::{self, DeviceArgs};
use crate::exit::Failure;
use crate::output;

/// Remove an installed extension from the device's flash (both its versions; a loaded copy
/// stays loaded until unloaded or the device restarts).
#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The extension's name on the device
    name: String,
    #[command(flatten)]
    device: DeviceArgs,
    /// Print one JSON object on stdout
    #[arg(long)]
    pub json: bool,
}

/// Runs `host-push remove`.
pub fn run(args: &RemoveArgs) -> Result<()> {
    let mut conn = device::connect(&args.device)?;
    conn.client
        .remove(&args.name)
        .map_err(|e| Failure::client(e, &format!("remove {}", args.name)))?;
    if args.json {
        output::json(&json!({"ok": true, "name": args.name, "log": output::device_lines()}));
    } else {
        println!("removed {} from flash", args.name);
    }
    Ok(())
}
