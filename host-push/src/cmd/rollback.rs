//! `host-push rollback NAME`: go back to the previous version of an installed extension.

use anyhow::Result;
use clap::Args;
use serde_json::json;

use super::list;
use crate::device::{self, DeviceArgs};
use crate::exit::Failure;
use crate::output;

/// Make the previous version of an installed extension active again (it loads from the next
/// boot; the newer version's slot is freed).
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The extension's name on the device
    name: String,
    #[command(flatten)]
    device: DeviceArgs,
    /// Print one JSON object on stdout
    #[arg(long)]
    pub json: bool,
}

/// Runs `host-push rollback`.
pub fn run(args: &RollbackArgs) -> Result<()> {
    let mut conn = device::connect(&args.device)?;
    let e = conn
        .client
        .rollback(&args.name)
        .map_err(|e| Failure::client(e, &format!("rollback {}", args.name)))?;
    if args.json {
        output::json(&json!({"ok": true, "extension": e, "log": output::device_lines()}));
    } else {
        println!("{}", list::describe(&e));
        if e.loaded {
            eprintln!(
                "note: the loaded copy keeps running until the device restarts (or unload it)"
            );
        }
    }
    Ok(())
}
