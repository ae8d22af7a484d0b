//! `host-push confirm NAME`: keep the active version of an installed extension.

use anyhow::Result;
use clap::Args;
use serde_json::json;

use super::list;
use crate::device::{self, DeviceArgs};
use crate::exit::Failure;
use crate::output;

/// Confirm the active version of an installed extension, so later boots keep it (a boot also
/// confirms a version whose trial succeeds).
#[derive(Debug, Args)]
pub struct ConfirmArgs {
    /// The extension's name on the device
    name: String,
    #[command(flatten)]
    device: DeviceArgs,
    /// Print one JSON object on stdout
    #[arg(long)]
    pub json: bool,
}

/// Runs `host-push confirm`.
pub fn run(args: &ConfirmArgs) -> Result<()> {
    let mut conn = device::connect(&args.device)?;
    let e = conn
        .client
        .confirm(&args.name)
        .map_err(|e| Failure::client(e, &format!("confirm {}", args.name)))?;
    if args.json {
        output::json(&json!({"ok": true, "extension": e, "log": output::device_lines()}));
    } else {
        println!("{}", list::describe(&e));
    }
    Ok(())
}
