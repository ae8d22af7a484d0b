//! `host-push unload NAME`: run the extension's destructors and free it.

use anyhow::Result;
use clap::Args;
use serde_json::json;

use crate::device::{self, DeviceArgs};
use crate::exit::Failure;
use crate::output;

/// Unload an extension (its destructors run; refused while another extension uses it).
#[derive(Debug, Args)]
pub struct UnloadArgs {
    /// The extension's name on the device
    name: String,
    #[command(flatten)]
    device: DeviceArgs,
    /// Print one JSON object on stdout
    #[arg(long)]
    pub json: bool,
}

/// Runs `host-push unload`.
pub fn run(args: &UnloadArgs) -> Result<()> {
    let mut conn = device::connect(&args.device)?;
    let left = conn
        .client
        .unload(&args.name)
        .map_err(|e| Failure::client(e, &format!("unload {}", args.name)))?;
    if args.json {
        output::json(&json!({
            "ok": true,
            "name": args.name,
            "use_count": left,
            "log": output::device_lines(),
        }));
    } else if left == 0 {
        println!("unloaded {}", args.name);
    } else {
        println!("{}: {left} load(s) left", args.name);
    }
    Ok(())
}
