//! `host-push call NAME SYM`: run `int SYM(void)` in a loaded extension, print `SYM = VALUE`.

use anyhow::Result;
use clap::Args;
use serde_json::json;

use crate::device::{self, DeviceArgs};
use crate::exit::Failure;
use crate::output;

/// Call `int SYM(void)` in a loaded extension and print `SYM = VALUE`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The extension's name on the device
    name: String,
    /// The function to call
    sym: String,
    #[command(flatten)]
    device: DeviceArgs,
    /// Print one JSON object on stdout
    #[arg(long)]
    pub json: bool,
}

/// Runs `host-push call`.
pub fn run(args: &CallArgs) -> Result<()> {
    let mut conn = device::connect(&args.device)?;
    let value = conn
        .client
        .call(&args.name, &args.sym)
        .map_err(|e| Failure::client(e, &format!("call {} {}", args.name, args.sym)))?;
    if args.json {
        output::json(&json!({
            "ok": true,
            "extension": args.name,
            "symbol": args.sym,
            "value": value,
            "log": output::device_lines(),
        }));
    } else {
        println!("{} = {value}", args.sym);
    }
    Ok(())
}
